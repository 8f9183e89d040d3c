import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_MATRIX } from '../../src/domain/seed-matrix.js';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';

const actionsOf = (category: string, tier: string) =>
  SEED_MATRIX.cells.find((c) => c.category === category && c.tier === tier)!.actions;

describe.each(ENGINES)('incident lifecycle on %s', (engine) => {
  let t: TestServer;
  let requester: TestUser;
  let l1: TestUser, l2: TestUser, l3: TestUser, lx: TestUser;

  beforeAll(async () => {
    t = await startServer(engine);
    requester = await t.user('requester');
    l1 = await t.user('agent', { tiers: ['L1'] });
    l2 = await t.user('agent', { tiers: ['L2'] });
    l3 = await t.user('agent', { tiers: ['L3'] });
    lx = await t.user('agent', { tiers: ['LX'] });
  });
  afterAll(() => t?.close());

  it('serves the seed matrix: 4 tiers, 4 categories, 16 cells in French and English', async () => {
    const res = await t.api('GET', '/api/v1/matrix', { as: requester });
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(1);
    expect(res.body.tiers.map((x: { key: string }) => x.key)).toEqual(['L1', 'L2', 'L3', 'LX']);
    expect(res.body.categories).toHaveLength(4);
    expect(res.body.cells).toHaveLength(16);
    expect(res.body.cells).toEqual(SEED_MATRIX.cells);
  });

  for (const category of SEED_MATRIX.categories.map((c) => c.key)) {
    it(`walks a ${category} incident from L1 up to LX and back to closed, event by event`, async () => {
      const created = await t.api('POST', '/api/v1/incidents', {
        as: requester,
        body: { title: `Trouble: ${category}`, description: 'Since 9:00', category, impact: 2, urgency: 1 },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ tier: 'L1', status: 'new', priority: 'P2', category, requesterId: requester.id, matrixVersion: 1 });
      const id = created.body.id as number;
      const path = `/api/v1/incidents/${id}`;

      const detailAt = async (tier: string) => {
        const d = await t.api('GET', path, { as: requester });
        expect(d.status).toBe(200);
        expect(d.body.tier).toBe(tier);
        expect(d.body.checklist.map((c: { action: unknown }) => c.action)).toEqual(actionsOf(category, tier));
        return d.body;
      };

      let detail = await detailAt('L1');
      expect(detail.nextEscalation).toMatchObject({ toTier: 'L2', action: 'escalate', clock: 'L1@1:acknowledge' });
      expect(detail.deadlines.map((d: { kind: string }) => d.kind)).toEqual(['acknowledge', 'resolve']);

      expect((await t.api('POST', `${path}/acknowledge`, { as: l1 })).body).toMatchObject({ status: 'acknowledged', assigneeId: l1.id });
      expect((await t.api('PUT', `${path}/checklist/0`, { as: l1, body: { checked: true } })).status).toBe(200);
      detail = await detailAt('L1');
      expect(detail.checklist[0].checked).toBe(true);
      expect((await t.api('POST', `${path}/escalate`, { as: l1, body: { reason: 'Needs specialised skills' } })).body).toMatchObject({
        tier: 'L2',
        status: 'new',
        assigneeId: null,
      });
      detail = await detailAt('L2');
      expect(detail.checklist.every((c: { checked: boolean }) => !c.checked)).toBe(true);

      expect((await t.api('POST', `${path}/start`, { as: l2 })).body).toMatchObject({ status: 'in_progress', assigneeId: l2.id });
      expect((await t.api('POST', `${path}/pend`, { as: l2, body: { reason: 'requester', note: 'Which laptop?' } })).body).toMatchObject({
        status: 'pending',
        pendingReason: 'requester',
      });
      expect((await t.api('GET', path, { as: requester })).body.deadlines).toEqual([]);
      expect((await t.api('POST', `${path}/comments`, { as: requester, body: { body: 'The grey one' } })).status).toBe(201);
      expect((await t.api('POST', `${path}/resume`, { as: l2 })).body).toMatchObject({ status: 'in_progress', pendingReason: null });
      expect((await t.api('POST', `${path}/escalate`, { as: l2, body: { tier: 'L3', reason: 'Infrastructure' } })).body.tier).toBe('L3');
      await detailAt('L3');
      expect((await t.api('POST', `${path}/acknowledge`, { as: l3 })).status).toBe(200);
      expect((await t.api('POST', `${path}/escalate`, { as: l3, body: { reason: 'Vendor needed' } })).body.tier).toBe('LX');
      detail = await detailAt('LX');
      // Nothing above LX: a missed target there notifies the managers instead.
      expect(detail.nextEscalation).toMatchObject({ toTier: null, action: 'notify', clock: 'LX@12:acknowledge' });
      expect((await t.api('POST', `${path}/acknowledge`, { as: lx })).status).toBe(200);
      expect((await t.api('POST', `${path}/resolve`, { as: lx, body: { resolution: 'Vendor patch applied' } })).body).toMatchObject({
        status: 'resolved',
        resolution: 'Vendor patch applied',
      });
      expect((await t.api('POST', `${path}/reopen`, { as: requester, body: { reason: 'Still broken' } })).body).toMatchObject({
        status: 'in_progress',
        tier: 'LX',
        reopenCount: 1,
        resolution: null,
      });
      expect((await t.api('POST', `${path}/resolve`, { as: lx, body: { resolution: 'Second patch' } })).body.status).toBe('resolved');
      expect((await t.api('POST', `${path}/close`, { as: requester })).body).toMatchObject({ status: 'closed' });

      const timeline = (await t.api('GET', `${path}/timeline`, { as: requester })).body as Array<Record<string, unknown>>;
      expect(timeline.map((e) => [e.seq, e.kind, e.fromTier, e.toTier, e.actorId])).toEqual([
        [1, 'created', null, 'L1', requester.id],
        [2, 'acknowledged', 'L1', 'L1', l1.id],
        [3, 'action_checked', 'L1', 'L1', l1.id],
        [4, 'escalated', 'L1', 'L2', l1.id],
        [5, 'acknowledged', 'L2', 'L2', l2.id],
        [6, 'work_started', 'L2', 'L2', l2.id],
        [7, 'pended', 'L2', 'L2', l2.id],
        [8, 'commented', 'L2', 'L2', requester.id],
        [9, 'resumed', 'L2', 'L2', l2.id],
        [10, 'escalated', 'L2', 'L3', l2.id],
        [11, 'acknowledged', 'L3', 'L3', l3.id],
        [12, 'escalated', 'L3', 'LX', l3.id],
        [13, 'acknowledged', 'LX', 'LX', lx.id],
        [14, 'resolved', 'LX', 'LX', lx.id],
        [15, 'reopened', 'LX', 'LX', requester.id],
        [16, 'resolved', 'LX', 'LX', lx.id],
        [17, 'closed', 'LX', 'LX', requester.id],
      ]);
      expect(timeline[3]!.data).toEqual({ reason: 'Needs specialised skills', automatic: false });
      expect(timeline[6]!.data).toEqual({ reason: 'requester', note: 'Which laptop?' });
      expect(timeline[7]!.data).toEqual({ body: 'The grey one' });
      const times = timeline.map((e) => Date.parse(e.at as string));
      expect(times).toEqual([...times].sort((a, b) => a - b));

      // Closed is final.
      const again = await t.api('POST', `${path}/reopen`, { as: requester, body: { reason: 'again' } });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('invalid_transition');
    });
  }

  it('hands an incident back down a tier, and refuses to go past the ends of the ladder', async () => {
    const { body } = await t.api('POST', '/api/v1/incidents', {
      as: l1,
      body: { title: 'VPN', category: 'network-downtime', impact: 3, urgency: 3, requesterId: requester.id },
    });
    expect(body).toMatchObject({ priority: 'P5', requesterId: requester.id });
    const path = `/api/v1/incidents/${body.id}`;
    const down = await t.api('POST', `${path}/hand-back`, { as: l1, body: { reason: 'nothing below' } });
    expect(down.status).toBe(409);
    expect(down.body.error.code).toBe('bottom_tier');
    expect((await t.api('POST', `${path}/escalate`, { as: l1, body: { tier: 'LX', reason: 'Known vendor bug' } })).body.tier).toBe('LX');
    const up = await t.api('POST', `${path}/escalate`, { as: lx, body: { reason: 'higher?' } });
    expect(up.status).toBe(409);
    expect(up.body.error.code).toBe('top_tier');
    const back = await t.api('POST', `${path}/hand-back`, { as: lx, body: { tier: 'L2', reason: 'Workaround is internal' } });
    expect(back.body).toMatchObject({ tier: 'L2', status: 'new' });
    const timeline = (await t.api('GET', `${path}/timeline`, { as: l2 })).body;
    expect(timeline.at(-1)).toMatchObject({ kind: 'handed_back', fromTier: 'LX', toTier: 'L2', data: { reason: 'Workaround is internal' } });
  });

  it('keeps the projection equal to the fold of the events', async () => {
    const { project } = await import('../../src/domain/incident.js');
    // The requester sees every incident of this file; the helpdesk no longer sees the breach it passed on.
    const list = await t.api('GET', '/api/v1/incidents?limit=200', { as: requester });
    expect(list.body.items.length).toBeGreaterThanOrEqual(5);
    for (const item of list.body.items as Array<{ id: number }>) {
      const events = await t.palier.services.incidents.events(item.id);
      expect(project(events)).toEqual(await t.palier.services.incidents.get(item.id));
    }
  });
});
