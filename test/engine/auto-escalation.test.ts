import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';

const waitFor = async <T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe.each(ENGINES)('automatic escalation against a running server on %s', (engine) => {
  let t: TestServer;
  let admin: TestUser, requester: TestUser, manager: TestUser;

  beforeAll(async () => {
    t = await startServer(engine, { config: { worker: true, workerPollMs: 50 } });
    admin = await t.user('admin');
    requester = await t.user('requester');
    manager = await t.user('manager');
    // P5 at L1 gets a 2-second acknowledge target, on the 24x7 calendar.
    const matrix = (await t.api('GET', '/api/v1/matrix', { as: admin })).body;
    for (const target of matrix.sla) {
      if (target.tier === 'L1' && target.priority === 'P5') Object.assign(target, { acknowledge: 'PT2S', resolve: 'PT1H', calendar: '24x7' });
      if (target.tier === 'L2' && target.priority === 'P5') Object.assign(target, { acknowledge: 'PT30M', calendar: '24x7' });
    }
    const saved = await t.api('PUT', '/api/v1/matrix', { as: admin, body: matrix });
    expect(saved.status).toBe(200);
  });
  afterAll(() => t?.close());

  it('escalates an unacknowledged incident to L2 by itself, names the missed target, and shows the next escalation to L3', async () => {
    const created = await t.api('POST', '/api/v1/incidents', {
      as: requester,
      body: { title: 'Printer driver will not install', category: 'software-installation-failure', impact: 3, urgency: 3 },
    });
    expect(created.body).toMatchObject({ priority: 'P5', tier: 'L1', matrixVersion: 2 });
    const path = `/api/v1/incidents/${created.body.id}`;
    const before = (await t.api('GET', path, { as: manager })).body;
    expect(before.nextEscalation).toMatchObject({ toTier: 'L2', action: 'escalate', clock: `L1@1:acknowledge` });
    const due = Date.parse(before.nextEscalation.at);
    expect(due - Date.parse(before.createdAt)).toBe(2000);

    const upcoming = await t.api('GET', '/api/v1/escalations/upcoming?hours=1', { as: manager });
    expect(upcoming.status).toBe(200);
    expect(upcoming.body.items.map((i: { incident: { id: number } }) => i.incident.id)).toContain(created.body.id);

    const after = await waitFor(async () => {
      const d = (await t.api('GET', path, { as: manager })).body;
      return d.tier === 'L2' ? d : undefined;
    }, 10_000);
    expect(after.status).toBe('new');
    const kinds = after.timeline.map((e: { kind: string }) => e.kind);
    expect(kinds).toEqual(['created', 'deadline_warning', 'deadline_missed', 'escalated']);
    const escalated = after.timeline.at(-1);
    expect(escalated).toMatchObject({
      fromTier: 'L1',
      toTier: 'L2',
      actorId: null,
      data: { automatic: true, reason: 'L1 acknowledge target PT2S missed', missed: { clock: 'L1@1:acknowledge', target: 'PT2S', dueAt: due } },
    });
    expect(Date.parse(escalated.at)).toBeGreaterThanOrEqual(due);
    expect(after.nextEscalation).toMatchObject({ toTier: 'L3', action: 'escalate', clock: 'L2@4:acknowledge' });
    expect(Date.parse(after.nextEscalation.at) - Date.parse(escalated.at)).toBe(30 * 60_000);

    // The escalation reached the outbox in the same transaction, once.
    const outbox = await t.palier.services.store.db
      .selectFrom('outbox')
      .select(['topic', 'event_seq'])
      .where('incident_id', '=', created.body.id)
      .orderBy('event_seq')
      .execute();
    expect(outbox.map((r) => r.topic)).toEqual(['created', 'deadline_warning', 'deadline_missed', 'escalated']);
  });

  it('stops the clock when the tier acknowledges in time', async () => {
    const created = await t.api('POST', '/api/v1/incidents', {
      as: requester,
      body: { title: 'Slow VPN', category: 'network-downtime', impact: 3, urgency: 3 },
    });
    const agent = await t.user('agent', { tiers: ['L1'] });
    const path = `/api/v1/incidents/${created.body.id}`;
    expect((await t.api('POST', `${path}/acknowledge`, { as: agent })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2600));
    const d = (await t.api('GET', path, { as: agent })).body;
    expect(d.tier).toBe('L1');
    expect(d.timeline.map((e: { kind: string }) => e.kind)).toEqual(['created', 'acknowledged']);
    expect(d.nextEscalation).toMatchObject({ clock: 'L1@1:resolve' });
  });
});
