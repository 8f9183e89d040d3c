import { isDeepStrictEqual } from 'node:util';
import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import {
  STATUSES,
  apply,
  decide,
  decideCreate,
  project,
  unmetMandatory,
  type Incident,
  type IncidentCommand,
  type IncidentEvent,
  type IncidentStatus,
} from '../../src/domain/incident.js';
import { actionsFor, tierIndex, type MatrixDefinition } from '../../src/domain/matrix.js';
import { created, domainErrorOf, newIncident, seedCopy, step, versioned, type VersionedMatrix } from '../helpers/builders.js';

const MATRIX = versioned();
const T0 = 1_700_000_000_000;

/** An incident of `category` brought to `status` at `tier` by ordinary commands. */
function incidentAt(status: IncidentStatus, opts: { tier?: string; category?: string; matrix?: VersionedMatrix } = {}) {
  const matrix = opts.matrix ?? MATRIX;
  let { incident } = created(matrix, newIncident({ category: opts.category ?? 'network-downtime' }), T0);
  let at = T0;
  const run = (command: IncidentCommand) => (incident = step(incident, command, matrix, (at += 60_000)).incident);
  if (opts.tier && opts.tier !== incident.tier) run({ type: 'escalate', tier: opts.tier, reason: 'setup' });
  if (status === 'acknowledged') run({ type: 'acknowledge' });
  if (status === 'in_progress') run({ type: 'start' });
  if (status === 'pending') {
    run({ type: 'start' });
    run({ type: 'pend', reason: 'vendor', note: 'Waiting for a part' });
  }
  if (status === 'resolved' || status === 'closed') run({ type: 'resolve', resolution: 'Rebooted' });
  if (status === 'closed') run({ type: 'close' });
  expect(incident.status).toBe(status);
  return incident;
}

function refusal(incident: Incident, command: IncidentCommand, matrix: MatrixDefinition = MATRIX) {
  return domainErrorOf(() => decide(incident, command, 42, matrix));
}

describe('decideCreate', () => {
  it('creates at the lowest tier, with the priority of the matrix table and the matrix version', () => {
    const { incident, events } = created(versioned(seedCopy(), 3), newIncident({ impact: 1, urgency: 3 }), T0, 12);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'created', seq: 1, fromTier: null, toTier: 'L1', incidentId: 12, at: T0 });
    expect(incident).toEqual({
      id: 12,
      title: 'VPN down',
      description: 'Since 9:00 nobody on floor 2 can connect',
      category: 'network-downtime',
      impact: 1,
      urgency: 3,
      priority: 'P3',
      requesterId: 7,
      assigneeId: null,
      tier: 'L1',
      status: 'new',
      pendingReason: null,
      matrixVersion: 3,
      checklist: {},
      reopenCount: 0,
      escalationCount: 0,
      resolution: null,
      tierEnteredAt: T0,
      createdAt: T0,
      updatedAt: T0,
      acknowledgedAt: null,
      resolvedAt: null,
      closedAt: null,
      vendorId: null,
      vendorTicket: null,
      vendorStatus: null,
      seq: 1,
    });
  });

  it('refuses an unknown category', () => {
    const error = domainErrorOf(() => decideCreate(newIncident({ category: 'printer-jam' }), MATRIX));
    expect(error).toMatchObject({ kind: 'invalid', code: 'unknown_category' });
    expect(error.details?.[0]?.path).toBe('category');
  });
});

