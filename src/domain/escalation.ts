/**
 * The escalation policy: from an incident's events and the matrix version it runs under, which SLA
 * clocks run, what falls due when, and what each due threshold does. Pure: `now` is an argument.
 *
 * Clocks are rebuilt from the events, never stored, so they always agree with the timeline:
 * - each stint at a tier has an acknowledge clock (stops when acknowledged) and a resolve clock
 *   (pauses while pending or resolved, resumes on reopen, stops when the incident leaves the tier);
 * - the overall incident clock measures the whole life of the incident, with the same pauses;
 * - category clocks (a legal notification deadline, say) start with the incident, ignore pauses,
 *   and stop when someone marks them done or the incident closes;
 * - a vendor's clocks (its contract's acknowledge and resolve targets) start when the incident is
 *   handed to it and run while the tier waits on it, until the vendor acknowledges or is done.
 */
import type { Calendar } from './calendar.js';
import { parseDuration } from './duration.js';
import { apply, numberEvents, unmetMandatory, type Incident, type IncidentEvent, type PendingEvent, type VendorRef } from './incident.js';
import {
  calendarFor,
  cellOf,
  nextTier,
  slaTargetFor,
  type MatrixDefinition,
  type MissedAction,
} from './matrix.js';
import type { Priority } from './priority.js';
import {
  deadline,
  pauseClock,
  resumeClock,
  startClock,
  stopClock,
  viewClock,
  type ClockView as SlaClockView,
  type SlaClock,
} from './sla-clock.js';

export const DEFAULT_WARN_AT = 0.75;
export const DEFAULT_REPEAT_EVERY = 'PT1H';
export const DEFAULT_MAX_REPEATS = 3;
export const DEFAULT_PING_PONG_LIMIT = 2;

export interface IncidentClock {
  /** Stable identity, recorded in timer events: `L2@4:resolve`, `category:gdpr-art33`. */
  id: string;
  kind: 'acknowledge' | 'resolve' | 'category' | 'vendor';
  tier: string | null;
  target: string;
  warnAt: number;
  clock: SlaClock;
  /** How people name the clock in notices, when not after its tier. */
  label?: string;
}

export interface TierStint {
  tier: string;
  /** Sequence number of the event that brought the incident to this tier. */
  arrivalSeq: number;
  enteredAt: number;
  leftAt: number | null;
  acknowledge: IncidentClock;
  resolve: IncidentClock;
}

export interface ClockReplay {
  stints: TierStint[];
  categoryClocks: IncidentClock[];
  /** The incident's whole life, pauses excluded, on the calendar of its first tier's resolve target. */
  overall: SlaClock;
}

