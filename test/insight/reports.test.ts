import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { ACME, BOLT, BREACH, CLOUD, loadFixture, NETWORK, PERIOD, SOFTWARE, T0, TestClock, VENDOR_PERIOD } from './fixture.js';
import { nameInConfidentialCategories } from '../helpers/confidential.js';

const MIN = 60_000;
// Whole days come from the daily rollups, partial days from the figures: the same period both ways.
const PERIODS = [
  ['whole days', `from=${PERIOD.from}&to=${PERIOD.to}`, `from=${VENDOR_PERIOD.from}&to=${VENDOR_PERIOD.to}`],
  ['partial days', 'from=2026-03-03T07:30:00Z&to=2026-03-04T12:00:00Z', 'from=2026-03-17T07:30:00Z&to=2026-03-18T12:00:00Z'],
] as const;
const CASES = ENGINES.flatMap((engine) =>
  PERIODS.map(([name, period, vendorPeriod]) => [engine, name, period, vendorPeriod] as const),
);

// Every expected figure below is worked out by hand from the scenario table in fixture.ts.
describe.each(CASES)('reports over a hand-computed fixture on %s, period of %s', (engine, _name, period, vendorPeriod) => {
  let t: TestServer;
  let manager: TestUser, agent: TestUser;
  const report = async (name: string, query: string = period, as?: TestUser) => {
    const res = await t.api('GET', `/api/v1/reports/${name}?${query}`, { as: as ?? manager });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    const clock = new TestClock(T0 - 30 * 86_400_000);
    t = await startServer(engine, { clock });
    await loadFixture(t, clock);
    manager = await t.user('manager');
    agent = await t.user('agent');
    // The fixture has data security breaches: the manager reading its figures is named for them.
    await nameInConfidentialCategories(t, manager);
  }, 60_000);
  afterAll(() => t?.close());

  it('counts incidents opened, acknowledged, resolved and reopened, and the share reaching LX', async () => {
    expect(await report('volume')).toEqual({
      // S1 8 + S2 4 + S3 4 + S4 1 + S5 4 + S6 2 = 23 opened in the period (S0 is in February); all acknowledged.
      opened: 23,
      acknowledged: 23,
      // All but the 4 pending S5 incidents.
      resolved: 19,
      // S4, among the 19 resolved at least once.
      reopened: 1,
      reopenRate: 1 / 19,
      // S4 alone climbs to LX, and is handed to no vendor.
      topTier: { tier: 'LX', reached: 1, share: 1 / 23, byVendor: [], withoutVendor: 1 },
    });
  });

  it('counts reopenings and splits the incidents reaching LX by vendor', async () => {
    expect(await report('volume', vendorPeriod)).toEqual({
      // V1 2 + V2 + V3 + V4 + V5 = 6, all acknowledged; V5 is still open.
      opened: 6,
      acknowledged: 6,
      resolved: 5,
      // V2 and V4, among the 5 resolved at least once.
      reopened: 2,
      reopenRate: 2 / 5,
      // The two V1 and V3 reach LX, all three handed to Acme (under its latest name).
      topTier: {
        tier: 'LX',
        reached: 3,
        share: 3 / 6,
        byVendor: [{ vendorId: ACME, name: 'Acme Networks', reached: 3, share: 3 / 6 }],
        withoutVendor: 0,
      },
    });
  });

  it('gives the vendor scorecard: hand-overs, share reaching LX, times against the contract', async () => {
    const acme = {
      vendorId: ACME,
      // The most recent hand-over (V3, at 40 min) names it and carries the contract shown.
      name: 'Acme Networks',
      ackTarget: 'PT30M',
      resolveTarget: 'PT4H',
      // V1 x2, V3, V4.
      engagements: 4,
      incidents: 4,
      reachedTop: 3,
      topShare: 3 / 4,
      // Acknowledged: V1 10 and 10 (against 20 min: met), V4 15 (met); V3 never, its 30 min passed: missed.
      acknowledged: 3,
      ackMeanMs: expect.closeTo((35 / 3) * MIN, 3),
      ackMedianMs: 10 * MIN,
      ackMet: 3,
      ackMissed: 1,
      ackCompliance: 3 / 4,
      // Resolved: V1 120 and 120 (3 h: met), V3 50 by the tier's resolution, V4 40: 330 over 4; median (50 + 120) / 2.
      resolved: 4,
      resolveMeanMs: 82.5 * MIN,
      resolveMedianMs: 85 * MIN,
      resolveMet: 4,
      resolveMissed: 0,
      resolveCompliance: 1,
    };
    const bolt = {
      vendorId: BOLT,
      name: 'Bolt Cloud',
      ackTarget: 'PT1H',
      resolveTarget: 'PT2H',
      // V2, V4 (replaced by Acme), V5; none reaches LX.
      engagements: 3,
      incidents: 3,
      reachedTop: 0,
      topShare: 0,
      // V2 80 (missed), V4 10 (met); V5 still running.
      acknowledged: 2,
      ackMeanMs: 45 * MIN,
      ackMedianMs: 45 * MIN,
      ackMet: 1,
      ackMissed: 1,
      ackCompliance: 1 / 2,
      // V2 done after 180 min (missed); V4 replaced before its target, V5 running: not judged.
      resolved: 1,
      resolveMeanMs: 180 * MIN,
      resolveMedianMs: 180 * MIN,
      resolveMet: 0,
      resolveMissed: 1,
      resolveCompliance: 0,
    };
    expect(await report('vendors', vendorPeriod)).toEqual([acme, bolt]);
    // The tier filter keeps the hand-overs made at that tier: V1 x2 and V3 at LX.
    expect(await report('vendors', `${vendorPeriod}&tier=LX`)).toEqual([
      expect.objectContaining({
        vendorId: ACME,
        engagements: 3,
        incidents: 3,
        reachedTop: 3,
        ackMet: 2,
        ackMissed: 1,
        resolved: 3,
      }),
    ]);
    expect(await report('vendors', `${vendorPeriod}&category=${CLOUD}`)).toEqual([
      expect.objectContaining({ vendorId: BOLT, engagements: 2, acknowledged: 1, ackMissed: 1, resolveMissed: 1 }),
    ]);
    // The March week has no hand-over at all.
    expect(await report('vendors')).toEqual([]);
  });

  it('gives mean and median times to acknowledge and resolve, in wall and business time', async () => {
    const times = await report('times');
    // Acknowledge (min): S1 10 x8, S2 5 x4, S3 25 x4, S4 5, S5 10 x4, S6 30 x2 = 80+20+100+5+40+60 = 305 over 23.
    // Sorted: 5 (x5), 10 (x12), 25 (x4), 30 (x2): the 12th is 10. S6 was acknowledged within business hours: same business time.
    // Resolve, wall (min): S1 40 x8 = 320, S2 80 x4 = 320, S3 45 x4 = 180, S4 100, S6 1140 x2 = 2280: 3200 over 19;
    //   sorted 40 (x8), 45 (x4), 80 (x4), 100, 1140 (x2): the 10th is 45.
    // Resolve, business: S4 pending-free time 60 + 30 = 90, S6 4 h = 240 x2: 320+320+180+90+480 = 1390 over 19; 10th is 45.
    expect(times).toEqual({
      acknowledged: 23,
      ackMeanMs: expect.closeTo((305 / 23) * MIN, 3),
      ackMedianMs: 10 * MIN,
      ackBusinessMeanMs: expect.closeTo((305 / 23) * MIN, 3),
      ackBusinessMedianMs: 10 * MIN,
      resolved: 19,
      resolveMeanMs: expect.closeTo((3200 / 19) * MIN, 3),
      resolveMedianMs: 45 * MIN,
      resolveBusinessMeanMs: expect.closeTo((1390 / 19) * MIN, 3),
      resolveBusinessMedianMs: 45 * MIN,
    });
  });

  it('gives SLA compliance per tier and priority', async () => {
    const sla = await report('sla');
    expect(sla).toEqual([
      // L1 P1 stints: S1 8, S2 4, S3 4, S4 1, S5 4 = 21. Acknowledge missed by the 4 S3; resolve unknown for the 4 pending S5.
      {
        tier: 'L1',
        priority: 'P1',
        stints: 21,
        ackMet: 17,
        ackMissed: 4,
        ackCompliance: 17 / 21,
        resolveMet: 17,
        resolveMissed: 0,
        resolveCompliance: 1,
      },
      // S6: acknowledged in 30 min (target 1 h), resolved in 4 business hours (target 8 h).
      {
        tier: 'L1',
        priority: 'P3',
        stints: 2,
        ackMet: 2,
        ackMissed: 0,
        ackCompliance: 1,
        resolveMet: 2,
        resolveMissed: 0,
        resolveCompliance: 1,
      },
      // L2: S2 4, S3 4, S4 1, all within 15 min / 2 h (S4 passed through in 5 min).
      {
        tier: 'L2',
        priority: 'P1',
        stints: 9,
        ackMet: 9,
        ackMissed: 0,
        ackCompliance: 1,
        resolveMet: 9,
        resolveMissed: 0,
        resolveCompliance: 1,
      },
      {
        tier: 'L3',
        priority: 'P1',
        stints: 1,
        ackMet: 1,
        ackMissed: 0,
        ackCompliance: 1,
        resolveMet: 1,
        resolveMissed: 0,
        resolveCompliance: 1,
      },
      // LX: acknowledged after 10 min, 70 min of resolve time (40 + 30) against 8 h.
      {
        tier: 'LX',
        priority: 'P1',
        stints: 1,
        ackMet: 1,
        ackMissed: 0,
        ackCompliance: 1,
        resolveMet: 1,
        resolveMissed: 0,
        resolveCompliance: 1,
      },
    ]);
  });

  it('gives the escalation rate of every matrix cell, by hand and by missed deadline', async () => {
    const cells = await report('escalations');
    const row = (category: string, tier: string, stints: number, byHand: number, missedDeadline: number) => ({
      category,
      tier,
      stints,
      escalated: byHand + missedDeadline,
      byHand,
      missedDeadline,
      otherAutomatic: 0,
      handedBack: 0,
      escalationRate: (byHand + missedDeadline) / stints,
      byHandRate: byHand / stints,
      missedDeadlineRate: missedDeadline / stints,
    });
    expect(cells).toEqual([
      // Software: L1 S1 2 + S2 1 + S5 1 + S6 1 = 5, S2 leaves by hand; L2 S2 1.
      row(SOFTWARE, 'L1', 5, 1, 0),
      row(SOFTWARE, 'L2', 1, 0, 0),
      // Network: L1 S1 2 + S2 1 + S3 2 + S5 1 + S6 1 = 7, S2 by hand, the 2 S3 on the missed deadline; L2 S2 1 + S3 2.
      row(NETWORK, 'L1', 7, 1, 2),
      row(NETWORK, 'L2', 3, 0, 0),
      // Data breach: L1 S1 2 + S2 1 + S4 1 + S5 1 = 5, S2 and S4 by hand; S4 goes on by hand from L2 and L3.
      row(BREACH, 'L1', 5, 2, 0),
      row(BREACH, 'L2', 2, 1, 0),
      row(BREACH, 'L3', 1, 1, 0),
      row(BREACH, 'LX', 1, 0, 0),
      // Cloud: L1 S1 2 + S2 1 + S3 2 + S5 1 = 6, S2 by hand, 2 S3 missed; L2 S2 1 + S3 2.
      row(CLOUD, 'L1', 6, 1, 2),
      row(CLOUD, 'L2', 3, 0, 0),
    ]);
  });

  it('gives the time spent at each tier, in wall and business time', async () => {
    expect(await report('tier-time')).toEqual([
      // L1: 23 stints, the 4 pending S5 still open. Wall: S1 40 x8 + S2 20 x4 + S3 15 x4 + S4 10 + S6 1140 x2 = 2750;
      // business: the same with S6 at 240: 320 + 80 + 60 + 10 + 480 = 950.
      {
        tier: 'L1',
        stints: 23,
        completed: 19,
        wallMeanMs: expect.closeTo((2750 / 19) * MIN, 3),
        wallTotalMs: 2750 * MIN,
        businessMeanMs: 50 * MIN,
        businessTotalMs: 950 * MIN,
      },
      // L2: S2 60 x4 + S3 30 x4 + S4 5 = 365, all on the 24x7 calendar.
      {
        tier: 'L2',
        stints: 9,
        completed: 9,
        wallMeanMs: expect.closeTo((365 / 9) * MIN, 3),
        wallTotalMs: 365 * MIN,
        businessMeanMs: expect.closeTo((365 / 9) * MIN, 3),
        businessTotalMs: 365 * MIN,
      },
      {
        tier: 'L3',
        stints: 1,
        completed: 1,
        wallMeanMs: 5 * MIN,
        wallTotalMs: 5 * MIN,
        businessMeanMs: 5 * MIN,
        businessTotalMs: 5 * MIN,
      },
      // LX: from 20 to the last resolution at 100 = 80; 10 min reopened-and-resolved pause excluded = 70.
      {
        tier: 'LX',
        stints: 1,
        completed: 1,
        wallMeanMs: 80 * MIN,
        wallTotalMs: 80 * MIN,
        businessMeanMs: 70 * MIN,
        businessTotalMs: 70 * MIN,
      },
    ]);
  });

  it('filters by category, priority, tier and period', async () => {
    // Network P1 in the period: S1 2, S2 1, S3 2, S5 1 = 6; the S5 one is not resolved. Acknowledged after 10, 10, 5, 25, 25, 10 = 85 min.
    const network = `${period}&category=${NETWORK}&priority=P1`;
    expect(await report('volume', network)).toMatchObject({ opened: 6, resolved: 5 });
    expect((await report('times', network)).ackMeanMs).toBeCloseTo((85 / 6) * MIN, 3);
    // Incidents now at L2: S2 and S3, 4 each.
    expect(await report('volume', `${period}&tier=L2`)).toMatchObject({ opened: 8, resolved: 8 });
    // Per-tier reports keep the stays at the tiers asked for.
    expect(
      (await report('sla', `${period}&tier=L1`)).map((r: { tier: string; priority: string }) => `${r.tier}/${r.priority}`),
    ).toEqual(['L1/P1', 'L1/P3']);
    // From February on, S0 counts too.
    expect(await report('volume', `from=2026-02-01&to=${PERIOD.to}`)).toMatchObject({ opened: 24, resolved: 20 });
    // S0 from the partial 20 February, March 3rd from the rollups.
    expect(await report('volume', 'from=2026-02-20T07:00:00Z&to=2026-03-04T00:00:00Z')).toMatchObject({
      opened: 24,
      resolved: 20,
    });
    // Partial days only: S0, and S1-S5 created at 08:00 on March 3rd (8 + 4 + 4 + 1 + 4 = 21) but not S6 (15:00):
    // 1 + 21 = 22 opened; resolved: S0 1 + S1 8 + S2 4 + S3 4 + S4 1 = 18.
    expect(await report('volume', 'from=2026-02-20T07:00:00Z&to=2026-03-03T12:00:00Z')).toMatchObject({
      opened: 22,
      resolved: 18,
    });
    expect(await report('volume', 'from=2026-04-01&to=2026-05-01')).toMatchObject({
      opened: 0,
      reopenRate: null,
      topTier: { share: null },
    });
  });

  it('is for managers and administrators only, and refuses a bad period or priority', async () => {
    const refused = await t.api('GET', `/api/v1/reports/volume?${period}`, { as: agent });
    expect(refused.status).toBe(403);
    const backwards = await t.api('GET', '/api/v1/reports/sla?from=2026-03-10&to=2026-03-01', { as: manager });
    expect(backwards.status).toBe(400);
    const badPriority = await t.api('GET', `/api/v1/reports/sla?${period}&priority=P9`, { as: manager });
    expect(badPriority.status).toBe(400);
  });
});