describe('decide and apply, command by command', () => {
  it('acknowledge: new -> acknowledged, assigned to the actor, acknowledgedAt set', () => {
    const incident = incidentAt('new');
    const { incident: after, events } = step(incident, { type: 'acknowledge' }, MATRIX, T0 + 5_000, 99);
    expect(events.map((e) => e.kind)).toEqual(['acknowledged']);
    expect(events[0]).toMatchObject({ seq: 2, actorId: 99, fromTier: 'L1', toTier: 'L1', data: { assigneeId: 99 } });
    expect(after).toMatchObject({
      status: 'acknowledged',
      assigneeId: 99,
      acknowledgedAt: T0 + 5_000,
      updatedAt: T0 + 5_000,
      seq: 2,
    });
  });

  it.each(['acknowledged', 'in_progress', 'pending', 'resolved', 'closed'] as const)(
    'acknowledge is refused when %s',
    (status) => {
      expect(refusal(incidentAt(status), { type: 'acknowledge' })).toMatchObject({
        kind: 'conflict',
        code: 'invalid_transition',
      });
    },
  );

  it('start on a new incident acknowledges it first, then starts work', () => {
    const { incident, events } = step(incidentAt('new'), { type: 'start' }, MATRIX, T0 + 1, 5);
    expect(events.map((e) => e.kind)).toEqual(['acknowledged', 'work_started']);
    expect(events.map((e) => e.seq)).toEqual([2, 3]);
    expect(incident).toMatchObject({ status: 'in_progress', assigneeId: 5, acknowledgedAt: T0 + 1, seq: 3 });
  });

  it('start on an acknowledged incident only starts work, keeping the first acknowledgement time', () => {
    const before = incidentAt('acknowledged');
    const { incident, events } = step(before, { type: 'start' }, MATRIX, T0 + 10_000_000, 6);
    expect(events.map((e) => e.kind)).toEqual(['work_started']);
    expect(incident).toMatchObject({ status: 'in_progress', assigneeId: 6, acknowledgedAt: before.acknowledgedAt });
  });

  it.each(['in_progress', 'pending', 'resolved', 'closed'] as const)('start is refused when %s', (status) => {
    expect(refusal(incidentAt(status), { type: 'start' })).toMatchObject({ kind: 'conflict', code: 'invalid_transition' });
  });

  it.each(['acknowledged', 'in_progress'] as const)('pend from %s -> pending with the reason', (status) => {
    const { incident, events } = step(
      incidentAt(status),
      { type: 'pend', reason: 'requester', note: 'Which laptop?' },
      MATRIX,
      T0 + 1,
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'pended', data: { reason: 'requester', note: 'Which laptop?' } });
    expect(incident).toMatchObject({ status: 'pending', pendingReason: 'requester' });
  });

  it.each(['new', 'pending', 'resolved', 'closed'] as const)('pend is refused when %s', (status) => {
    expect(refusal(incidentAt(status), { type: 'pend', reason: 'vendor', note: '' })).toMatchObject({
      kind: 'conflict',
      code: 'invalid_transition',
    });
  });

  it('resume: pending -> in progress, reason cleared', () => {
    const { incident, events } = step(incidentAt('pending'), { type: 'resume' }, MATRIX, T0 + 1);
    expect(events.map((e) => e.kind)).toEqual(['resumed']);
    expect(incident).toMatchObject({ status: 'in_progress', pendingReason: null });
  });

  it.each(['new', 'acknowledged', 'in_progress', 'resolved', 'closed'] as const)('resume is refused when %s', (status) => {
    expect(refusal(incidentAt(status), { type: 'resume' })).toMatchObject({ kind: 'conflict', code: 'invalid_transition' });
  });

  it.each(['new', 'acknowledged', 'in_progress', 'pending'] as const)(
    'resolve from %s -> resolved, resolution and resolvedAt set',
    (status) => {
      const { incident, events } = step(
        incidentAt(status),
        { type: 'resolve', resolution: 'Replaced the switch' },
        MATRIX,
        T0 + 9,
      );
      expect(events.map((e) => e.kind)).toEqual(['resolved']);
      expect(incident).toMatchObject({
        status: 'resolved',
        resolution: 'Replaced the switch',
        resolvedAt: T0 + 9,
        pendingReason: null,
      });
    },
  );

  it.each(['resolved', 'closed'] as const)('resolve is refused when %s', (status) => {
    expect(refusal(incidentAt(status), { type: 'resolve', resolution: 'x' })).toMatchObject({
      kind: 'conflict',
      code: 'invalid_transition',
    });
  });

  it('close: resolved -> closed, closedAt set, resolution and resolvedAt kept', () => {
    const before = incidentAt('resolved');
    const { incident } = step(before, { type: 'close' }, MATRIX, T0 + 99_999_999);
    expect(incident).toMatchObject({
      status: 'closed',
      closedAt: T0 + 99_999_999,
      resolvedAt: before.resolvedAt,
      resolution: 'Rebooted',
    });
  });

  it.each(['new', 'acknowledged', 'in_progress', 'pending', 'closed'] as const)('close is refused when %s', (status) => {
    expect(refusal(incidentAt(status), { type: 'close' })).toMatchObject({ kind: 'conflict', code: 'invalid_transition' });
  });

  it('reopen: resolved -> in progress, resolution cleared, reopenCount + 1', () => {
    const { incident, events } = step(incidentAt('resolved'), { type: 'reopen', reason: 'Still down' }, MATRIX, T0 + 1);
    expect(events[0]).toMatchObject({ kind: 'reopened', data: { reason: 'Still down' } });
    expect(incident).toMatchObject({ status: 'in_progress', resolution: null, resolvedAt: null, reopenCount: 1 });
  });

  it.each(['new', 'acknowledged', 'in_progress', 'pending', 'closed'] as const)('reopen is refused when %s', (status) => {
    expect(refusal(incidentAt(status), { type: 'reopen', reason: 'x' })).toMatchObject({
      kind: 'conflict',
      code: 'invalid_transition',
    });
  });

  it.each(['new', 'pending', 'resolved'] as const)('comment when %s changes nothing but seq and updatedAt', (status) => {
    const before = incidentAt(status);
    const { incident, events } = step(before, { type: 'comment', body: 'Any news?' }, MATRIX, T0 + 77_777_777);
    expect(events).toEqual([expect.objectContaining({ kind: 'commented', data: { body: 'Any news?' } })]);
    expect(incident).toEqual({ ...before, seq: before.seq + 1, updatedAt: T0 + 77_777_777 });
  });

  it('comment is refused on a closed incident', () => {
    expect(refusal(incidentAt('closed'), { type: 'comment', body: 'x' })).toMatchObject({
      kind: 'conflict',
      code: 'invalid_transition',
    });
  });

  it('stop_clock stops a clock of the category, and only an existing one', () => {
    const breach = incidentAt('in_progress', { category: 'data-security-breach' });
    const { events } = step(breach, { type: 'stop_clock', key: 'gdpr-art33', note: 'Notified the CNIL' }, MATRIX, T0 + 1);
    expect(events).toEqual([
      expect.objectContaining({ kind: 'clock_stopped', data: { clock: 'category:gdpr-art33', note: 'Notified the CNIL' } }),
    ]);
    expect(refusal(breach, { type: 'stop_clock', key: 'nope', note: '' })).toMatchObject({
      kind: 'invalid',
      code: 'unknown_clock',
    });
    expect(refusal(incidentAt('in_progress'), { type: 'stop_clock', key: 'gdpr-art33', note: '' })).toMatchObject({
      kind: 'invalid',
      code: 'unknown_clock',
    });
  });
});

