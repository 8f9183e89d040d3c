import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, withoutWrites } from '../helpers/api-assertions.js';
import { ENGINES, type EngineName } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const EXPECTED_CSP =
  "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:;font-src 'self';connect-src 'self';object-src 'none';base-uri 'self';form-action 'self';frame-ancestors 'none'";

/** Every object schema inside a JSON schema that lets unknown properties through. */
function openObjects(schema: Json, doc: Json, path = 'body', seen = new Set<Json>()): string[] {
  if (!schema || typeof schema !== 'object' || seen.has(schema)) return [];
  seen.add(schema);
  if (schema.$ref) return openObjects(doc.components.schemas[schema.$ref.split('/').pop()], doc, path, seen);
  const found: string[] = [];
  if (schema.type === 'object' && schema.properties && schema.additionalProperties !== false) found.push(path);
  for (const [k, v] of Object.entries<Json>(schema.properties ?? {})) found.push(...openObjects(v, doc, `${path}.${k}`, seen));
  for (const key of ['items', 'additionalProperties'] as const)
    if (typeof schema[key] === 'object') found.push(...openObjects(schema[key], doc, `${path}[]`, seen));
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const)
    for (const s of schema[key] ?? []) found.push(...openObjects(s, doc, path, seen));
  return found;
}

