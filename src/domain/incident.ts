import { conflict, invalid } from './errors.js';
import {
  actionsFor,
  cellOf,
  hasCategory,
  lowestTier,
  nextTier,
  previousTier,
  tierIndex,
  type MatrixDefinition,
} from './matrix.js';
import { priorityOf, type Level, type Priority, type PriorityTable } from './priority.js';

export const STATUSES = ['new', 'acknowledged', 'in_progress', 'pending', 'resolved', 'closed'] as const;
/**
 * new: waiting for the current tier to acknowledge (again after every escalation or hand-back);
 * pending: waiting on the requester or a vendor, SLA clocks paused; resolved: fix given, may be
 * reopened; closed: final.
 */
export type IncidentStatus = (typeof STATUSES)[number];
export const OPEN_STATUSES: readonly IncidentStatus[] = ['new', 'acknowledged', 'in_progress', 'pending'];
export const PENDING_REASONS = ['requester', 'vendor'] as const;
export type PendingReason = (typeof PENDING_REASONS)[number];

export interface Incident {
  id: number;
  title: string;
  description: string;
  category: string;
  impact: Level;
  urgency: Level;
  priority: Priority;
  requesterId: number;
  assigneeId: number | null;
  tier: string;
  status: IncidentStatus;
  pendingReason: PendingReason | null;
  matrixVersion: number;
  /** Indexes of the checked actions of each tier's checklist, kept when the incident leaves a tier. */
  checklist: Record<string, number[]>;
  reopenCount: number;
  escalationCount: number;
  resolution: string | null;
  /** When the incident arrived at its current tier (creation, escalation or hand-back). */
  tierEnteredAt: number;
  createdAt: number;
  updatedAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  closedAt: number | null;
  /** The vendor the incident is handed to (level X), its own ticket number, and where its part stands. */
  vendorId: number | null;
  vendorTicket: string | null;
  vendorStatus: VendorStatus | null;
  /** Sequence number of the last event applied: the projection's version. */
  seq: number;
}

export const VENDOR_STATUSES = ['engaged', 'acknowledged', 'done'] as const;
export type VendorStatus = (typeof VENDOR_STATUSES)[number];

/** A vendor as an incident records it when handed over: its contract's response targets travel with the event. */
export interface VendorRef {
  id: number;
  name: string;
  /** ISO 8601 durations from the support contract. */
  acknowledge?: string | undefined;
  resolve?: string | undefined;
  /** Where the vendor is told of the hand-off, in which language. */
  email?: string | undefined;
  locale?: 'fr' | 'en' | undefined;
}

type EventOf<K extends string, D = Record<string, never>> = { kind: K; data: D };

/** What happened to an incident. The incident row is the fold of these, in order. */
export type IncidentChange =
  | EventOf<
      'created',
      {
        title: string;
        description: string;
        category: string;
        impact: Level;
        urgency: Level;
        priority: Priority;
        requesterId: number;
        tier: string;
        matrixVersion: number;
      }
    >
  | EventOf<'acknowledged', { assigneeId: number }>
  | EventOf<'work_started', { assigneeId: number }>
  | EventOf<'pended', { reason: PendingReason; note: string }>
  | EventOf<'resumed'>
  | EventOf<
      'escalated',
      {
        reason: string;
        automatic: boolean;
        /** The target whose miss caused an automatic escalation. */
        missed?: MissedTarget;
        /** Mandatory actions skipped on a hand escalation, with why. */
        skipped?: Array<{ index: number; reason: string }>;
        /** Mandatory actions left undone when an automatic escalation went through regardless. */
        leftActions?: number[];
      }
    >
  | EventOf<'handed_back', { reason: string }>
  | EventOf<'resolved', { resolution: string }>
  | EventOf<'closed'>
  | EventOf<'reopened', { reason: string }>
  | EventOf<'commented', { body: string }>
  | EventOf<'action_checked', { index: number; note?: string }>
  | EventOf<'action_unchecked', { index: number }>
  | EventOf<'deadline_warning', MissedTarget & { fraction: number }>
  | EventOf<'deadline_missed', MissedTarget & { action: 'escalate' | 'notify' | 'both' }>
  | EventOf<'manager_notified', { clock: string; repeat: number; reason: string }>
  | EventOf<'ping_pong_detected', { tiers: [string, string]; handBacks: number }>
  | EventOf<'clock_stopped', { clock: string; note: string }>
  | EventOf<'vendor_engaged', { vendor: VendorRef; note: string }>
  | EventOf<'vendor_acknowledged', { vendorId: number; ticket?: string }>
  | EventOf<'vendor_updated', { vendorId: number; note: string; ticket?: string }>
  | EventOf<'vendor_done', { vendorId: number; note: string }>;