describe('escalation and hand-back', () => {
  it('escalates to the next tier: status new, nobody assigned, tierEnteredAt set, counted', () => {
    const before = incidentAt('pending');
    expect(before.assigneeId).toBe(42);
    const { incident, events } = step(before, { type: 'escalate', reason: 'Needs L2' }, MATRIX, T0 + 3_600_000);
    expect(events).toEqual([
      expect.objectContaining({
        kind: 'escalated',
        fromTier: 'L1',
        toTier: 'L2',
        data: { reason: 'Needs L2', automatic: false },
      }),
    ]);
    expect(incident).toMatchObject({
      tier: 'L2',
      status: 'new',
      assigneeId: null,
      pendingReason: null,
      tierEnteredAt: T0 + 3_600_000,
      escalationCount: 1,
      acknowledgedAt: before.acknowledgedAt,
    });
  });

  it('escalates straight to a named higher tier', () => {
    const { incident } = step(incidentAt('acknowledged'), { type: 'escalate', tier: 'LX', reason: 'Vendor' }, MATRIX, T0 + 1);
    expect(incident).toMatchObject({ tier: 'LX', status: 'new', escalationCount: 1 });
  });

  it.each(['new', 'acknowledged', 'in_progress', 'pending'] as const)('escalates from %s', (status) => {
    expect(step(incidentAt(status), { type: 'escalate', reason: 'r' }, MATRIX, T0 + 1).incident.tier).toBe('L2');
  });

  it.each(['resolved', 'closed'] as const)('refuses to escalate or hand back when %s', (status) => {
    expect(refusal(incidentAt(status), { type: 'escalate', reason: 'r' })).toMatchObject({
      kind: 'conflict',
      code: 'invalid_transition',
    });
    expect(refusal(incidentAt(status, { tier: 'L2' }), { type: 'hand_back', reason: 'r' })).toMatchObject({
      kind: 'conflict',
      code: 'invalid_transition',
    });
  });

  it('refuses to escalate beyond the top tier (409 top_tier)', () => {
    expect(refusal(incidentAt('in_progress', { tier: 'LX' }), { type: 'escalate', reason: 'r' })).toMatchObject({
      kind: 'conflict',
      code: 'top_tier',
    });
  });

  it('refuses to hand back below the bottom tier (409 bottom_tier)', () => {
    expect(refusal(incidentAt('in_progress'), { type: 'hand_back', reason: 'r' })).toMatchObject({
      kind: 'conflict',
      code: 'bottom_tier',
    });
  });

  it('refuses an unknown tier (invalid unknown_tier), up or down', () => {
    const incident = incidentAt('in_progress', { tier: 'L2' });
    expect(refusal(incident, { type: 'escalate', tier: 'L9', reason: 'r' })).toMatchObject({
      kind: 'invalid',
      code: 'unknown_tier',
    });
    expect(refusal(incident, { type: 'hand_back', tier: 'L0', reason: 'r' })).toMatchObject({
      kind: 'invalid',
      code: 'unknown_tier',
    });
  });

  it('refuses to escalate to a lower or the same tier (not_a_higher_tier), or hand back upwards (not_a_lower_tier)', () => {
    const incident = incidentAt('in_progress', { tier: 'L3' });
    expect(refusal(incident, { type: 'escalate', tier: 'L1', reason: 'r' })).toMatchObject({
      kind: 'invalid',
      code: 'not_a_higher_tier',
    });
    expect(refusal(incident, { type: 'escalate', tier: 'L3', reason: 'r' })).toMatchObject({
      kind: 'invalid',
      code: 'not_a_higher_tier',
    });
    expect(refusal(incident, { type: 'hand_back', tier: 'LX', reason: 'r' })).toMatchObject({
      kind: 'invalid',
      code: 'not_a_lower_tier',
    });
    expect(refusal(incident, { type: 'hand_back', tier: 'L3', reason: 'r' })).toMatchObject({
      kind: 'invalid',
      code: 'not_a_lower_tier',
    });
  });

  it('hands back to the previous tier, or to a named lower one, as a new arrival', () => {
    const incident = incidentAt('in_progress', { tier: 'L3' });
    const back = step(incident, { type: 'hand_back', reason: 'Not infrastructure' }, MATRIX, T0 + 5);
    expect(back.events).toEqual([
      expect.objectContaining({ kind: 'handed_back', fromTier: 'L3', toTier: 'L2', data: { reason: 'Not infrastructure' } }),
    ]);
    expect(back.incident).toMatchObject({
      tier: 'L2',
      status: 'new',
      assigneeId: null,
      tierEnteredAt: T0 + 5,
      escalationCount: 1,
    });
    expect(step(incident, { type: 'hand_back', tier: 'L1', reason: 'r' }, MATRIX, T0 + 5).incident.tier).toBe('L1');
  });

  it('refuses a hand escalation while mandatory actions are neither done nor skipped, and records skips', () => {
    const definition = seedCopy();
    definition.cells.find((c) => c.category === 'network-downtime' && c.tier === 'L1')!.mandatory = [0, 1];
    const matrix = versioned(definition);
    let incident = incidentAt('in_progress', { matrix });
    expect(unmetMandatory(incident, matrix)).toEqual([0, 1]);
    expect(refusal(incident, { type: 'escalate', reason: 'r' }, matrix)).toMatchObject({
      kind: 'conflict',
      code: 'checklist_incomplete',
    });
    incident = step(incident, { type: 'check', index: 0 }, matrix, T0 + 1).incident;
    const error = refusal(incident, { type: 'escalate', reason: 'r' }, matrix);
    expect(error).toMatchObject({ kind: 'conflict', code: 'checklist_incomplete' });
    expect(error.message).toContain('#1');
    const skip = [{ index: 1, reason: 'No switch on site' }];
    const { events, incident: after } = step(incident, { type: 'escalate', reason: 'r', skip }, matrix, T0 + 2);
    expect(events[0]).toMatchObject({ kind: 'escalated', data: { skipped: skip } });
    expect(after.tier).toBe('L2');
  });
});

