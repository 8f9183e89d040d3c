/**
 * A hand-made month of incidents for the report and simulator tests: six scenarios with known
 * events at known instants, replayed through the real use cases and worker on a test clock, so the
 * stored figures come from the same code paths as in production. Every expected figure in the tests
 * is worked out by hand from the table below, never by calling the code under test.
 *
 * T0 = Tuesday 2026-03-03 08:00Z = 09:00 in Paris (UTC+1 in March, before the change to summer time).
 * Seed SLA targets used: P1 (24x7) L1 ack 15 min / resolve 1 h, L2 15 min / 2 h, L3 30 min / 4 h, LX 1 h / 8 h;
 * P3 (business hours, Mon-Fri 09:00-18:00 Paris) L1 ack 1 h / resolve 8 h.
 *
 *  scenario  prio  count and categories          events (minutes after creation)
 *  S1        P1    2 in each of the 4 = 8         ack 10, resolve 40
 *  S2        P1    1 in each of the 4 = 4         ack 5, escalate by hand to L2 at 20, ack 30, resolve 80
 *  S3        P1    2 network + 2 cloud = 4        no ack at L1; the worker escalates at 15 (ack target missed); ack 25, resolve 45
 *  S4        P1    1 data breach                  ack 5; by hand to L2 at 10, L3 at 15, LX at 20; ack 30; resolve 60; reopen 70; resolve 100; close 110
 *  S5        P1    1 in each of the 4 = 4         ack 10, pending (requester) at 20, still pending
 *  S6        P3    1 software + 1 network = 2     created at 16:00 Paris (T0 + 7 h): ack 30 min later,
 *                                                 resolved Wednesday 11:00 Paris (19 h of wall time, 2 h + 2 h = 4 h of business time)
 *  S0        P1    1 network, on 2026-02-20       ack 10, resolve 40 (outside the reported period)
 *
 * S1-S5 are created at T0, S6 at T0 + 7 h. The period reported is [2026-03-01, 2026-03-10).
 *
 * Vendor hand-overs and reopenings, two weeks later (their own period, [2026-03-16, 2026-03-23)), all P1,
 * created at T1 = Tuesday 2026-03-17 08:00Z. Vendor A (id 501) is "Acme" with a contract of 20 min / 3 h in its
 * first hand-over (V1) and "Acme Networks", 30 min / 4 h, in the later ones; vendor B (502) "Bolt Cloud", 1 h / 2 h.
 *
 *  V1  2 network  ack 5; by hand to L2 at 10, L3 at 15, LX at 20; ack 25; to A ("Acme") at 30; A acknowledges at 40
 *                 (10 min, met), is done at 150 (120 min, met); resolve 160
 *  V2  1 cloud    ack 5; by hand to L2 at 10; ack 15; to B at 20; B acknowledges at 100 (80 min, missed), is done
 *                 at 200 (180 min, missed); resolve 210; reopen 220; resolve 240
 *  V3  1 network  ack 5; by hand straight to LX at 10; ack 15; to A at 40; never acknowledged; the tier resolves
 *                 at 90: A's time to resolve is 50 min (met), its acknowledge target passed at 70 (missed)
 *  V4  1 software ack 5; to B at 10 (from L1); B acknowledges at 20 (10 min, met); resume 25; to A at 30, which
 *                 replaces B (B's resolve not counted); A acknowledges at 45 (15 min, met), done at 70 (40 min,
 *                 met); resolve 80; reopen 90; resolve 100
 *  V5  1 cloud    ack 5; by hand to L2 at 10; ack 15; to B at 20; nothing since (still running, not judged)
 */
import type { Actor } from '../../src/domain/policy.js';
import type { IncidentCommand } from '../../src/domain/incident.js';
import { actOnIncident, createIncident } from '../../src/services/incident.service.js';
import type { TestServer } from '../helpers/server.js';
import { LEVELS_OF, MINUTE, HOUR } from '../helpers/incident-builders.js';
import type { Priority } from '../../src/domain/priority.js';

export const T0 = Date.parse('2026-03-03T08:00:00Z');
export const PERIOD = { from: '2026-03-01', to: '2026-03-10' };
export const T1 = Date.parse('2026-03-17T08:00:00Z');
export const VENDOR_PERIOD = { from: '2026-03-16', to: '2026-03-23' };
export const ACME = 501;
export const BOLT = 502;