export function replayClocks(events: readonly IncidentEvent[], matrix: MatrixDefinition): ClockReplay {
  const created = events[0];
  if (!created || created.kind !== 'created') throw new Error('the first event of an incident is its creation');
  const { category, priority } = created.data as { category: string; priority: Priority };
  const warnAt = matrix.escalation?.warnAt ?? DEFAULT_WARN_AT;

  const stints: TierStint[] = [];
  const openStint = (tier: string, seq: number, at: number) => {
    const target = slaTargetFor(matrix, tier, priority, category);
    const calendar = calendarFor(matrix, target?.calendar, priority);
    const make = (kind: 'acknowledge' | 'resolve'): IncidentClock => {
      const text = target?.[kind] ?? 'PT0S';
      return { id: `${tier}@${seq}:${kind}`, kind, tier, target: text, warnAt, clock: startClock(calendar, parseDuration(text) ?? 0, at) };
    };
    stints.push({ tier, arrivalSeq: seq, enteredAt: at, leftAt: null, acknowledge: make('acknowledge'), resolve: make('resolve') });
  };

  const firstTier = created.toTier!;
  openStint(firstTier, created.seq, created.at);
  const overallCalendar: Calendar = calendarFor(matrix, slaTargetFor(matrix, firstTier, priority, category)?.calendar, priority);
  let overall = startClock(overallCalendar, 0, created.at);
  let categoryClocks: IncidentClock[] = (matrix.categories.find((c) => c.key === category)?.clocks ?? []).map((c) => ({
    id: `category:${c.key}`,
    kind: 'category',
    tier: null,
    target: c.duration,
    warnAt: c.warnAt ?? warnAt,
    clock: startClock(calendarFor(matrix, c.calendar ?? '24x7'), parseDuration(c.duration) ?? 0, created.at),
  }));

  const update = (c: IncidentClock, f: (clock: SlaClock) => SlaClock) => {
    c.clock = c.clock.stoppedAt === undefined ? f(c.clock) : c.clock;
  };
  let waitingOnVendor = false;
  const stopVendorClocks = (at: number, only?: 'acknowledge') =>
    categoryClocks.forEach((c) => {
      if (c.kind === 'vendor' && (!only || c.id.endsWith(`:${only}`))) update(c, (clock) => stopClock(clock, at));
    });

  for (const e of events.slice(1)) {
    const stint = stints.at(-1)!;
    const at = e.at;
    switch (e.kind) {
      case 'acknowledged':
        update(stint.acknowledge, (c) => stopClock(c, at));
        break;
      case 'vendor_engaged': {
        const vendor = (e.data as { vendor: VendorRef }).vendor;
        stopVendorClocks(at);
        for (const kind of ['acknowledge', 'resolve'] as const) {
          const target = vendor[kind];
          if (!target) continue;
          categoryClocks.push({
            id: `vendor:${vendor.id}@${e.seq}:${kind}`,
            kind: 'vendor',
            tier: null,
            target,
            warnAt,
            label: `${vendor.name} ${kind}`,
            clock: startClock(calendarFor(matrix, '24x7'), parseDuration(target) ?? 0, at),
          });
        }
        // Handing over also puts the incident on hold for the tier.
        waitingOnVendor = true;
        update(stint.acknowledge, (c) => stopClock(c, at));
        update(stint.resolve, (c) => pauseClock(c, at));
        overall = overall.stoppedAt === undefined ? pauseClock(overall, at) : overall;
        break;
      }
      case 'vendor_acknowledged':
        stopVendorClocks(at, 'acknowledge');
        break;
      case 'vendor_done':
        stopVendorClocks(at);
        if (waitingOnVendor) {
          update(stint.resolve, (c) => resumeClock(c, at));
          overall = resumeClock(overall, at);
        }
        waitingOnVendor = false;
        break;
      case 'pended':
      case 'resolved':
        if (e.kind === 'resolved') stopVendorClocks(at);
        waitingOnVendor = e.kind === 'pended' && (e.data as { reason: string }).reason === 'vendor';
        update(stint.acknowledge, (c) => stopClock(c, at));
        update(stint.resolve, (c) => pauseClock(c, at));
        overall = overall.stoppedAt === undefined ? pauseClock(overall, at) : overall;
        break;
      case 'resumed':
      case 'reopened':
        waitingOnVendor = false;
        update(stint.resolve, (c) => resumeClock(c, at));
        overall = resumeClock(overall, at);
        break;
      case 'escalated':
      case 'handed_back':
        waitingOnVendor = false;
        update(stint.acknowledge, (c) => stopClock(c, at));
        update(stint.resolve, (c) => stopClock(c, at));
        stint.leftAt = at;
        overall = resumeClock(overall, at);
        openStint(e.toTier!, e.seq, at);
        break;
      case 'closed':
        update(stint.acknowledge, (c) => stopClock(c, at));
        update(stint.resolve, (c) => stopClock(c, at));
        stint.leftAt = at;
        overall = stopClock(overall, at);
        categoryClocks.forEach((c) => update(c, (clock) => stopClock(clock, at)));
        break;
      case 'clock_stopped': {
        const id = (e.data as { clock: string }).clock;
        categoryClocks = categoryClocks.map((c) => (c.id === id && c.clock.stoppedAt === undefined ? { ...c, clock: stopClock(c.clock, at) } : c));
        break;
      }
      default:
        break;
    }
  }
  return { stints, categoryClocks, overall };
}

export type Threshold =
  | { type: 'warning'; at: number; clock: IncidentClock }
  | { type: 'missed'; at: number; clock: IncidentClock; action: MissedAction }
  | { type: 'repeat'; at: number; clock: IncidentClock; repeat: number };

/** What a tier does when it misses a target: the policy's rule, escalation by default, notice at the top. */
export function missedAction(matrix: MatrixDefinition, clock: IncidentClock, priority: Priority): MissedAction {
  if (clock.kind === 'category' || clock.kind === 'vendor' || clock.tier === null) return 'notify';
  const kind = clock.kind;
  const rules = matrix.escalation?.rules ?? [];
  const rule =
    rules.find((r) => r.tier === clock.tier && r.priority === priority && r[kind]) ??
    rules.find((r) => r.tier === clock.tier && r.priority === undefined && r[kind]);
  const action = rule?.[kind] ?? 'escalate';
  if (nextTier(matrix, clock.tier) === undefined) return 'notify';
  return action;
}