describe('the checklist', () => {
  it('checks and unchecks actions of the current tier', () => {
    let incident = incidentAt('in_progress');
    const checked = step(incident, { type: 'check', index: 1, note: 'Done remotely' }, MATRIX, T0 + 1);
    expect(checked.events[0]).toMatchObject({
      kind: 'action_checked',
      fromTier: 'L1',
      data: { index: 1, note: 'Done remotely' },
    });
    incident = checked.incident;
    incident = step(incident, { type: 'check', index: 0 }, MATRIX, T0 + 2).incident;
    expect(incident.checklist).toEqual({ L1: [0, 1] });
    incident = step(incident, { type: 'uncheck', index: 1 }, MATRIX, T0 + 3).incident;
    expect(incident.checklist).toEqual({ L1: [0] });
  });

  it('refuses an action index outside the cell (invalid unknown_action)', () => {
    const incident = incidentAt('in_progress');
    const count = actionsFor(MATRIX, 'network-downtime', 'L1').length;
    expect(count).toBe(2);
    for (const index of [-1, count, 99]) {
      expect(refusal(incident, { type: 'check', index })).toMatchObject({ kind: 'invalid', code: 'unknown_action' });
      expect(refusal(incident, { type: 'uncheck', index })).toMatchObject({ kind: 'invalid', code: 'unknown_action' });
    }
  });

  it('refuses to check twice (already_checked) or uncheck what is not checked (not_checked)', () => {
    const incident = step(incidentAt('in_progress'), { type: 'check', index: 0 }, MATRIX, T0 + 1).incident;
    expect(refusal(incident, { type: 'check', index: 0 })).toMatchObject({ kind: 'conflict', code: 'already_checked' });
    expect(refusal(incident, { type: 'uncheck', index: 1 })).toMatchObject({ kind: 'conflict', code: 'not_checked' });
  });

  it.each(['resolved', 'closed'] as const)('refuses checklist changes when %s', (status) => {
    expect(refusal(incidentAt(status), { type: 'check', index: 0 })).toMatchObject({
      kind: 'conflict',
      code: 'invalid_transition',
    });
  });

  it('keeps each tier’s checks across an escalation and a hand-back', () => {
    let incident = incidentAt('in_progress');
    let at = T0 + 1;
    const run = (command: IncidentCommand) => (incident = step(incident, command, MATRIX, (at += 1)).incident);
    run({ type: 'check', index: 0 });
    run({ type: 'check', index: 1 });
    run({ type: 'escalate', reason: 'Needs L2' });
    expect(incident.checklist).toEqual({ L1: [0, 1] });
    // L2 starts with its own, empty checklist.
    run({ type: 'check', index: 0 });
    expect(incident.checklist).toEqual({ L1: [0, 1], L2: [0] });
    run({ type: 'hand_back', reason: 'Back to L1' });
    expect(incident.tier).toBe('L1');
    expect(incident.checklist).toEqual({ L1: [0, 1], L2: [0] });
    expect(refusal(incident, { type: 'check', index: 1 })).toMatchObject({ code: 'already_checked' });
    run({ type: 'uncheck', index: 1 });
    expect(incident.checklist).toEqual({ L1: [0], L2: [0] });
    run({ type: 'escalate', reason: 'Again' });
    expect(refusal(incident, { type: 'check', index: 0 })).toMatchObject({ code: 'already_checked' });
  });
});