/** Which clock a timer event is about: `L1@1:acknowledge` is the acknowledge clock of the stint at L1 that began with event 1. */
export interface MissedTarget {
  clock: string;
  kind: 'acknowledge' | 'resolve' | 'category' | 'vendor';
  tier: string | null;
  target: string;
  dueAt: number;
  worker?: string;
}

export type IncidentEventKind = IncidentChange['kind'];

export interface IncidentEvent<C extends IncidentChange = IncidentChange> {
  incidentId: number;
  seq: number;
  at: number;
  actorId: number | null;
  fromTier: string | null;
  toTier: string | null;
  kind: C['kind'];
  data: C['data'];
}

/** A decided change, before it is numbered and stored. */
export type PendingEvent = IncidentChange & { fromTier: string | null; toTier: string | null };

/**
 * Numbers decided changes as the incident's next events. Built field by field: spreading events of
 * many shapes is a slow path of the JavaScript engine, and this runs for every escalation.
 */
export function numberEvents(
  incident: Pick<Incident, 'id' | 'seq'>,
  decided: readonly PendingEvent[],
  at: number,
  actorId: number | null,
): IncidentEvent[] {
  return decided.map((e, i) => ({
    incidentId: incident.id,
    seq: incident.seq + i + 1,
    at,
    actorId,
    fromTier: e.fromTier,
    toTier: e.toTier,
    kind: e.kind,
    data: e.data,
  }));
}

export type IncidentCommand =
  | { type: 'acknowledge' }
  | { type: 'start' }
  | { type: 'pend'; reason: PendingReason; note: string }
  | { type: 'resume' }
  | {
      type: 'escalate';
      tier?: string | undefined;
      reason: string;
      skip?: Array<{ index: number; reason: string }> | undefined;
    }
  | { type: 'hand_back'; tier?: string | undefined; reason: string }
  | { type: 'resolve'; resolution: string }
  | { type: 'close' }
  | { type: 'reopen'; reason: string }
  | { type: 'comment'; body: string }
  | { type: 'check'; index: number; note?: string | undefined }
  | { type: 'uncheck'; index: number }
  | { type: 'stop_clock'; key: string; note: string }
  | { type: 'engage_vendor'; vendor: VendorRef; note: string }
  | { type: 'vendor_acknowledge'; ticket?: string | undefined }
  | { type: 'vendor_update'; note: string; ticket?: string | undefined }
  | { type: 'vendor_done'; note: string };

export interface NewIncident {
  title: string;
  description: string;
  category: string;
  impact: Level;
  urgency: Level;
  requesterId: number;
}

export function decideCreate(
  input: NewIncident,
  matrix: MatrixDefinition & { priorityTable: PriorityTable; version: number },
): PendingEvent {
  if (!hasCategory(matrix, input.category))
    throw invalid('unknown_category', `Unknown category "${input.category}"`, [
      { path: 'category', message: `expected one of: ${matrix.categories.map((c) => c.key).join(', ')}` },
    ]);
  const tier = lowestTier(matrix);
  return {
    kind: 'created',
    fromTier: null,
    toTier: tier,
    data: {
      ...input,
      priority: priorityOf(matrix.priorityTable, input.impact, input.urgency),
      tier,
      matrixVersion: matrix.version,
    },
  };
}

