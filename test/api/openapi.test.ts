import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer } from '../helpers/server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** The contract paths of DESIGN.md, with the methods each must document. */
const CONTRACT: Record<string, string[]> = {
  '/healthz': ['get'],
  '/api/v1/auth/token': ['post'],
  '/api/v1/matrix': ['get', 'put'],
  '/api/v1/incidents': ['get', 'post'],
  '/api/v1/incidents/{id}': ['get'],
  '/api/v1/incidents/{id}/acknowledge': ['post'],
  '/api/v1/incidents/{id}/escalate': ['post'],
  '/api/v1/incidents/{id}/resolve': ['post'],
  '/api/v1/incidents/{id}/reopen': ['post'],
  '/api/v1/incidents/{id}/comments': ['post'],
};

/** Routes only the server knows about on purpose: the document does not describe itself. */
const UNDOCUMENTED = new Set(['/api/openapi.json']);
/** The browser app's files and pages (src/http/static.ts) are not part of the API. */
const isWebApp = (path: string) => !path.startsWith('/api/') && path !== '/healthz';

/**
 * Every route Fastify registered, from `printRoutes({ commonPrefix: false })`: one line per path
 * segment, indented four characters per level, with its methods in parentheses.
 */
function registeredRoutes(tree: string): Map<string, Set<string>> {
  const routes = new Map<string, Set<string>>();
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('');
    if (!m[3]) continue;
    const methods = m[3]
      .split(',')
      .map((x) => x.trim().toLowerCase())
      .filter((x) => x !== 'head');
    // Fastify path parameters (":id") are OpenAPI templates ("{id}").
    const openapiPath = path.replace(/:(\w+)/g, '{$1}');
    routes.set(openapiPath, new Set([...(routes.get(openapiPath) ?? []), ...methods]));
  }
  return routes;
}

function resolveRef(doc: Json, schema: Json): Json {
  let s = schema;
  while (s && typeof s.$ref === 'string') {
    const parts = (s.$ref as string).replace(/^#\//, '').split('/');
    s = parts.reduce((node: Json, key) => node?.[key], doc);
  }
  return s;
}

describe('the OpenAPI document', () => {
  let t: TestServer;
  let doc: Json;

  beforeAll(async () => {
    t = await startServer('sqlite');
    const res = await t.api('GET', '/api/openapi.json');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    doc = res.body;
  });
  afterAll(() => t?.close());

  it('is served without authentication as OpenAPI 3.1', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(typeof doc.paths).toBe('object');
  });

  it('documents every contract path of DESIGN.md with its methods', () => {
    for (const [path, methods] of Object.entries(CONTRACT)) {
      expect(doc.paths, path).toHaveProperty([path]);
      for (const method of methods) expect(doc.paths[path], `${method.toUpperCase()} ${path}`).toHaveProperty([method]);
    }
  });

  it('documents exactly the routes the server registered, method by method', () => {
    const routes = registeredRoutes(t.palier.server.printRoutes({ commonPrefix: false }));
    expect(routes.size).toBeGreaterThan(Object.keys(CONTRACT).length);
    for (const path of Object.keys(CONTRACT))
      expect([...routes.keys()], 'the route parser missed a contract path').toContain(path);

    const served = [...routes.entries()]
      .filter(([path]) => !UNDOCUMENTED.has(path) && !isWebApp(path))
      .flatMap(([path, methods]) => [...methods].map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, item]) =>
        Object.keys(item)
          .filter((k) => ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'].includes(k))
          .map((m) => `${m.toUpperCase()} ${path}`),
      )
      .sort();
    expect(documented).toEqual(served);
  });

  it('describes the body of POST /api/v1/incidents with title, description, category, impact and urgency', () => {
    const op = doc.paths['/api/v1/incidents'].post;
    const schema = resolveRef(doc, op.requestBody?.content?.['application/json']?.schema);
    expect(schema?.type).toBe('object');
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['title', 'description', 'category', 'impact', 'urgency']),
    );
    expect(schema.required).toEqual(expect.arrayContaining(['title', 'category', 'impact', 'urgency']));
    expect(resolveRef(doc, schema.properties.title).type).toBe('string');
  });

  it('documents the updatedAt a vendor change is made on, and the incidents in a vendor hands', () => {
    const patch = resolveRef(doc, doc.paths['/api/v1/vendors/{id}'].patch.requestBody?.content?.['application/json']?.schema);
    expect(Object.keys(patch.properties)).toEqual(expect.arrayContaining(['name', 'email', 'acknowledge', 'updatedAt']));
    expect(patch.properties.updatedAt.description).toMatch(/409 vendor_changed/);
    const detail = resolveRef(doc, doc.paths['/api/v1/vendors/{id}'].get.responses['200']?.content?.['application/json']?.schema);
    expect(Object.keys(detail.properties)).toEqual(expect.arrayContaining(['name', 'updatedAt', 'openEngagements']));
  });

  it('defines every schema it references', () => {
    const refs = new Set<string>();
    const walk = (node: Json) => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object')
        for (const [k, v] of Object.entries(node)) {
          if (k === '$ref' && typeof v === 'string') refs.add(v);
          else walk(v);
        }
    };
    walk(doc);
    expect(refs.size).toBeGreaterThan(0);
    const dangling = [...refs].filter((ref) => resolveRef(doc, { $ref: ref }) === undefined);
    expect(dangling).toEqual([]);
  });

  it('documents the error shape of the API', () => {
    const responses = doc.paths['/api/v1/incidents'].post.responses;
    const error = resolveRef(doc, responses['400']?.content?.['application/json']?.schema);
    expect(error?.properties?.error).toBeDefined();
    const inner = resolveRef(doc, error.properties.error);
    expect(Object.keys(inner.properties)).toEqual(expect.arrayContaining(['code', 'message']));
  });
});

describe.each(ENGINES)('GET /healthz on %s', (engine) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(engine);
  });
  afterAll(() => t?.close());

  it('answers 200 {"status":"ok"} without authentication', async () => {
    const res = await t.api('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual({ status: 'ok' });
  });
});
