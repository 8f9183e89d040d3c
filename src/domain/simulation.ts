/**
 * The policy simulator: replays an incident's recorded history under another matrix (other SLA
 * targets, calendars, escalation rules) to see what that policy would have done. People are assumed
 * to act at the same instants as they did: their commands are replayed in order at their recorded
 * times, on the incident as the draft policy shaped it (an acknowledgement after an earlier automatic
 * escalation acknowledges at the higher tier). What the policy decided by itself (warnings, missed
 * deadlines, automatic escalations, reminders) is dropped and decided again by the draft. A command
 * the replayed incident no longer allows (an escalation to a tier it already reached) is skipped.
 * Pure: nothing is stored.
 */
import { DomainError } from './errors.js';
import { decideDue, followUps, pendingThresholds } from './escalation.js';
import {
  apply,
  decide,
  decideCreate,
  numberEvents,
  type Incident,
  type IncidentChange,
  type IncidentCommand,
  type IncidentEvent,
} from './incident.js';
import { hasCategory, type MatrixDefinition } from './matrix.js';
import type { Level, PriorityTable } from './priority.js';

export type DraftMatrix = MatrixDefinition & { priorityTable: PriorityTable };

export interface Replay {
  incident: Incident;
  events: IncidentEvent[];
  /** Recorded commands the replayed incident refused. */
  skipped: number;
}

/** The command a recorded event came from; null for what the policy decided by itself. */
export function commandOf(e: IncidentEvent): IncidentCommand | null {
  const change = { kind: e.kind, data: e.data } as IncidentChange;
  switch (change.kind) {
    case 'acknowledged':
      return { type: 'acknowledge' };
    case 'work_started':
      return { type: 'start' };
    case 'pended':
      return { type: 'pend', reason: change.data.reason, note: change.data.note };
    case 'resumed':
      return { type: 'resume' };
    case 'escalated':
      return change.data.automatic
        ? null
        : { type: 'escalate', tier: e.toTier ?? undefined, reason: change.data.reason, skip: change.data.skipped };
    case 'handed_back':
      return { type: 'hand_back', tier: e.toTier ?? undefined, reason: change.data.reason };
    case 'resolved':
      return { type: 'resolve', resolution: change.data.resolution };
    case 'closed':
      return { type: 'close' };
    case 'reopened':
      return { type: 'reopen', reason: change.data.reason };
    case 'action_checked':
      return { type: 'check', index: change.data.index };
    case 'action_unchecked':
      return { type: 'uncheck', index: change.data.index };
    case 'clock_stopped':
      return { type: 'stop_clock', key: change.data.clock.replace(/^category:/, ''), note: change.data.note };
    case 'commented': // no bearing on clocks or tiers
    case 'created':
    case 'deadline_warning':
    case 'deadline_missed':
    case 'manager_notified':
    case 'ping_pong_detected':
      return null;
    case 'vendor_engaged':
      return { type: 'engage_vendor', vendor: change.data.vendor, note: change.data.note };
    case 'vendor_acknowledged':
      return { type: 'vendor_acknowledge', ticket: change.data.ticket };
    case 'vendor_updated':
      return { type: 'vendor_update', note: change.data.note, ticket: change.data.ticket };
    case 'vendor_done':
      return { type: 'vendor_done', note: change.data.note };
  }
}

/**
 * Replays `recorded` under `draft` up to `until`. Returns null when the draft has no row for the
 * incident's category (it cannot be handled under that matrix).
 */
export function replayUnder(recorded: readonly IncidentEvent[], draft: DraftMatrix, until: number): Replay | null {
  const first = recorded[0];
  if (!first || first.kind !== 'created') throw new Error('the first event of an incident is its creation');
  const d = first.data as Extract<IncidentChange, { kind: 'created' }>['data'];
  if (!hasCategory(draft, d.category)) return null;
  const created = numberEvents(
    { id: first.incidentId, seq: 0 },
    [
      decideCreate(
        {
          title: d.title,
          description: d.description,
          category: d.category,
          impact: d.impact as Level,
          urgency: d.urgency as Level,
          requesterId: d.requesterId,
        },
        { ...draft, version: d.matrixVersion },
      ),
    ],
    first.at,
    first.actorId,
  );
  let incident = apply(undefined, created[0]!);
  const events: IncidentEvent[] = [...created];
  const append = (more: IncidentEvent[]) => {
    for (const e of more) {
      incident = apply(incident, e);
      events.push(e);
    }
  };
  /** Every threshold of the draft due by `t`, each applied at its own instant. */
  const advance = (t: number) => {
    for (let guard = 0; guard < 200; guard++) {
      const next = pendingThresholds(incident, events, draft, t)[0];
      if (!next || next.at > t) return;
      append(decideDue(incident, events, draft, next.at));
    }
  };

  let skipped = 0;
  for (const e of recorded.slice(1)) {
    const command = commandOf(e);
    if (!command) continue;
    advance(e.at);
    try {
      append(numberEvents(incident, decide(incident, command, e.actorId ?? 0, draft), e.at, e.actorId));
      append(numberEvents(incident, followUps(incident, events, draft), e.at, null));
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      skipped++;
    }
  }
  advance(until);
  return { incident, events, skipped };
}

export interface CellOutcome {
  byHand: number;
  missedDeadline: number;
  otherAutomatic: number;
  acknowledgeBreaches: number;
  resolveBreaches: number;
  /** Category clocks (legal deadlines) missed; only on the category's "*" row. */
  categoryClockBreaches: number;
}

export const emptyOutcome = (): CellOutcome => ({
  byHand: 0,
  missedDeadline: 0,
  otherAutomatic: 0,
  acknowledgeBreaches: 0,
  resolveBreaches: 0,
  categoryClockBreaches: 0,
});

/**
 * Escalations out of each cell (category x the tier left) and missed targets at each, counted from
 * a timeline, recorded or replayed. Category clocks (legal deadlines) count under tier "*".
 */
export function tallyByCell(category: string, events: readonly IncidentEvent[], into: Map<string, CellOutcome>): void {
  const cell = (tier: string | null) => {
    const key = `${category}\u0000${tier ?? '*'}`;
    let c = into.get(key);
    if (!c) into.set(key, (c = emptyOutcome()));
    return c;
  };
  for (const e of events) {
    if (e.kind === 'escalated') {
      const data = e.data as { automatic: boolean; missed?: unknown };
      const c = cell(e.fromTier);
      if (!data.automatic) c.byHand++;
      else if (data.missed) c.missedDeadline++;
      else c.otherAutomatic++;
    } else if (e.kind === 'deadline_missed') {
      const data = e.data as { kind: 'acknowledge' | 'resolve' | 'category'; tier: string | null };
      const c = cell(data.kind === 'category' ? null : data.tier);
      if (data.kind === 'acknowledge') c.acknowledgeBreaches++;
      else if (data.kind === 'resolve') c.resolveBreaches++;
      else c.categoryClockBreaches++;
    }
  }
}