const isOpen = (s: IncidentStatus) => OPEN_STATUSES.includes(s);

/**
 * Decides what a command does to an incident, or refuses it with a conflict that says why.
 * `matrix` is the version the incident is handled under.
 */
export function decide(
  incident: Incident,
  command: IncidentCommand,
  actorId: number,
  matrix: MatrixDefinition,
): PendingEvent[] {
  const here = { fromTier: incident.tier, toTier: incident.tier };
  const refuse = (what: string) =>
    conflict('invalid_transition', `Cannot ${what} an incident that is ${incident.status.replace('_', ' ')}`);

  switch (command.type) {
    case 'acknowledge':
      if (incident.status !== 'new') throw refuse('acknowledge');
      return [{ kind: 'acknowledged', ...here, data: { assigneeId: actorId } }];
    case 'start': {
      if (incident.status !== 'new' && incident.status !== 'acknowledged') throw refuse('start work on');
      const events: PendingEvent[] = [];
      // Starting work on an unacknowledged incident acknowledges it: the tier has picked it up.
      if (incident.status === 'new') events.push({ kind: 'acknowledged', ...here, data: { assigneeId: actorId } });
      events.push({ kind: 'work_started', ...here, data: { assigneeId: actorId } });
      return events;
    }
    case 'pend':
      if (incident.status !== 'acknowledged' && incident.status !== 'in_progress') throw refuse('put on hold');
      return [{ kind: 'pended', ...here, data: { reason: command.reason, note: command.note } }];
    case 'resume':
      if (incident.status !== 'pending') throw refuse('resume');
      return [{ kind: 'resumed', ...here, data: {} }];
    case 'escalate': {
      if (!isOpen(incident.status)) throw refuse('escalate');
      const target = command.tier ?? nextTier(matrix, incident.tier);
      if (target === undefined)
        throw conflict('top_tier', `The incident is already at the highest tier (${incident.tier})`);
      requireTier(matrix, target);
      if (tierIndex(matrix, target) <= tierIndex(matrix, incident.tier))
        throw invalid('not_a_higher_tier', `Tier ${target} is not above the current tier ${incident.tier}`, [
          { path: 'tier', message: 'escalation goes to a higher tier; use hand-back to go down' },
        ]);
      const skipped = command.skip ?? [];
      const missing = unmetMandatory(incident, matrix).filter((i) => !skipped.some((s) => s.index === i));
      if (missing.length > 0)
        throw conflict(
          'checklist_incomplete',
          `Mandatory action(s) ${missing.map((i) => `#${i}`).join(', ')} of ${incident.tier} are neither done nor skipped with a reason`,
        );
      return [
        {
          kind: 'escalated',
          fromTier: incident.tier,
          toTier: target,
          data: { reason: command.reason, automatic: false, ...(skipped.length ? { skipped } : {}) },
        },
      ];
    }
    case 'hand_back': {
      if (!isOpen(incident.status)) throw refuse('hand back');
      const target = command.tier ?? previousTier(matrix, incident.tier);
      if (target === undefined) throw conflict('bottom_tier', `The incident is already at the lowest tier (${incident.tier})`);
      requireTier(matrix, target);
      if (tierIndex(matrix, target) >= tierIndex(matrix, incident.tier))
        throw invalid('not_a_lower_tier', `Tier ${target} is not below the current tier ${incident.tier}`, [
          { path: 'tier', message: 'hand-back goes to a lower tier; use escalate to go up' },
        ]);
      return [{ kind: 'handed_back', fromTier: incident.tier, toTier: target, data: { reason: command.reason } }];
    }
    case 'resolve':
      if (!isOpen(incident.status)) throw refuse('resolve');
      return [{ kind: 'resolved', ...here, data: { resolution: command.resolution } }];
    case 'close':
      if (incident.status !== 'resolved') throw refuse('close');
      return [{ kind: 'closed', ...here, data: {} }];
    case 'reopen':
      if (incident.status !== 'resolved') throw refuse('reopen');
      return [{ kind: 'reopened', ...here, data: { reason: command.reason } }];
    case 'comment':
      if (incident.status === 'closed') throw refuse('comment on');
      return [{ kind: 'commented', ...here, data: { body: command.body } }];
    case 'check':
    case 'uncheck': {
      if (!isOpen(incident.status)) throw refuse('change the checklist of');
      const actions = actionsFor(matrix, incident.category, incident.tier);
      if (command.index < 0 || command.index >= actions.length)
        throw invalid('unknown_action', `Tier ${incident.tier} has no action #${command.index} for this category`, [
          { path: 'index', message: `expected 0 to ${actions.length - 1}` },
        ]);
      const checked = (incident.checklist[incident.tier] ?? []).includes(command.index);
      if (command.type === 'check') {
        if (checked) throw conflict('already_checked', `Action #${command.index} is already checked`);
        return [{ kind: 'action_checked', ...here, data: { index: command.index, ...(command.note ? { note: command.note } : {}) } }];
      }
      if (!checked) throw conflict('not_checked', `Action #${command.index} is not checked`);
      return [{ kind: 'action_unchecked', ...here, data: { index: command.index } }];
    }
    case 'stop_clock': {
      if (incident.status === 'closed') throw refuse('stop a clock of');
      const category = matrix.categories.find((c) => c.key === incident.category);
      if (!category?.clocks?.some((c) => c.key === command.key))
        throw invalid('unknown_clock', `The category ${incident.category} has no clock "${command.key}"`);
      return [{ kind: 'clock_stopped', ...here, data: { clock: `category:${command.key}`, note: command.note } }];
    }
    case 'engage_vendor':
      if (incident.status !== 'acknowledged' && incident.status !== 'in_progress') throw refuse('hand to a vendor');
      return [{ kind: 'vendor_engaged', ...here, data: { vendor: command.vendor, note: command.note } }];
    case 'vendor_acknowledge':
    case 'vendor_update':
    case 'vendor_done': {
      const vendorId = incident.vendorId;
      if (vendorId === null || !isOpen(incident.status) || incident.vendorStatus === 'done')
        throw conflict('vendor_not_engaged', 'The incident is not in the hands of a vendor any more');
      const ticket = 'ticket' in command && command.ticket ? { ticket: command.ticket } : {};
      if (command.type === 'vendor_acknowledge') {
        if (incident.vendorStatus !== 'engaged') throw conflict('already_acknowledged', 'The vendor has already acknowledged');
        return [{ kind: 'vendor_acknowledged', ...here, data: { vendorId, ...ticket } }];
      }
      if (command.type === 'vendor_update') return [{ kind: 'vendor_updated', ...here, data: { vendorId, note: command.note, ...ticket } }];
      return [{ kind: 'vendor_done', ...here, data: { vendorId, note: command.note } }];
    }
  }
}