// ---------------------------------------------------------------------------------------------
// Model-based: random command sequences against a small independent model of the lifecycle.

const TIERS = MATRIX.tiers.map((t) => t.key);
const tierArb = fc.constantFrom<string | undefined>(undefined, undefined, 'L1', 'L2', 'L3', 'LX', 'L9');
// Weighted so that runs often reach the top tier, come back down, and close.
const commandArb: fc.Arbitrary<IncidentCommand> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ type: 'acknowledge' as const }) },
  { weight: 2, arbitrary: fc.constant({ type: 'start' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('pend' as const),
      reason: fc.constantFrom('requester' as const, 'vendor' as const),
      note: fc.constant('n'),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ type: 'resume' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constant('escalate' as const),
      tier: tierArb,
      reason: fc.constant('r'),
      skip: fc.option(fc.constant<Array<{ index: number; reason: string }>>([{ index: 0, reason: 'skipped' }]), {
        nil: undefined,
      }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('hand_back' as const), tier: tierArb, reason: fc.constant('r') }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('resolve' as const), resolution: fc.constant('fixed') }) },
  { weight: 2, arbitrary: fc.constant({ type: 'close' as const }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('reopen' as const), reason: fc.constant('again') }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('comment' as const), body: fc.constant('hello') }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('check' as const), index: fc.integer({ min: -1, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('uncheck' as const), index: fc.integer({ min: -1, max: 2 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('stop_clock' as const),
      key: fc.constantFrom('gdpr-art33', 'nope'),
      note: fc.constant('n'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('engage_vendor' as const), vendor: fc.constant({ id: 7, name: 'Acme', acknowledge: 'PT4H' }), note: fc.constant('n') }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('vendor_acknowledge' as const), ticket: fc.constant('ACME-1') }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('vendor_update' as const), note: fc.constant('u') }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('vendor_done' as const), note: fc.constant('d') }) },
);

/** One matrix as shipped, one where the first action of every L1 and L2 cell is mandatory. */
const withMandatory = (() => {
  const d = seedCopy();
  for (const cell of d.cells) if (cell.tier === 'L1' || cell.tier === 'L2') cell.mandatory = [0];
  return versioned(d);
})();