/** Thresholds not yet recorded in the timeline, earliest first. */
export function pendingThresholds(
  incident: Incident,
  events: readonly IncidentEvent[],
  matrix: MatrixDefinition,
  now: number,
): Threshold[] {
  if (incident.status === 'closed') return [];
  const replay = replayClocks(events, matrix);
  const current = replay.stints.at(-1)!;
  const recorded = (kind: string, clock: string) =>
    events.filter((e) => e.kind === kind && (e.data as { clock?: string }).clock === clock);
  const repeatEvery = parseDuration(matrix.escalation?.repeatEvery ?? DEFAULT_REPEAT_EVERY) ?? 3_600_000;
  const maxRepeats = matrix.escalation?.maxRepeats ?? DEFAULT_MAX_REPEATS;

  const out: Threshold[] = [];
  for (const clock of [current.acknowledge, current.resolve, ...replay.categoryClocks]) {
    const due = deadline(clock.clock, now);
    if (due === null) continue; // paused or stopped: nothing falls due
    if (recorded('deadline_warning', clock.id).length === 0) {
      const warnAt = deadline({ ...clock.clock, targetMs: Math.floor(clock.clock.targetMs * clock.warnAt) }, now);
      if (warnAt !== null && warnAt < due) out.push({ type: 'warning', at: warnAt, clock });
    }
    const missed = recorded('deadline_missed', clock.id)[0];
    if (!missed) {
      out.push({ type: 'missed', at: due, clock, action: missedAction(matrix, clock, incident.priority) });
      continue;
    }
    const action = (missed.data as { action: MissedAction }).action;
    const notices = recorded('manager_notified', clock.id);
    const repeats = notices.length;
    // Reminders repeat only while the tier keeps the incident and the clock still runs, one interval
    // after the previous notice (so a pause never releases several at once), and stop after maxRepeats.
    if (action !== 'escalate' && repeats >= 1 && repeats <= maxRepeats) {
      const resumedAt = clock.clock.segments.at(-1)!.from;
      out.push({ type: 'repeat', at: Math.max(notices.at(-1)!.at + repeatEvery, resumedAt), clock, repeat: repeats });
    }
  }
  return out.sort((a, b) => a.at - b.at);
}

/** The changes one due threshold makes. */
function decideThreshold(incident: Incident, t: Threshold, matrix: MatrixDefinition, worker?: string): PendingEvent[] {
  const here = { fromTier: incident.tier, toTier: incident.tier };
  const missed = { clock: t.clock.id, kind: t.clock.kind, tier: t.clock.tier, target: t.clock.target, dueAt: t.at, ...(worker ? { worker } : {}) };
  const label = t.clock.label ?? (t.clock.kind === 'category' ? t.clock.id.slice('category:'.length) : `${t.clock.tier} ${t.clock.kind}`);
  switch (t.type) {
    case 'warning':
      return [{ kind: 'deadline_warning', ...here, data: { ...missed, fraction: t.clock.warnAt } }];
    case 'repeat':
      return [{ kind: 'manager_notified', ...here, data: { clock: t.clock.id, repeat: t.repeat, reason: `${label} target ${t.clock.target} still missed` } }];
    case 'missed': {
      const events: PendingEvent[] = [{ kind: 'deadline_missed', ...here, data: { ...missed, action: t.action } }];
      if (t.action !== 'escalate')
        events.push({ kind: 'manager_notified', ...here, data: { clock: t.clock.id, repeat: 0, reason: `${label} target ${t.clock.target} missed` } });
      const to = nextTier(matrix, incident.tier);
      if (t.action !== 'notify' && to !== undefined) {
        const left = unmetMandatory(incident, matrix);
        events.push({
          kind: 'escalated',
          fromTier: incident.tier,
          toTier: to,
          data: {
            reason: `${label} target ${t.clock.target} missed`,
            automatic: true,
            missed,
            ...(left.length ? { leftActions: left } : {}),
          },
        });
      }
      return events;
    }
  }
}

/**
 * Applies every threshold due by `now`, in deadline order, and returns the events to append.
 * Recorded thresholds are never applied again, so calling it twice for the same instant adds nothing.
 */
export function decideDue(
  incident: Incident,
  events: readonly IncidentEvent[],
  matrix: MatrixDefinition,
  now: number,
  worker?: string,
): IncidentEvent[] {
  const out: IncidentEvent[] = [];
  let state = incident;
  const history = [...events];
  for (let guard = 0; guard < 50; guard++) {
    const next = pendingThresholds(state, history, matrix, now)[0];
    if (!next || next.at > now) break;
    for (const e of numberEvents(state, decideThreshold(state, next, matrix, worker), now, null)) {
      state = apply(state, e);
      history.push(e);
      out.push(e);
    }
  }
  return out;
}

