import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';

describe.each(ENGINES)('incidents created at the same moment on %s', (engine) => {
  let t: TestServer;
  let requester: TestUser;

  beforeAll(async () => {
    t = await startServer(engine);
    requester = await t.user('requester');
  });
  afterAll(() => t?.close());

  it('are written together, each whole, and an invalid one fails alone', async () => {
    const before = { incidents: await t.count('incidents'), events: await t.count('incident_events'), outbox: await t.count('outbox') };
    const bodies = Array.from({ length: 40 }, (_, i) => ({
      title: `Outage ${i}`,
      category: i % 13 === 5 ? 'no-such-category' : 'network-downtime',
      impact: 2,
      urgency: 2,
    }));
    const responses = await Promise.all(bodies.map((body) => t.api('POST', '/api/v1/incidents', { as: requester, body })));
    const created = responses.filter((r) => r.status === 201);
    const refused = responses.filter((r) => r.status !== 201);
    expect(refused.map((r) => [r.status, r.body.error.code])).toEqual([
      [400, 'unknown_category'],
      [400, 'unknown_category'],
      [400, 'unknown_category'],
    ]);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(37);
    // Each response names the row that was stored for that request.
    for (const [i, r] of responses.entries()) {
      if (r.status !== 201) continue;
      expect(r.body.title).toBe(`Outage ${i}`);
      expect((await t.api('GET', `/api/v1/incidents/${r.body.id}`, { as: requester })).body.title).toBe(`Outage ${i}`);
    }
    expect(await t.count('incidents')).toBe(before.incidents + 37);
    expect(await t.count('incident_events')).toBe(before.events + 37);
    expect(await t.count('outbox')).toBe(before.outbox + 37);
    for (const r of created.slice(0, 5)) {
      const timeline = (await t.api('GET', `/api/v1/incidents/${r.body.id}/timeline`, { as: requester })).body;
      expect(timeline).toHaveLength(1);
      expect(timeline[0]).toMatchObject({ seq: 1, kind: 'created', actorId: requester.id, data: { title: r.body.title } });
    }
  });
});
