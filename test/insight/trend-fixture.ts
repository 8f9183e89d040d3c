/**
 * A fortnight of incidents for the trend report and its CSV: known incidents on known days, played
 * through the real use cases and worker (test/insight/fixture.ts). Seed SLA targets, all P1: L1
 * acknowledge 15 min / resolve 1 h, L2 15 min / 2 h.
 *
 *  name  count, category        created (UTC)            events (minutes after creation)
 *  W0    1 network              Sun 2026-03-01 23:00     ack 10, resolve 40 (before the period, but for partial periods)
 *  A     2 network              Mon 2026-03-02 10:00     ack 10, resolve 40
 *  B     1 cloud                Wed 2026-03-04 10:00     no ack: the worker escalates to L2 at 15 (L1 ack missed); ack 25, resolve 45
 *  C     1 software             Wed 2026-03-04 10:00     ack 5, by hand to L2 at 20, ack 30, resolve 80
 *  E     1 network              Thu 2026-03-05 10:00     ack 10; still open
 *  F     1 network              Thu 2026-03-05 11:00     ack 5; handed at 10 to a vendor whose name is a spreadsheet formula; open
 *  D     1 data breach          Tue 2026-03-10 09:00     ack 10, resolve 40 (a confidential category)
 *
 * Tuesday 03-03 and 03-06 to 03-09 have no incident.
 */
import type { IncidentCommand } from '../../src/domain/incident.js';
import { MINUTE } from '../helpers/incident-builders.js';
import { BREACH, CLOUD, NETWORK, SOFTWARE, type Scenario } from './fixture.js';

export const FORMULA_VENDOR = '=HYPERLINK("https://evil.example/","Click")';

const ack: IncidentCommand = { type: 'acknowledge' };
const resolve: IncidentCommand = { type: 'resolve', resolution: 'Fixed' };
const at = (iso: string) => Date.parse(iso);
const quick = [
  { after: 10 * MINUTE, command: ack },
  { after: 40 * MINUTE, command: resolve },
];

export const TREND_SCENARIOS: Scenario[] = [
  { name: 'W0', priority: 'P1', categories: [NETWORK], createdAt: at('2026-03-01T23:00:00Z'), actions: quick },
  { name: 'A', priority: 'P1', categories: [NETWORK, NETWORK], createdAt: at('2026-03-02T10:00:00Z'), actions: quick },
  {
    name: 'B',
    priority: 'P1',
    categories: [CLOUD],
    createdAt: at('2026-03-04T10:00:00Z'),
    actions: [
      { after: 15 * MINUTE, worker: true },
      { after: 25 * MINUTE, command: ack },
      { after: 45 * MINUTE, command: resolve },
    ],
  },
  {
    name: 'C',
    priority: 'P1',
    categories: [SOFTWARE],
    createdAt: at('2026-03-04T10:00:00Z'),
    actions: [
      { after: 5 * MINUTE, command: ack },
      { after: 20 * MINUTE, command: { type: 'escalate', tier: 'L2', reason: 'Needs the next tier' } },
      { after: 30 * MINUTE, command: ack },
      { after: 80 * MINUTE, command: resolve },
    ],
  },
  {
    name: 'E',
    priority: 'P1',
    categories: [NETWORK],
    createdAt: at('2026-03-05T10:00:00Z'),
    actions: [{ after: 10 * MINUTE, command: ack }],
  },
  {
    name: 'F',
    priority: 'P1',
    categories: [NETWORK],
    createdAt: at('2026-03-05T11:00:00Z'),
    actions: [
      { after: 5 * MINUTE, command: ack },
      {
        after: 10 * MINUTE,
        command: {
          type: 'engage_vendor',
          vendor: { id: 900, name: FORMULA_VENDOR, acknowledge: 'PT1H', resolve: 'PT4H' },
          note: 'Contract support',
        },
      },
    ],
  },
  { name: 'D', priority: 'P1', categories: [BREACH], createdAt: at('2026-03-10T09:00:00Z'), actions: quick },
];