/** Mandatory actions of the current tier's cell that are not checked. */
export function unmetMandatory(incident: Incident, matrix: MatrixDefinition): number[] {
  const done = new Set(incident.checklist[incident.tier] ?? []);
  return (cellOf(matrix, incident.category, incident.tier)?.mandatory ?? []).filter((i) => !done.has(i));
}

function requireTier(matrix: MatrixDefinition, tier: string) {
  if (tierIndex(matrix, tier) < 0)
    throw invalid('unknown_tier', `Unknown tier "${tier}"`, [
      { path: 'tier', message: `expected one of: ${matrix.tiers.map((t) => t.key).join(', ')}` },
    ]);
}

/** The projection: folds one event into the incident. */
export function apply(incident: Incident | undefined, event: IncidentEvent): Incident {
  if (event.kind === 'created') {
    const d = event.data as Extract<IncidentChange, { kind: 'created' }>['data'];
    return {
      id: event.incidentId,
      title: d.title,
      description: d.description,
      category: d.category,
      impact: d.impact,
      urgency: d.urgency,
      priority: d.priority,
      requesterId: d.requesterId,
      assigneeId: null,
      tier: d.tier,
      status: 'new',
      pendingReason: null,
      matrixVersion: d.matrixVersion,
      checklist: {},
      reopenCount: 0,
      escalationCount: 0,
      resolution: null,
      tierEnteredAt: event.at,
      createdAt: event.at,
      updatedAt: event.at,
      acknowledgedAt: null,
      resolvedAt: null,
      closedAt: null,
      vendorId: null,
      vendorTicket: null,
      vendorStatus: null,
      seq: event.seq,
    };
  }
  if (!incident) throw new Error(`event ${event.kind} before the incident was created`);
  const next: Incident = { ...incident, updatedAt: event.at, seq: event.seq };
  const change = { kind: event.kind, data: event.data } as IncidentChange;
  switch (change.kind) {
    case 'acknowledged':
      return { ...next, status: 'acknowledged', assigneeId: change.data.assigneeId, acknowledgedAt: next.acknowledgedAt ?? event.at };
    case 'work_started':
      return { ...next, status: 'in_progress', assigneeId: change.data.assigneeId };
    case 'pended':
      return { ...next, status: 'pending', pendingReason: change.data.reason };
    case 'resumed':
      return { ...next, status: 'in_progress', pendingReason: null };
    case 'escalated':
      return { ...next, ...arriveAt(event), escalationCount: next.escalationCount + 1 };
    case 'handed_back':
      return { ...next, ...arriveAt(event) };
    case 'resolved':
      return { ...next, status: 'resolved', pendingReason: null, resolution: change.data.resolution, resolvedAt: event.at };
    case 'closed':
      return { ...next, status: 'closed', closedAt: event.at };
    case 'reopened':
      return { ...next, status: 'in_progress', resolution: null, resolvedAt: null, reopenCount: next.reopenCount + 1 };
    case 'commented':
    case 'deadline_warning':
    case 'deadline_missed':
    case 'manager_notified':
    case 'ping_pong_detected':
    case 'clock_stopped':
      return next;
    // Handing over to a vendor puts the incident on hold for the tier: the vendor's clock runs instead.
    case 'vendor_engaged':
      return { ...next, status: 'pending', pendingReason: 'vendor', vendorId: change.data.vendor.id, vendorTicket: null, vendorStatus: 'engaged' };
    case 'vendor_acknowledged':
      return { ...next, vendorStatus: 'acknowledged', vendorTicket: change.data.ticket ?? next.vendorTicket };
    case 'vendor_updated':
      return { ...next, vendorTicket: change.data.ticket ?? next.vendorTicket };
    case 'vendor_done':
      return next.status === 'pending' && next.pendingReason === 'vendor'
        ? { ...next, vendorStatus: 'done', status: 'in_progress', pendingReason: null }
        : { ...next, vendorStatus: 'done' };
    case 'action_checked':
    case 'action_unchecked': {
      const tier = event.fromTier ?? next.tier;
      const current = next.checklist[tier] ?? [];
      const items =
        change.kind === 'action_checked'
          ? [...current, change.data.index].sort((a, b) => a - b)
          : current.filter((i) => i !== change.data.index);
      return { ...next, checklist: { ...next.checklist, [tier]: items } };
    }
    case 'created':
      throw new Error('unreachable');
  }
}

/** A new tier starts afresh: it must acknowledge, and nobody there has picked the incident up yet. */
function arriveAt(event: IncidentEvent) {
  return { status: 'new' as const, tier: event.toTier!, tierEnteredAt: event.at, assigneeId: null, pendingReason: null };
}

export function project(events: IncidentEvent[]): Incident | undefined {
  return events.reduce<Incident | undefined>((state, e) => apply(state, e), undefined);
}