describe.each(ENGINES)('request hygiene on %s', (engine: EngineName) => {
  let t: TestServer;
  let admin: TestUser;
  let requester: TestUser;
  let doc: Json;
  let incidentId: number;

  beforeAll(async () => {
    t = await startServer(engine);
    admin = await t.user('admin');
    requester = await t.user('requester');
    doc = (await t.api('GET', '/api/openapi.json')).body;
    const res = await t.api('POST', '/api/v1/incidents', {
      as: requester,
      body: { title: 'Mail down', description: '', category: 'network-downtime', impact: 2, urgency: 2 },
    });
    incidentId = res.body.id;
  });
  afterAll(async () => t?.close());

  /** Routes whose body is a whole document answer with their own error code. */
  const ERROR_CODE: Record<string, string> = {
    '/api/v1/matrix': 'invalid_matrix',
    '/api/v1/matrix/import': 'invalid_matrix',
    '/api/v1/simulations': 'invalid_simulation',
  };

  const bodyRoutes = () =>
    Object.entries<Json>(doc.paths).flatMap(([path, methods]) =>
      Object.entries<Json>(methods)
        .filter(([, op]) => op.requestBody)
        // Monitoring tools' own formats (Alertmanager, Events API v2) grow fields over time; they are read, never mass-assigned.
        .filter(() => !path.startsWith('/api/v1/intake/'))
        .map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
    );

  it('documents every request body as closed: no object schema admits unknown fields', () => {
    const routes = bodyRoutes();
    expect(routes.length).toBeGreaterThan(10);
    for (const { method, path, op } of routes) {
      const schema = op.requestBody.content['application/json'].schema;
      expect(openObjects(schema, doc), `${method} ${path}`).toEqual([]);
    }
  });

  it('refuses an unknown field on every route with a body, naming it, and writes nothing', async () => {
    for (const { method, path, op } of bodyRoutes()) {
      const url = path.replace('{id}', String(incidentId)).replace('{index}', '0').replace('{key}', 'gdpr-art33');
      // A list body (a team's members) gets the stray field in its item.
      const body = op.requestBody.content['application/json']?.schema?.type === 'array' ? [{ isAdmin: true }] : { isAdmin: true };
      const res = await withoutWrites(t, () => t.api(method, url, { as: admin, body }), incidentId);
      const error = expectError(res, 400, ERROR_CODE[url] ?? 'validation_failed');
      // A matrix file is checked whole: it names what is missing rather than the stray field.
      if (url !== '/api/v1/matrix/import') expect(JSON.stringify(error), `${method} ${url}`).toContain('isAdmin');
    }
  });

  it('takes no role, tier, priority, requester or due date from a creation body', async () => {
    const base = { title: 'Disk full', description: '', category: 'network-downtime', impact: 3, urgency: 3 };
    for (const extra of [
      { tier: 'L3' },
      { priority: 'P1' },
      { status: 'closed' },
      { dueAt: '2030-01-01T00:00:00Z' },
      { assigneeId: admin.id },
    ]) {
      const res = await withoutWrites(t, () =>
        t.api('POST', '/api/v1/incidents', { as: requester, body: { ...base, ...extra } }),
      );
      const error = expectError(res, 400, 'validation_failed');
      const field = Object.keys(extra)[0]!;
      expect(error.details).toContainEqual({ path: `body.${field}`, message: 'unknown field' });
      expect(error.message).toContain(`body.${field}`);
    }
    // A requester may not open an incident in someone else's name (the field exists for staff).
    const other = await t.user('requester');
    const res = await withoutWrites(t, () =>
      t.api('POST', '/api/v1/incidents', { as: requester, body: { ...base, requesterId: other.id } }),
    );
    expectError(res, 403, 'forbidden');
    // Nor can a new user be made with a chosen id, a disabled flag or a password hash.
    for (const extra of [{ id: 1 }, { disabled: false }, { passwordHash: 'x' }]) {
      const r = await withoutWrites(t, () =>
        t.api('POST', '/api/v1/users', {
          as: admin,
          body: { email: `x${Object.keys(extra)[0]}@example.test`, role: 'requester', ...extra },
        }),
      );
      expect(expectError(r, 400, 'validation_failed').details).toContainEqual({
        path: `body.${Object.keys(extra)[0]}`,
        message: 'unknown field',
      });
    }
  });

  it('sorts and filters the incident list only by allowed fields and keys', async () => {
    const ok = await t.api('GET', '/api/v1/incidents?tier=L1,L2&category=network-downtime&sort=-created_at', { as: admin });
    expect(ok.status).toBe(200);
    expect(ok.body.items.map((i: Json) => i.id)).toContain(incidentId);
    for (const q of [
      'sort=title',
      'sort=priority;drop table users',
      'orderBy=title',
      'tier=L1%27%20OR%201%3D1',
      'category=a%20b',
      'status=deleted',
      'priority=P9',
      'requester_id=1',
    ]) {
      const res = await t.api('GET', `/api/v1/incidents?${q}`, { as: admin });
      expectError(res, 400, 'validation_failed');
    }
  });

  it('sends security headers and a strict Content-Security-Policy on every response', async () => {
    for (const res of [
      await t.api('GET', '/healthz'),
      await t.api('GET', '/api/v1/matrix', { as: admin }),
      await t.api('GET', '/nowhere'),
      await t.api('GET', '/api/v1/incidents?text=%00', { as: admin }),
      await t.api('GET', '/api/v1/matrix'),
    ]) {
      expect(res.headers.get('content-security-policy')).toBe(EXPECTED_CSP);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(res.headers.get('x-powered-by')).toBeNull();
      // Plain http: HSTS would be wrong (and is only sent with PALIER_HTTPS=on).
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
  });

  it('refuses an oversized header block with 431', async () => {
    const status = await new Promise<number>((done, fail) => {
      const url = new URL(`${t.url}/healthz`);
      const req = httpRequest(
        { host: url.hostname, port: url.port, path: url.pathname, headers: { 'x-padding': 'a'.repeat(20_000) } },
        (res) => {
          res.resume();
          done(res.statusCode ?? 0);
        },
      );
      req.on('error', fail);
      req.end();
    });
    expect(status).toBe(431);
    expect((await t.api('GET', '/healthz', { headers: { 'x-padding': 'a'.repeat(4_000) } })).status).toBe(200);
  });
});

describe('behind https', () => {
  it('sends HSTS and upgrade-insecure-requests when PALIER_HTTPS is on', async () => {
    const t = await startServer('sqlite', { config: { https: true } });
    try {
      const res = await t.api('GET', '/healthz');
      expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      expect(res.headers.get('content-security-policy')).toBe(`${EXPECTED_CSP};upgrade-insecure-requests`);
    } finally {
      await t.close();
    }
  });
});