interface Model {
  status: IncidentStatus;
  tier: number;
  checklist: Map<number, Set<number>>;
  escalations: number;
  /** Where the vendor's part stands; null until one is engaged. */
  vendor?: 'engaged' | 'acknowledged' | 'done' | null;
  pendingOnVendor?: boolean;
}

type Expected = { ok: true; status: IncidentStatus; tier: number; events: number } | { ok: false; code: string };

const OPEN: IncidentStatus[] = ['new', 'acknowledged', 'in_progress', 'pending'];

/** What the lifecycle should do, written from the rules rather than from the code. */
function expect_(model: Model, command: IncidentCommand, matrix: MatrixDefinition, category: string): Expected {
  const s = model.status;
  const refuse = (code = 'invalid_transition'): Expected => ({ ok: false, code });
  const to = (status: IncidentStatus, events = 1, tier = model.tier): Expected => ({ ok: true, status, tier, events });
  const cell = matrix.cells.find((c) => c.category === category && c.tier === TIERS[model.tier])!;
  const checked = model.checklist.get(model.tier) ?? new Set<number>();
  switch (command.type) {
    case 'acknowledge':
      return s === 'new' ? to('acknowledged') : refuse();
    case 'start':
      return s === 'new' ? to('in_progress', 2) : s === 'acknowledged' ? to('in_progress') : refuse();
    case 'pend':
      return s === 'acknowledged' || s === 'in_progress' ? to('pending') : refuse();
    case 'resume':
      return s === 'pending' ? to('in_progress') : refuse();
    case 'escalate': {
      if (!OPEN.includes(s)) return refuse();
      if (command.tier === undefined && model.tier === TIERS.length - 1) return refuse('top_tier');
      const target = command.tier === undefined ? model.tier + 1 : TIERS.indexOf(command.tier);
      if (target < 0) return refuse('unknown_tier');
      if (target <= model.tier) return refuse('not_a_higher_tier');
      const skipped = new Set((command.skip ?? []).map((x) => x.index));
      if ((cell.mandatory ?? []).some((i) => !checked.has(i) && !skipped.has(i))) return refuse('checklist_incomplete');
      return to('new', 1, target);
    }
    case 'hand_back': {
      if (!OPEN.includes(s)) return refuse();
      if (command.tier === undefined && model.tier === 0) return refuse('bottom_tier');
      const target = command.tier === undefined ? model.tier - 1 : TIERS.indexOf(command.tier);
      if (target < 0) return refuse('unknown_tier');
      if (target >= model.tier) return refuse('not_a_lower_tier');
      return to('new', 1, target);
    }
    case 'resolve':
      return OPEN.includes(s) ? to('resolved') : refuse();
    case 'close':
      return s === 'resolved' ? to('closed') : refuse();
    case 'reopen':
      return s === 'resolved' ? to('in_progress') : refuse();
    case 'comment':
      return s === 'closed' ? refuse() : to(s);
    case 'check':
    case 'uncheck':
      if (!OPEN.includes(s)) return refuse();
      if (command.index < 0 || command.index >= cell.actions.length) return refuse('unknown_action');
      if (command.type === 'check') return checked.has(command.index) ? refuse('already_checked') : to(s);
      return checked.has(command.index) ? to(s) : refuse('not_checked');
    case 'stop_clock': {
      if (s === 'closed') return refuse();
      const hasClock = matrix.categories.find((c) => c.key === category)?.clocks?.some((c) => c.key === command.key);
      return hasClock ? to(s) : refuse('unknown_clock');
    }
    case 'engage_vendor':
      return s === 'acknowledged' || s === 'in_progress' ? to('pending') : refuse();
    case 'vendor_acknowledge':
    case 'vendor_update':
    case 'vendor_done': {
      const v = model.vendor ?? null;
      if (v === null || v === 'done' || !OPEN.includes(s)) return refuse('vendor_not_engaged');
      if (command.type === 'vendor_acknowledge') return v === 'engaged' ? to(s) : refuse('already_acknowledged');
      if (command.type === 'vendor_update') return to(s);
      // The vendor's part done gives the incident back to the tier, if it was waiting on the vendor.
      return to(s === 'pending' && model.pendingOnVendor ? 'in_progress' : s);
    }
  }
}

/** What the random runs reached, to check below that the generator explores the lifecycle. */
const reached = { runs: 0, closed: 0, escalatedToTop: 0, handedBack: 0, refused: 0 };

