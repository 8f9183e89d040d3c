/**
 * Random command sequences, sent by random roles to the real server: no 5xx ever, every incident's
 * stored row is the fold of its events and a valid state, every event an actor caused was allowed
 * to them by the policy, refused commands write nothing, and the audit chains verify.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/domain/clock.js';
import {
  apply,
  OPEN_STATUSES,
  project,
  STATUSES,
  type Incident,
  type IncidentEvent,
  type IncidentEventKind,
} from '../../src/domain/incident.js';
import { can, confidentialRules, type Actor, type Permission } from '../../src/domain/policy.js';
import { SEED_MATRIX } from '../../src/domain/seed-matrix.js';
import { verifyAuditChains } from '../../src/services/audit.service.js';
import { ENGINES, type EngineName } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** Every instant asked for is later than the last: each command's events share one distinct `at`. */
class StrictlyIncreasingClock implements Clock {
  private last = 0;
  now() {
    this.last = Math.max(Date.now(), this.last + 1);
    return this.last;
  }
}

/** The permission an actor needs for each kind of event they cause; timer events are never an actor's. */
const KIND_PERMISSION: Partial<Record<IncidentEventKind, Permission>> = {
  created: 'incident.create',
  acknowledged: 'incident.work',
  work_started: 'incident.work',
  pended: 'incident.work',
  resumed: 'incident.work',
  escalated: 'incident.work',
  handed_back: 'incident.work',
  resolved: 'incident.work',
  action_checked: 'incident.work',
  action_unchecked: 'incident.work',
  clock_stopped: 'incident.work',
  closed: 'incident.close',
  reopened: 'incident.reopen',
  commented: 'incident.comment',
};

const CATEGORIES = ['network-downtime', 'data-security-breach', 'software-installation-failure', 'no-such-category'];
const TIERS = [undefined, 'L1', 'L2', 'L3', 'LX', 'ZZ'];
const OPS = [
  'create',
  'acknowledge',
  'start',
  'pend',
  'resume',
  'escalate',
  'hand-back',
  'resolve',
  'close',
  'reopen',
  'comments',
  'check',
  'stop-clock',
  'read',
  'list',
] as const;
type Op = (typeof OPS)[number];

const stepArb = fc.record({
  who: fc.nat({ max: 7 }), // index into the users; 7 is anonymous
  op: fc.constantFrom(...OPS),
  target: fc.nat({ max: 5 }), // past the incidents made so far: an id that does not exist
  variant: fc.nat({ max: 11 }),
});

const ALLOWED = new Set([200, 201, 204, 400, 401, 403, 404, 409]);

function request(op: Op, id: number, v: number, users: TestUser[]): { method: string; path: string; body?: unknown } {
  const base = `/api/v1/incidents/${id}`;
  switch (op) {
    case 'create':
      return {
        method: 'POST',
        path: '/api/v1/incidents',
        body: {
          title: `Incident ${v}`,
          description: '',
          category: CATEGORIES[v % CATEGORIES.length],
          impact: (v % 3) + 1,
          urgency: ((v >> 1) % 3) + 1,
          ...(v % 4 === 3 ? { requesterId: users[v % users.length]!.id } : {}),
        },
      };
    case 'pend':
      return { method: 'POST', path: `${base}/pend`, body: { reason: v % 2 ? 'vendor' : 'requester', note: '' } };
    case 'escalate':
      return {
        method: 'POST',
        path: `${base}/escalate`,
        body: { reason: 'Needs help', ...(TIERS[v % TIERS.length] ? { tier: TIERS[v % TIERS.length] } : {}) },
      };
    case 'hand-back':
      return {
        method: 'POST',
        path: `${base}/hand-back`,
        body: { reason: 'Back down', ...(TIERS[v % TIERS.length] ? { tier: TIERS[v % TIERS.length] } : {}) },
      };
    case 'resolve':
      return { method: 'POST', path: `${base}/resolve`, body: { resolution: 'Fixed' } };
    case 'reopen':
      return { method: 'POST', path: `${base}/reopen`, body: { reason: 'Back again' } };
    case 'comments':
      return { method: 'POST', path: `${base}/comments`, body: { body: `Note ${v}` } };
    case 'check':
      return { method: 'PUT', path: `${base}/checklist/${v % 6}`, body: { checked: v % 2 === 0 } };
    case 'stop-clock':
      return { method: 'POST', path: `${base}/clocks/gdpr-art33/stop`, body: { note: 'Notified' } };
    case 'read':
      return { method: 'GET', path: base };
    case 'list':
      return { method: 'GET', path: `/api/v1/incidents?limit=200${v % 2 ? '&status=open' : ''}` };
    default:
      return { method: 'POST', path: `${base}/${op}` };
  }
}

/** What a stored incident must always satisfy. */
function expectValidState(i: Incident, tiers: string[]) {
  expect(STATUSES).toContain(i.status);
  expect(tiers).toContain(i.tier);
  expect(i.status === 'pending').toBe(i.pendingReason !== null);
  if (i.status === 'resolved' || i.status === 'closed') expect(i.resolvedAt).not.toBeNull();
  if (i.status === 'closed') expect(i.closedAt).not.toBeNull();
  // (An incident resolved straight from new and reopened is in progress without ever being acknowledged.)
  if (i.status === 'acknowledged') expect(i.acknowledgedAt).not.toBeNull();
  if (OPEN_STATUSES.includes(i.status)) expect(i.resolvedAt).toBeNull();
  expect(i.closedAt === null).toBe(i.status !== 'closed');
  expect(i.seq).toBeGreaterThanOrEqual(1);
}