export const SOFTWARE = 'software-installation-failure';
export const NETWORK = 'network-downtime';
export const BREACH = 'data-security-breach';
export const CLOUD = 'cloud-service-interruption';
export const ALL = [SOFTWARE, NETWORK, BREACH, CLOUD];

/** A clock the test moves by hand. */
export class TestClock {
  constructor(public at: number) {}
  now = () => this.at;
}

type Action = { after: number; command?: IncidentCommand; worker?: true };

const ack: IncidentCommand = { type: 'acknowledge' };
const resolve: IncidentCommand = { type: 'resolve', resolution: 'Fixed' };
const up = (tier: string): IncidentCommand => ({ type: 'escalate', tier, reason: 'Needs the next tier' });
const acmeOld = { id: ACME, name: 'Acme', acknowledge: 'PT20M', resolve: 'PT3H' };
const acme = { id: ACME, name: 'Acme Networks', acknowledge: 'PT30M', resolve: 'PT4H' };
const bolt = { id: BOLT, name: 'Bolt Cloud', acknowledge: 'PT1H', resolve: 'PT2H' };
const handTo = (vendor: typeof acme): IncidentCommand => ({ type: 'engage_vendor', vendor, note: 'Contract support' });
const vendorAck: IncidentCommand = { type: 'vendor_acknowledge', ticket: 'V-1' };
const vendorDone: IncidentCommand = { type: 'vendor_done', note: 'Fixed on their side' };
const reopen: IncidentCommand = { type: 'reopen', reason: 'Came back' };

export interface Scenario {
  name: string;
  priority: Priority;
  categories: string[];
  createdAt: number;
  actions: Action[];
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'S0',
    priority: 'P1',
    categories: [NETWORK],
    createdAt: Date.parse('2026-02-20T08:00:00Z'),
    actions: [
      { after: 10 * MINUTE, command: ack },
      { after: 40 * MINUTE, command: resolve },
    ],
  },
  {
    name: 'S1',
    priority: 'P1',
    categories: [...ALL, ...ALL],
    createdAt: T0,
    actions: [
      { after: 10 * MINUTE, command: ack },
      { after: 40 * MINUTE, command: resolve },
    ],
  },
  {
    name: 'S2',
    priority: 'P1',
    categories: ALL,
    createdAt: T0,
    actions: [
      { after: 5 * MINUTE, command: ack },
      { after: 20 * MINUTE, command: up('L2') },
      { after: 30 * MINUTE, command: ack },
      { after: 80 * MINUTE, command: resolve },
    ],
  },
  {
    name: 'S3',
    priority: 'P1',
    categories: [NETWORK, NETWORK, CLOUD, CLOUD],
    createdAt: T0,
    actions: [
      { after: 15 * MINUTE, worker: true },
      { after: 25 * MINUTE, command: ack },
      { after: 45 * MINUTE, command: resolve },
    ],
  },
  {
    name: 'S4',
    priority: 'P1',
    categories: [BREACH],
    createdAt: T0,
    actions: [
      { after: 5 * MINUTE, command: ack },
      { after: 10 * MINUTE, command: up('L2') },
      { after: 15 * MINUTE, command: up('L3') },
      { after: 20 * MINUTE, command: up('LX') },
      { after: 30 * MINUTE, command: ack },
      { after: 60 * MINUTE, command: resolve },
      { after: 70 * MINUTE, command: { type: 'reopen', reason: 'Still leaking' } },
      { after: 100 * MINUTE, command: resolve },
      { after: 110 * MINUTE, command: { type: 'close' } },
    ],
  },
  {
    name: 'S5',
    priority: 'P1',
    categories: ALL,
    createdAt: T0,
    actions: [
      { after: 10 * MINUTE, command: ack },
      { after: 20 * MINUTE, command: { type: 'pend', reason: 'requester', note: 'Waiting for a screenshot' } },
    ],
  },
  {
    name: 'S6',
    priority: 'P3',
    categories: [SOFTWARE, NETWORK],
    createdAt: T0 + 7 * HOUR,
    actions: [
      { after: 30 * MINUTE, command: ack },
      { after: 19 * HOUR, command: resolve },
    ],
  },
  {
    name: 'V1',
    priority: 'P1',
    categories: [NETWORK, NETWORK],
    createdAt: T1,
    actions: [
      { after: 5 * MINUTE, command: ack },
      { after: 10 * MINUTE, command: up('L2') },
      { after: 15 * MINUTE, command: up('L3') },
      { after: 20 * MINUTE, command: up('LX') },
      { after: 25 * MINUTE, command: ack },
      { after: 30 * MINUTE, command: handTo(acmeOld) },
      { after: 40 * MINUTE, command: vendorAck },
      { after: 150 * MINUTE, command: vendorDone },
      { after: 160 * MINUTE, command: resolve },
    ],
  },
  {
    name: 'V2',
    priority: 'P1',
    categories: [CLOUD],
    createdAt: T1,
    actions: [
      { after: 5 * MINUTE, command: ack },
      { after: 10 * MINUTE, command: up('L2') },
      { after: 15 * MINUTE, command: ack },
      { after: 20 * MINUTE, command: handTo(bolt) },
      { after: 100 * MINUTE, command: vendorAck },
      { after: 200 * MINUTE, command: vendorDone },
      { after: 210 * MINUTE, command: resolve },
      { after: 220 * MINUTE, command: reopen },
      { after: 240 * MINUTE, command: resolve },
    ],
  },
  {
    name: 'V3',
    priority: 'P1',
    categories: [NETWORK],
    createdAt: T1,
    actions: [
      { after: 5 * MINUTE, command: ack },
      { after: 10 * MINUTE, command: up('LX') },
      { after: 15 * MINUTE, command: ack },
      { after: 40 * MINUTE, command: handTo(acme) },
      { after: 90 * MINUTE, command: resolve },
    ],
  },
  {
    name: 'V4',
    priority: 'P1',
    categories: [SOFTWARE],
    createdAt: T1,
    actions: [
      { after: 5 * MINUTE, command: ack },
      { after: 10 * MINUTE, command: handTo(bolt) },
      { after: 20 * MINUTE, command: vendorAck },
      { after: 25 * MINUTE, command: { type: 'resume' } },
      { after: 30 * MINUTE, command: handTo(acme) },
      { after: 45 * MINUTE, command: vendorAck },
      { after: 70 * MINUTE, command: vendorDone },
      { after: 80 * MINUTE, command: resolve },
      { after: 90 * MINUTE, command: reopen },
      { after: 100 * MINUTE, command: resolve },
    ],
  },
  {
    name: 'V5',
    priority: 'P1',
    categories: [CLOUD],
    createdAt: T1,
    actions: [
      { after: 5 * MINUTE, command: ack },
      { after: 10 * MINUTE, command: up('L2') },
      { after: 15 * MINUTE, command: ack },
      { after: 20 * MINUTE, command: handTo(bolt) },
    ],
  },
];

