import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChains } from '../../src/services/audit.service.js';
import { snapshot } from '../helpers/api-assertions.js';
import { ENGINES, type EngineName } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** Classic and engine-specific injection payloads, each sent as is in every list parameter. */
const PAYLOADS = [
  "' OR '1'='1",
  "' OR 1=1 --",
  '" OR ""="',
  '1 OR 1=1',
  '1; DROP TABLE incidents; --',
  "'); DROP TABLE users; --",
  "L1' UNION SELECT id, email, password_hash FROM users --",
  "' UNION SELECT NULL, sqlite_version() --",
  "1' AND pg_sleep(2) --",
  "'; SELECT pg_sleep(2); --",
  "x' || (SELECT token_hash FROM api_tokens LIMIT 1) || '",
  '%',
  '_',
  '\\',
  "%' --",
  '*/ OR /*',
  '$$; DROP TABLE incidents; $$',
  "E'\\x27 OR 1=1",
  'priority; DELETE FROM incidents',
  'created_at DESC, (SELECT 1)',
  'id)--',
  '\u2019 OR \u20181\u2019=\u20181', // typographic quotes
  'null\u0000byte',
  'a'.repeat(600),
];

const PARAMS = ['tier', 'status', 'category', 'priority', 'assignee', 'requester', 'text', 'sort', 'limit', 'offset'];

describe.each(ENGINES)('SQL injection through the incident list on %s', (engine: EngineName) => {
  let t: TestServer;
  let requester: TestUser;
  let other: TestUser;
  let agent: TestUser;
  let trap: number;

  beforeAll(async () => {
    t = await startServer(engine);
    requester = await t.user('requester');
    other = await t.user('requester');
    agent = await t.user('agent');
    const body = (title: string) => ({
      title,
      description: "Contient ' et % et _ et \\",
      category: 'network-downtime',
      impact: 2,
      urgency: 2,
    });
    trap = (await t.api('POST', '/api/v1/incidents', { as: requester, body: body("Titre avec ' OR '1'='1 dedans") })).body.id;
    await t.api('POST', '/api/v1/incidents', { as: requester, body: body('Écran noir') });
    await t.api('POST', '/api/v1/incidents', { as: other, body: body("Celui d'un autre") });
  });
  afterAll(async () => t?.close());

  it('answers every payload in every filter and sort with 200 or 400, never a 5xx, and leaves the data intact', async () => {
    const before = await snapshot(t);
    const outcomes: Record<string, number> = {};
    for (const param of PARAMS)
      for (const payload of PAYLOADS)
        for (const who of [requester, agent]) {
          const res = await t.api('GET', `/api/v1/incidents?${param}=${encodeURIComponent(payload)}`, { as: who });
          expect([200, 400], `${param}=${payload}: ${res.status} ${JSON.stringify(res.body)}`).toContain(res.status);
          if (payload.includes('\u0000')) expect(res.body.error?.code).toBe('invalid_character');
          if (res.status === 200 && param !== 'text')
            expect(payload, `${param} accepted a payload that is not a plain key`).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]*$/);
          outcomes[`${param} ${res.status}`] = (outcomes[`${param} ${res.status}`] ?? 0) + 1;
          if (res.status === 400) {
            expect(['validation_failed', 'invalid_character']).toContain(res.body.error.code);
            continue;
          }
          const items: Json[] = res.body.items;
          // Harmless: a requester still sees only their own; a text search matches the words literally.
          if (who === requester)
            expect(
              items.every((i) => i.requesterId === requester.id),
              `${param}=${payload}`,
            ).toBe(true);
          if (param === 'text')
            for (const i of items) expect(`${i.title} ${i.description}`.toLowerCase(), payload).toContain(payload.toLowerCase());
        }
    // Free text reaches SQL as a bound value; the other parameters refuse anything but their allowed forms.
    expect(outcomes['text 200']).toBe(PAYLOADS.length * 2 - 4); // all but the NUL one and the one over 200 characters
    for (const param of ['status', 'priority', 'assignee', 'requester', 'sort', 'limit', 'offset'])
      expect(outcomes[`${param} 200`] ?? 0, param).toBe(0);
    expect(await snapshot(t)).toEqual(before);
    expect((await verifyAuditChains(t.palier.services.store)).broken).toBeNull();
  }, 120_000);

  it('finds the incident whose title holds a payload, and only it', async () => {
    const res = await t.api('GET', `/api/v1/incidents?text=${encodeURIComponent("' OR '1'='1")}`, { as: agent });
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: Json) => i.id)).toEqual([trap]);
    const wild = await t.api('GET', `/api/v1/incidents?text=${encodeURIComponent('%')}`, { as: agent });
    expect(wild.body.items.length).toBe(3); // all three descriptions hold a literal %
    const none = await t.api('GET', `/api/v1/incidents?text=${encodeURIComponent('%%_x')}`, { as: agent });
    expect(none.body.items).toEqual([]);
  });

  it('refuses the NUL character in bodies too, on both engines alike, writing nothing', async () => {
    const before = await snapshot(t);
    for (const title of ['nul\u0000title', 'NUL\u0000']) {
      const res = await t.api('POST', '/api/v1/incidents', {
        as: requester,
        body: { title, description: '', category: 'network-downtime', impact: 2, urgency: 2 },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_character');
    }
    expect(await snapshot(t)).toEqual(before);
  });

  it('refuses payloads in path ids and unknown parameters', async () => {
    for (const path of [
      `/api/v1/incidents/${encodeURIComponent('1 OR 1=1')}`,
      `/api/v1/incidents/${encodeURIComponent("1'; DROP TABLE incidents; --")}`,
      `/api/v1/incidents/${trap}%20OR%201=1/timeline`,
      `/api/v1/incidents?${encodeURIComponent("1=1'--")}=x`,
      `/api/v1/incidents?order=${encodeURIComponent('(SELECT 1)')}`,
    ]) {
      const res = await t.api('GET', path, { as: agent });
      expect([400, 404], `${path}: ${res.status}`).toContain(res.status);
    }
    expect(await t.count('incidents')).toBe(3);
  });
});