const SEED_RULES = confidentialRules(SEED_MATRIX);

/** Every event with an actor was allowed to that actor on the incident as it stood before the command. */
function expectPolicyKept(events: IncidentEvent[], actors: Map<number, Actor>) {
  let state: Incident | undefined;
  let before: Incident | undefined;
  let command: string | undefined;
  for (const e of events) {
    const key = `${e.at}:${e.actorId}`;
    if (key !== command) {
      before = state;
      command = key;
    }
    if (e.actorId !== null) {
      const actor = actors.get(e.actorId)!;
      const permission = KIND_PERMISSION[e.kind];
      expect(permission, `${e.kind} caused by user ${e.actorId}`).toBeDefined();
      if (e.kind === 'created') {
        const data = e.data as { requesterId: number };
        if (data.requesterId !== actor.id) expect(can(actor, 'incident.create_on_behalf'), 'created on behalf').toBe(true);
      } else {
        expect(
          can(actor, permission!, before!, SEED_RULES),
          `${actor.role} ${actor.tiers} ${e.kind} at ${before?.tier}/${before?.status}`,
        ).toBe(true);
      }
    }
    state = apply(state, e);
  }
}

describe.each(ENGINES)('random command sequences against the server on %s', (engine: EngineName) => {
  let t: TestServer;
  let users: TestUser[];
  let actors: Map<number, Actor>;
  let tiers: string[];

  beforeAll(async () => {
    t = await startServer(engine, { clock: new StrictlyIncreasingClock() });
    users = [
      await t.user('requester'),
      await t.user('requester'),
      await t.user('agent', { tiers: ['L1'] }),
      await t.user('agent', { tiers: ['L2'] }),
      await t.user('agent', { tiers: ['L3', 'LX'] }),
      await t.user('manager'),
    ];
    const admin = await t.user('admin');
    users.push(admin); // requesters 0 and 1, agents 2 (L1), 3 (L2), 4 (L3, LX), manager 5, admin 6
    actors = new Map();
    for (const u of users) {
      const me = (await t.api('GET', '/api/v1/users/me', { as: u })).body;
      actors.set(u.id, { id: u.id, role: me.role, tiers: me.tiers });
    }
    tiers = (await t.api('GET', '/api/v1/matrix', { as: admin })).body.tiers.map((x: Json) => x.key);
  }, 60_000);
  afterAll(async () => t?.close());

  it('never answers 5xx, keeps every incident valid, and records only events the policy allows', async () => {
    const tally: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 40 }), async (steps) => {
        // Three incidents to act on from the start (two of requester 0, one of requester 1, one a data breach).
        const ids: number[] = [];
        for (const [who, category] of [
          [0, 'network-downtime'],
          [0, 'data-security-breach'],
          [1, 'cloud-service-interruption'],
        ] as const) {
          const res = await t.api('POST', '/api/v1/incidents', {
            as: users[who],
            body: { title: 'Start', description: '', category, impact: 2, urgency: 2 },
          });
          ids.push(res.body.id);
        }
        for (const step of steps) {
          const as = users[step.who]; // undefined: anonymous
          const id = ids[step.target] ?? 999_999;
          const req = request(step.op, id, step.variant, users);
          const before = ids.includes(id) ? (await t.palier.services.incidents.events(id)).length : 0;
          const res = await t.api(req.method, req.path, { as, body: req.body });
          expect(
            ALLOWED,
            `${req.method} ${req.path} as ${as ? actors.get(as.id)!.role : 'anonymous'}: ${res.status} ${JSON.stringify(res.body)}`,
          ).toContain(res.status);
          if (step.op === 'create' && res.status === 201) ids.push(res.body.id);
          if (ids.includes(id) || step.op === 'create')
            tally[`${step.op} ${res.status}`] = (tally[`${step.op} ${res.status}`] ?? 0) + 1;
          if (step.op === 'list' && res.status === 200 && as && actors.get(as.id)!.role === 'requester')
            expect(res.body.items.every((i: Json) => i.requesterId === as.id)).toBe(true);
          if (ids.includes(id) && !['create', 'read', 'list'].includes(step.op)) {
            const after = (await t.palier.services.incidents.events(id)).length;
            if (res.status >= 400) expect(after, `refused ${req.path} wrote events`).toBe(before);
            else expect(after).toBeGreaterThan(before);
          }
        }
        for (const id of ids) {
          const events = await t.palier.services.incidents.events(id);
          const stored = (await t.palier.services.incidents.get(id))!;
          expect(project(events)).toEqual(stored);
          expectValidState(stored, tiers);
          expectPolicyKept(events, actors);
        }
      }),
      { numRuns: 60, endOnFailure: true },
    );
    expect((await verifyAuditChains(t.palier.services.store)).broken).toBeNull();
    // The sequences did reach the interesting paths: several kinds of command went through and were refused.
    const kinds = (ok: boolean) =>
      new Set(
        Object.keys(tally)
          .filter((k) => Number(k.split(' ')[1]) < 300 === ok)
          .map((k) => k.split(' ')[0]),
      );
    expect(kinds(true).size).toBeGreaterThanOrEqual(6);
    expect(kinds(false).size).toBeGreaterThanOrEqual(6);
  }, 300_000);
});