/** The March week alone: the simulator replays open incidents up to the clock, which the later weeks would move. */
export const MARCH_SCENARIOS = SCENARIOS.filter((s) => s.name.startsWith('S'));

export interface LoadedFixture {
  /** Incident ids by scenario name. */
  ids: Record<string, number[]>;
}

/**
 * Creates the incidents and plays every step in time order: the clock is set to the step's instant,
 * the worker runs where the plan says, commands go through the incident use case as an administrator.
 */
export async function loadFixture(
  t: TestServer,
  clock: TestClock,
  scenarios: readonly Scenario[] = SCENARIOS,
): Promise<LoadedFixture> {
  const requester = await t.user('requester');
  const admin = await t.user('admin');
  const asRequester: Actor = { id: requester.id, role: 'requester', tiers: [] };
  const asAdmin: Actor = { id: admin.id, role: 'admin', tiers: [] };
  const ids: Record<string, number[]> = {};
  const steps: Array<{ at: number; order: number; run: () => Promise<unknown> }> = [];
  let order = 0;
  for (const s of scenarios) {
    ids[s.name] = [];
    for (const category of s.categories) {
      const slot = ids[s.name]!.length;
      ids[s.name]!.push(0);
      steps.push({
        at: s.createdAt,
        order: order++,
        run: async () => {
          const incident = await createIncident(t.palier.services, asRequester, {
            title: `${s.name} ${category}`,
            description: `Scenario ${s.name}`,
            category,
            ...LEVELS_OF[s.priority],
          });
          ids[s.name]![slot] = incident.id;
        },
      });
      for (const a of s.actions)
        steps.push({
          at: s.createdAt + a.after,
          order: order++,
          run: () =>
            a.worker
              ? t.palier.worker.runOnce(clock.at)
              : actOnIncident(t.palier.services, asAdmin, ids[s.name]![slot]!, a.command!),
        });
    }
  }
  steps.sort((a, b) => a.at - b.at || a.order - b.order);
  for (const step of steps) {
    clock.at = step.at;
    await step.run();
  }
  return { ids };
}