/** Cheap assertions for the hot loop; `same` falls back to expect() for a readable diff. */
function ok(condition: boolean, message: () => string): void {
  if (!condition) throw new Error(message());
}
function same(actual: unknown, wanted: unknown, message: () => string): void {
  if (!isDeepStrictEqual(actual, wanted)) expect(actual, message()).toEqual(wanted);
}

describe('the lifecycle, model-based', () => {
  fcTest.prop(
    [
      fc.constantFrom(MATRIX, withMandatory),
      fc.constantFrom('software-installation-failure', 'network-downtime', 'data-security-breach', 'cloud-service-interruption'),
      fc.array(fc.tuple(commandArb, fc.integer({ min: 0, max: 3_600_000 }), fc.integer({ min: 1, max: 4 })), {
        maxLength: 40,
        size: 'max',
      }),
    ],
    { numRuns: 300 },
  )('keeps its invariants over any sequence of commands', (matrix, category, commands) => {
    const start = created(matrix, newIncident({ category }), T0, 5);
    let incident = start.incident;
    const log: IncidentEvent[] = [...start.events];
    const model: Model = { status: 'new', tier: 0, checklist: new Map(), escalations: 0 };
    let at = T0;

    for (const [command, wait, actorId] of commands) {
      at += wait;
      const before = incident;
      const expected = expect_(model, command, matrix, category);
      const what = () => `${command.type} ${JSON.stringify(command)} at ${before.tier}/${before.status}`;

      let pending: ReturnType<typeof decide> | undefined;
      let error: unknown;
      try {
        pending = decide(before, command, actorId, matrix);
      } catch (e) {
        error = e;
      }
      // Either events or a DomainError; nothing else ever escapes decide().
      if (error !== undefined) {
        reached.refused++;
        ok(error instanceof DomainError, () => `${what()} threw a non-domain error: ${String(error)}`);
        const e = error as DomainError;
        ok(before.status !== 'closed' || e.kind === 'conflict', () => `${what()}: refused with ${e.kind}, not conflict`);
        same({ ok: false, code: e.code }, expected, () => `${what()} was refused with ${e.code}`);
        continue;
      }
      // Once closed, every command is refused.
      ok(before.status !== 'closed', () => `${what()} was accepted on a closed incident`);
      ok(pending!.length > 0, () => `${what()} decided no event`);
      ok(
        expected.ok && expected.events === pending!.length,
        () => `${what()} gave ${pending!.length} event(s), model: ${JSON.stringify(expected)}`,
      );

      const events = pending!.map((p, i) => ({ ...p, incidentId: before.id, seq: before.seq + 1 + i, at, actorId }));
      incident = events.reduce(apply, before);
      log.push(...events);

      // seq grows by exactly the number of events.
      ok(incident.seq === before.seq + events.length, () => `${what()}: seq ${before.seq} -> ${incident.seq}`);
      ok(incident.updatedAt === at, () => `${what()}: updatedAt not moved`);
      // Status and tier stay in their domains and follow the model.
      ok(STATUSES.includes(incident.status), () => `${what()}: status ${incident.status}`);
      ok(TIERS.includes(incident.tier), () => `${what()}: tier ${incident.tier}`);
      const from = tierIndex(matrix, before.tier);
      const to = tierIndex(matrix, incident.tier);
      if (expected.ok) {
        ok(incident.status === expected.status, () => `${what()}: status ${incident.status}, model ${expected.status}`);
        ok(to === expected.tier, () => `${what()}: tier ${incident.tier}, model ${TIERS[expected.tier]}`);
      }
      // The tier moves only by escalation (up, to the asked or next tier) or hand-back (down).
      const moves = events.filter((e) => e.kind === 'escalated' || e.kind === 'handed_back');
      if (to !== from) {
        ok(moves.length === 1, () => `${what()}: tier changed without one escalated/handed_back event`);
        const move = moves[0]!;
        ok(
          move.fromTier === before.tier && move.toTier === incident.tier,
          () => `${what()}: event tiers ${move.fromTier}->${move.toTier}`,
        );
        const asked = (command as { tier?: string }).tier;
        if (move.kind === 'escalated') {
          ok(to > from && incident.tier === (asked ?? TIERS[from + 1]), () => `${what()}: escalated to ${incident.tier}`);
        } else {
          ok(to < from && incident.tier === (asked ?? TIERS[from - 1]), () => `${what()}: handed back to ${incident.tier}`);
        }
        ok(
          incident.status === 'new' &&
            incident.assigneeId === null &&
            incident.tierEnteredAt === at &&
            incident.pendingReason === null,
          () => `${what()}: arrival not fresh: ${JSON.stringify(incident)}`,
        );
      } else {
        ok(moves.length === 0, () => `${what()}: ${moves[0]?.kind} without a tier change`);
        ok(incident.tierEnteredAt === before.tierEnteredAt, () => `${what()}: tierEnteredAt moved without a tier change`);
      }
      // Checks belong to the tier they were made at, and survive leaving it.
      if (command.type === 'check' || command.type === 'uncheck') {
        const set = model.checklist.get(model.tier) ?? new Set<number>();
        if (command.type === 'check') set.add(command.index);
        else set.delete(command.index);
        model.checklist.set(model.tier, set);
      }
      for (const [tier, set] of model.checklist)
        same(
          incident.checklist[TIERS[tier]!] ?? [],
          [...set].sort((x, y) => x - y),
          () => `${what()}: checklist of ${TIERS[tier]}`,
        );

      if (command.type === 'engage_vendor') model.vendor = 'engaged';
      if (command.type === 'vendor_acknowledge') model.vendor = 'acknowledged';
      if (command.type === 'vendor_done') model.vendor = 'done';
      model.pendingOnVendor =
        incident.status !== 'pending'
          ? false
          : command.type === 'engage_vendor' || (command.type === 'pend' ? command.reason === 'vendor' : (model.pendingOnVendor ?? false));
      same(incident.vendorStatus, model.vendor ?? null, () => `${what()}: vendorStatus ${incident.vendorStatus}`);
      model.status = incident.status;
      model.tier = to;
      model.escalations += events.filter((e) => e.kind === 'escalated').length;

      // resolvedAt is set exactly when resolved or closed; closing keeps it.
      const done = incident.status === 'resolved' || incident.status === 'closed';
      ok((incident.resolvedAt !== null) === done, () => `${what()}: resolvedAt ${incident.resolvedAt} when ${incident.status}`);
      if (incident.status === 'closed')
        ok(
          incident.resolvedAt === before.resolvedAt && incident.closedAt === at,
          () => `${what()}: closing lost resolvedAt or closedAt`,
        );
      ok((incident.closedAt !== null) === (incident.status === 'closed'), () => `${what()}: closedAt ${incident.closedAt}`);
      ok(
        (incident.pendingReason !== null) === (incident.status === 'pending'),
        () => `${what()}: pendingReason ${incident.pendingReason}`,
      );
      const escalatedEvents = log.filter((e) => e.kind === 'escalated').length;
      ok(
        incident.escalationCount === escalatedEvents && incident.escalationCount === model.escalations,
        () => `${what()}: escalationCount ${incident.escalationCount}, ${escalatedEvents} escalated events`,
      );
      ok(incident.reopenCount === log.filter((e) => e.kind === 'reopened').length, () => `${what()}: reopenCount`);
      // The projection of the whole history is the incrementally built state.
      same(project(log), incident, () => `${what()}: project(events) differs from the incremental state`);
    }

    reached.runs++;
    if (incident.status === 'closed') reached.closed++;
    if (log.some((e) => e.kind === 'escalated' && e.toTier === 'LX')) reached.escalatedToTop++;
    if (log.some((e) => e.kind === 'handed_back')) reached.handedBack++;
    // Seqs in the log are 1..n with no gap.
    expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
    if (incident.status === 'closed') {
      const every: IncidentCommand[] = [
        { type: 'acknowledge' },
        { type: 'start' },
        { type: 'pend', reason: 'vendor', note: '' },
        { type: 'resume' },
        { type: 'escalate', reason: 'r' },
        { type: 'hand_back', reason: 'r' },
        { type: 'resolve', resolution: 'r' },
        { type: 'close' },
        { type: 'reopen', reason: 'r' },
        { type: 'comment', body: 'b' },
        { type: 'check', index: 0 },
        { type: 'uncheck', index: 0 },
        { type: 'stop_clock', key: 'gdpr-art33', note: '' },
      ];
      for (const command of every) expect(() => decide(incident, command, 1, matrix)).toThrow(DomainError);
    }
  });

  it('explores the whole lifecycle (the generator reaches closing, the top tier and hand-backs)', () => {
    expect(reached.runs, JSON.stringify(reached)).toBeGreaterThanOrEqual(300);
    expect(reached.closed).toBeGreaterThan(reached.runs / 10);
    expect(reached.escalatedToTop).toBeGreaterThan(reached.runs / 10);
    expect(reached.handedBack).toBeGreaterThan(reached.runs / 10);
    expect(reached.refused).toBeGreaterThan(reached.runs);
  });
});
