import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { BREACH, CLOUD, loadFixture, MARCH_SCENARIOS, NETWORK, PERIOD, SOFTWARE, T0, TestClock } from './fixture.js';
import { nameInConfidentialCategories } from '../helpers/confidential.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const TABLES = [
  'users',
  'matrix_versions',
  'incidents',
  'incident_events',
  'incident_figures',
  'incident_stint_figures',
  'escalation_schedule',
  'outbox',
] as const;

const none = {
  byHand: 0,
  missedDeadline: 0,
  otherAutomatic: 0,
  acknowledgeBreaches: 0,
  resolveBreaches: 0,
  categoryClockBreaches: 0,
};

describe.each(ENGINES)('the policy simulator on %s', (engine) => {
  let t: TestServer;
  let manager: TestUser, agent: TestUser;
  let current: Json;

  /** Every row of every table Palier keeps, to show that a simulation writes nothing. */
  const snapshot = async () => {
    const db = t.palier.services.store.db;
    const out: Record<string, unknown[]> = {};
    for (const table of TABLES) out[table] = await db.selectFrom(table).selectAll().execute();
    for (const rows of Object.values(out)) rows.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    return out;
  };
  const run = (matrix: Json, as = manager) => t.api('POST', '/api/v1/simulations', { as, body: { matrix, ...PERIOD } });

  beforeAll(async () => {
    const clock = new TestClock(T0 - 30 * 86_400_000);
    t = await startServer(engine, { clock });
    await loadFixture(t, clock, MARCH_SCENARIOS);
    manager = await t.user('manager');
    agent = await t.user('agent');
    // The fixture has data security breaches: the manager reading its figures is named for them.
    await nameInConfidentialCategories(t, manager);
    current = (await t.api('GET', '/api/v1/matrix', { as: manager })).body;
  }, 60_000);
  afterAll(() => t?.close());

  it('replays the unchanged matrix into exactly what happened', async () => {
    const res = await run(current);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ incidents: 23, replayed: 23, notReplayable: 0, skippedCommands: 0 });
    expect(res.body.totals.difference).toEqual(none);
    // What happened: 5 + 1 + 1 escalations by hand (S2 x4 and S4 from L1, S4 from L2 and L3), 4 missed L1 acknowledgements (S3).
    expect(res.body.totals.actual).toEqual({ ...none, byHand: 7, missedDeadline: 4, acknowledgeBreaches: 4 });
  });

  it('with a tighter L1 acknowledge target for P1 (8 min instead of 15), reports exactly the extra escalations the fixture implies, and writes nothing', async () => {
    const before = await snapshot();
    const draft = structuredClone(current);
    draft.sla.find((s: Json) => s.tier === 'L1' && s.priority === 'P1').acknowledge = 'PT8M';
    const res = await run(draft);
    expect(res.status, JSON.stringify(res.body)).toBe(200);

    // By hand from fixture.ts, at 8 min:
    // - S1 (ack at 10) and S5 (ack at 10) now miss the L1 target: 8 + 4 more escalations from L1; their acknowledgement lands at L2.
    // - S3 leaves L1 at 8 instead of 15 (no extra one there), reaches L2 at 8, and its acknowledgement at 25 is now 17 min
    //   after arrival: L2 misses its 15-min target at 23 and it goes on to L3: 4 more escalations from L2.
    // - S2 and S4 acknowledge at 5: nothing changes. S6 is P3: untouched.
    // Per category: software S1 2 + S5 1 = 3 more from L1; network and cloud S1 2 + S5 1 = 3 more from L1 and S3 2 from L2;
    // data breach S1 2 + S5 1 = 3 more from L1.
    const cell = (category: string, tier: string) => res.body.cells.find((c: Json) => c.category === category && c.tier === tier);
    expect(cell(SOFTWARE, 'L1').difference).toEqual({ ...none, missedDeadline: 3, acknowledgeBreaches: 3 });
    expect(cell(NETWORK, 'L1').difference).toEqual({ ...none, missedDeadline: 3, acknowledgeBreaches: 3 });
    expect(cell(NETWORK, 'L2').difference).toEqual({ ...none, missedDeadline: 2, acknowledgeBreaches: 2 });
    expect(cell(BREACH, 'L1').difference).toEqual({ ...none, missedDeadline: 3, acknowledgeBreaches: 3 });
    expect(cell(CLOUD, 'L1').difference).toEqual({ ...none, missedDeadline: 3, acknowledgeBreaches: 3 });
    expect(cell(CLOUD, 'L2').difference).toEqual({ ...none, missedDeadline: 2, acknowledgeBreaches: 2 });
    expect(cell(NETWORK, 'L1').simulated).toEqual({ ...none, byHand: 1, missedDeadline: 5, acknowledgeBreaches: 5 });
    expect(res.body.totals.difference).toEqual({ ...none, missedDeadline: 16, acknowledgeBreaches: 16 });
    expect(res.body.totals.simulated).toEqual({ ...none, byHand: 7, missedDeadline: 20, acknowledgeBreaches: 20 });
    // Every other cell is unchanged.
    const changed = res.body.cells
      .filter((c: Json) => JSON.stringify(c.difference) !== JSON.stringify(none))
      .map((c: Json) => `${c.category}/${c.tier}`);
    expect(changed.sort()).toEqual(
      [`${BREACH}/L1`, `${CLOUD}/L1`, `${CLOUD}/L2`, `${NETWORK}/L1`, `${NETWORK}/L2`, `${SOFTWARE}/L1`].sort(),
    );

    expect(await snapshot()).toEqual(before);
  });

  it('counts incidents of a category the draft dropped as not replayable, and refuses an invalid draft or period', async () => {
    const draft = structuredClone(current);
    draft.categories = draft.categories.filter((c: Json) => c.key !== CLOUD);
    draft.cells = draft.cells.filter((c: Json) => c.category !== CLOUD);
    const res = await run(draft);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    // Cloud incidents in the period: S1 2, S2 1, S3 2, S5 1 = 6.
    expect(res.body).toMatchObject({ incidents: 23, replayed: 17, notReplayable: 6 });

    const broken = structuredClone(current);
    broken.sla[0].acknowledge = 'soon';
    const refused = await run(broken);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('invalid_matrix');
    expect(refused.body.error.details[0].path).toBe('sla[0].acknowledge');
    const backwards = await t.api('POST', '/api/v1/simulations', {
      as: manager,
      body: { matrix: current, from: PERIOD.to, to: PERIOD.from },
    });
    expect(backwards.status).toBe(400);
    expect((await run(current, agent)).status).toBe(403);
  });
});
