import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportIncident } from '../helpers/confidential.js';
import { ENGINES, type EngineName } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { openStream } from '../helpers/stream.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const BREACH = 'data-security-breach';

/** The live stream tells a subscriber when an incident moves out of their sight, and nobody else. */
describe.each(ENGINES)('live stream: incidents moved out of sight on %s', (engine: EngineName) => {
  let t: TestServer;
  let requester: TestUser;
  let other: TestUser;
  let l1: TestUser;
  let l3: TestUser;
  let admin: TestUser;

  beforeAll(async () => {
    t = await startServer(engine);
    requester = await t.user('requester');
    other = await t.user('requester');
    l1 = await t.user('agent', { tiers: ['L1'] });
    l3 = await t.user('agent', { tiers: ['L3'] });
    admin = await t.user('admin');
    // Breaches are for L2 alone here: the L3 agent never sees one held at L1 or L2.
    const matrix = (await t.api('GET', '/api/v1/matrix', { as: admin })).body;
    matrix.categories.find((c: Json) => c.key === BREACH).confidential = { tiers: ['L2'], users: [] };
    const put = await t.api('PUT', '/api/v1/matrix', { as: admin, body: { ...matrix, comment: 'Breaches: L2 only' } });
    expect(put.status).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
  });

  const open = (title: string, category: string) => reportIncident(t, requester, title, category);
  const escalate = async (id: number) => {
    expect((await t.api('POST', `/api/v1/incidents/${id}/acknowledge`, { as: l1 })).status).toBe(200);
    const res = await t.api('POST', `/api/v1/incidents/${id}/escalate`, { as: l1, body: { reason: 'Analyse par le niveau 2' } });
    expect(res.status).toBe(200);
    expect(res.body.tier).toBe('L2');
  };

  it('sends "gone" with the id alone to the L1 agent once a breach moves up to L2, and nothing to who never saw it', async () => {
    const breach = await open('Fichier clients zorglub exposé', BREACH);
    const outage = await open('Commutateur zorglub en panne', 'network-downtime');
    const streams = {
      l1: await openStream(t.url, l1.token),
      l3: await openStream(t.url, l3.token),
      other: await openStream(t.url, other.token),
      requester: await openStream(t.url, requester.token),
    };
    try {
      // While the helpdesk holds it, a change is an ordinary one for the L1 agent.
      expect((await t.api('POST', `/api/v1/incidents/${breach}/comments`, { as: admin, body: { body: 'DPO informé' } })).status).toBe(201);
      await expect.poll(() => streams.l1.received, { timeout: 8000 }).toContain(breach);
      expect(streams.l1.idsOf('gone')).toEqual([]);

      await escalate(breach);
      await expect.poll(() => streams.l1.idsOf('gone'), { timeout: 8000 }).toEqual([breach]);
      // The id and nothing more: no title, tier or category of an incident they may no longer read.
      expect(streams.l1.events.filter((e) => e.type === 'gone').map((e) => e.data)).toEqual([JSON.stringify({ ids: [breach] })]);
      const changesAfterGone = streams.l1.received.filter((id) => id === breach).length;

      // An outage is confidential to nobody: moving it up is an ordinary change for the helpdesk.
      await escalate(outage);
      await expect.poll(() => streams.l1.received.filter((id) => id === outage).length, { timeout: 8000 }).toBeGreaterThanOrEqual(2);
      await expect.poll(() => streams.requester.received, { timeout: 8000 }).toContain(outage);
      // Later changes to the breach at L2 are no longer announced to L1, not even as gone again.
      expect((await t.api('POST', `/api/v1/incidents/${breach}/comments`, { as: admin, body: { body: 'Analyse en cours' } })).status).toBe(201);
      await new Promise((r) => setTimeout(r, 2500));
      expect(streams.l1.received.filter((id) => id === breach).length).toBe(changesAfterGone);
      expect(streams.l1.idsOf('gone')).toEqual([breach]);

      // Its requester still sees it: they are told of its changes, never that it is gone.
      expect(streams.requester.received).toContain(breach);
      expect(streams.requester.idsOf('gone')).toEqual([]);
      // Who never could see it hears nothing about it, as a change or as gone.
      for (const s of [streams.l3, streams.other]) {
        expect(s.idsOf('incidents')).not.toContain(breach);
        expect(s.idsOf('gone')).toEqual([]);
      }
      expect(streams.l3.received).toContain(outage);
      expect(streams.other.events).toEqual([]);
    } finally {
      for (const s of Object.values(streams)) s.close();
    }
  });
});