/** When the worker must next look at the incident; null when nothing can fall due any more. */
export function nextWakeUp(incident: Incident, events: readonly IncidentEvent[], matrix: MatrixDefinition, now: number): number | null {
  return wakeUpOf(incident, events, matrix, now)?.dueAt ?? null;
}

export interface WakeUp {
  /** The next threshold of any kind. */
  dueAt: number;
  /** The next missed target or reminder: what orders due incidents, so deadlines apply in deadline order. */
  orderAt: number;
}

export function wakeUpOf(incident: Incident, events: readonly IncidentEvent[], matrix: MatrixDefinition, now: number): WakeUp | null {
  const thresholds = pendingThresholds(incident, events, matrix, now);
  const first = thresholds[0];
  if (!first) return null;
  return { dueAt: first.at, orderAt: thresholds.find((t) => t.type !== 'warning')?.at ?? first.at };
}

/**
 * Changes that follow a hand command: a cell that escalates incidents reopened too often, and
 * ping-pong between two tiers flagged to the manager.
 */
export function followUps(incident: Incident, events: readonly IncidentEvent[], matrix: MatrixDefinition): PendingEvent[] {
  const last = events.at(-1);
  if (!last) return [];
  if (last.kind === 'reopened') {
    const limit = cellOf(matrix, incident.category, incident.tier)?.reopenLimit;
    const to = nextTier(matrix, incident.tier);
    if (limit !== undefined && incident.reopenCount > limit && to !== undefined) {
      const left = unmetMandatory(incident, matrix);
      return [
        {
          kind: 'escalated',
          fromTier: incident.tier,
          toTier: to,
          data: {
            reason: `reopened ${incident.reopenCount} time(s), more than the cell allows (${limit})`,
            automatic: true,
            ...(left.length ? { leftActions: left } : {}),
          },
        },
      ];
    }
  }
  if (last.kind === 'handed_back') {
    const pair = [last.fromTier!, last.toTier!].sort() as [string, string];
    const samePair = (e: IncidentEvent) => [e.fromTier, e.toTier].sort().join('|') === pair.join('|');
    const handBacks = events.filter((e) => e.kind === 'handed_back' && samePair(e)).length;
    const limit = matrix.escalation?.pingPongLimit ?? DEFAULT_PING_PONG_LIMIT;
    if (handBacks === limit)
      return [{ kind: 'ping_pong_detected', fromTier: incident.tier, toTier: incident.tier, data: { tiers: pair, handBacks } }];
  }
  return [];
}

/** A clock as people read it: which one, and where it stands. */
export interface ClockView extends Omit<SlaClockView, 'targetMs'> {
  id: string;
  kind: IncidentClock['kind'];
  tier: string | null;
  target: string;
}

export interface NextEscalation {
  at: number;
  toTier: string | null;
  action: MissedAction;
  clock: string;
  reason: string;
}

/** The running clocks of an incident and what happens next, for people to read. */
export function explain(incident: Incident, events: readonly IncidentEvent[], matrix: MatrixDefinition, now: number) {
  const replay = replayClocks(events, matrix);
  const current = replay.stints.at(-1)!;
  const view = (c: IncidentClock): ClockView => {
    const { targetMs: _target, ...v } = viewClock(c.clock, now);
    return { id: c.id, kind: c.kind, tier: c.tier, target: c.target, ...v };
  };
  const clocks = [current.acknowledge, current.resolve, ...replay.categoryClocks].map(view);
  const missed = pendingThresholds(incident, events, matrix, now).find((t) => t.type === 'missed' && t.clock.tier !== null);
  const next: NextEscalation | null =
    missed && missed.type === 'missed'
      ? {
          at: missed.at,
          toTier: missed.action === 'notify' ? null : (nextTier(matrix, incident.tier) ?? null),
          action: missed.action,
          clock: missed.clock.id,
          reason: `${missed.clock.tier} ${missed.clock.kind} target ${missed.clock.target}`,
        }
      : null;
  const tierTime = replay.stints.map((s) => ({
    tier: s.tier,
    enteredAt: s.enteredAt,
    leftAt: s.leftAt,
    businessMs: viewClock(s.resolve.clock, now).elapsedMs,
  }));
  return { clocks, overall: { elapsedMs: viewClock(replay.overall, now).elapsedMs }, nextEscalation: next, tierTime };
}
