/**
 * The figures reports are made of, per incident and per stint at a tier, derived from the events
 * and the matrix version the incident runs under. They are stored beside the incident whenever its
 * events change, because business time (calendars, holidays, pauses) cannot be recomputed for a
 * million incidents on each report.
 *
 * Definitions (all times in ms):
 * - time to acknowledge: creation to the first acknowledgement;
 * - time to resolve: creation to the latest resolution, for incidents resolved (or closed) now;
 * - business time: on the calendar of the incident's first SLA target, pending time excluded;
 * - a stint is a stay at one tier; it ends when the incident leaves the tier (escalation, hand-back)
 *   or, for the last one, at the latest resolution; open stints have no duration yet;
 * - a stint met its acknowledge (resolve) target unless that clock reached its target before it
 *   stopped or paused; while a clock runs below target, the outcome is not known yet (null).
 */
import { replayClocks, type IncidentClock } from './escalation.js';
import type { Incident, IncidentEvent, VendorRef } from './incident.js';
import type { MatrixDefinition } from './matrix.js';
import { elapsed, viewClock } from './sla-clock.js';

/** Why a stint ended: the incident moved up by hand, because a target was missed, for another automatic reason (too many reopenings), or was handed back down. */
export const STINT_EXITS = ['hand', 'missed', 'other', 'handed_back'] as const;
export type StintExit = (typeof STINT_EXITS)[number];

export interface StintFigures {
  n: number;
  tier: string;
  enteredAt: number;
  exit: StintExit | null;
  wallMs: number | null;
  businessMs: number | null;
  ackMet: boolean | null;
  resolveMet: boolean | null;
}

export interface IncidentFigures {
  incidentId: number;
  category: string;
  priority: string;
  tier: string;
  createdAt: number;
  acknowledgedAt: number | null;
  ackMs: number | null;
  ackBusinessMs: number | null;
  resolvedAt: number | null;
  resolveMs: number | null;
  resolveBusinessMs: number | null;
  everResolved: boolean;
  reopenCount: number;
  reachedTop: boolean;
  seq: number;
  stints: StintFigures[];
  vendors: VendorEngagementFigures[];
}

/**
 * One hand-over to a vendor, measured against the contract targets the hand-over carried. It ends
 * when the vendor is done, the incident is resolved, or another hand-over replaces it.
 * - time to acknowledge: hand-over to the vendor's acknowledgement;
 * - time to resolve: hand-over to the vendor being done or the incident resolved, whichever first;
 * - a target is met once the vendor acted in time, missed once its clock passed the target; an
 *   engagement replaced before either, or with no target in its contract, is not counted (null).
 */
export interface VendorEngagementFigures {
  n: number;
  vendorId: number;
  vendorName: string;
  /** The tier that handed the incident over. */
  tier: string;
  engagedAt: number;
  /** First hand-over of this vendor in the incident: counts the incident once per vendor. */
  firstForVendor: boolean;
  ackTarget: string | null;
  resolveTarget: string | null;
  ackMs: number | null;
  resolveMs: number | null;
  ackMet: boolean | null;
  resolveMet: boolean | null;
}

/** `now` decides only whether a still-running clock has already missed its target. */
export function incidentFigures(
  incident: Incident,
  events: readonly IncidentEvent[],
  matrix: MatrixDefinition,
  now: number,
): IncidentFigures {
  const replay = replayClocks(events, matrix);
  const top = matrix.tiers.at(-1)!.key;
  const resolvedAt = incident.resolvedAt;
  const ackAt = incident.acknowledgedAt;
  const finished = incident.status === 'resolved' || incident.status === 'closed';
  // A clock is settled once stopped, or paused by the resolution of the incident at its last tier;
  // a clock paused while pending resumes later, so only a miss already made is known.
  const missed = new Set(events.filter((e) => e.kind === 'deadline_missed').map((e) => (e.data as { clock: string }).clock));
  const outcome = (c: IncidentClock, last: boolean): boolean | null => {
    // The worker may act at the very instant of the deadline, where the clock alone would say "met".
    if (missed.has(c.id)) return false;
    const clock = c.clock;
    const pausedAt = clock.segments.at(-1)!.to;
    const settled = clock.stoppedAt ?? (last && finished ? pausedAt : null);
    if (settled !== null) return !viewClock(clock, settled).breached;
    return viewClock(clock, now).breached ? false : null;
  };
  const stints = replay.stints.map((s, n): StintFigures => {
    const leaving = events.find((e) => e.seq > s.arrivalSeq && (e.kind === 'escalated' || e.kind === 'handed_back'));
    // Replay also marks the last stint left when the incident closes; its time ends at the resolution.
    const end = n < replay.stints.length - 1 ? s.leftAt : resolvedAt;
    let exit: StintExit | null = null;
    if (leaving?.kind === 'handed_back') exit = 'handed_back';
    else if (leaving?.kind === 'escalated') {
      const d = leaving.data as { automatic: boolean; missed?: unknown };
      exit = !d.automatic ? 'hand' : d.missed ? 'missed' : 'other';
    }
    return {
      n,
      tier: s.tier,
      enteredAt: s.enteredAt,
      exit,
      wallMs: end === null ? null : end - s.enteredAt,
      businessMs: end === null ? null : elapsed(s.resolve.clock, end),
      ackMet: outcome(s.acknowledge, n === replay.stints.length - 1),
      resolveMet: outcome(s.resolve, n === replay.stints.length - 1),
    };
  });
  return {
    incidentId: incident.id,
    category: incident.category,
    priority: incident.priority,
    tier: incident.tier,
    createdAt: incident.createdAt,
    acknowledgedAt: ackAt,
    ackMs: ackAt === null ? null : ackAt - incident.createdAt,
    ackBusinessMs: ackAt === null ? null : elapsed(replay.overall, ackAt),
    resolvedAt,
    resolveMs: resolvedAt === null ? null : resolvedAt - incident.createdAt,
    resolveBusinessMs: resolvedAt === null ? null : elapsed(replay.overall, resolvedAt),
    everResolved: events.some((e) => e.kind === 'resolved'),
    reopenCount: incident.reopenCount,
    reachedTop: replay.stints.some((s) => s.tier === top),
    seq: incident.seq,
    stints,
    vendors: vendorFigures(events, replay.categoryClocks, missed, now),
  };
}

function vendorFigures(
  events: readonly IncidentEvent[],
  clocks: readonly IncidentClock[],
  missed: ReadonlySet<string>,
  now: number,
): VendorEngagementFigures[] {
  const out: VendorEngagementFigures[] = [];
  const seen = new Set<number>();
  const engagements = events.filter((e) => e.kind === 'vendor_engaged');
  engagements.forEach((e, n) => {
    const vendor = (e.data as { vendor: VendorRef }).vendor;
    const endSeq = engagements[n + 1]?.seq ?? Infinity;
    const within = events.filter((x) => x.seq > e.seq && x.seq < endSeq);
    const ackAt = within.find((x) => x.kind === 'vendor_acknowledged')?.at ?? null;
    const doneAt = within.find((x) => x.kind === 'vendor_done' || x.kind === 'resolved')?.at ?? null;
    const judge = (kind: 'acknowledge' | 'resolve', actedAt: number | null): boolean | null => {
      const c = clocks.find((k) => k.id === `vendor:${vendor.id}@${e.seq}:${kind}`);
      if (!c) return null;
      if (missed.has(c.id) || viewClock(c.clock, c.clock.stoppedAt ?? now).breached) return false;
      return actedAt === null ? null : true;
    };
    out.push({
      n,
      vendorId: vendor.id,
      vendorName: vendor.name,
      tier: e.fromTier ?? e.toTier ?? '',
      engagedAt: e.at,
      firstForVendor: !seen.has(vendor.id),
      ackTarget: vendor.acknowledge ?? null,
      resolveTarget: vendor.resolve ?? null,
      ackMs: ackAt === null ? null : ackAt - e.at,
      resolveMs: doneAt === null ? null : doneAt - e.at,
      ackMet: judge('acknowledge', ackAt),
      resolveMet: judge('resolve', doneAt),
    });
    seen.add(vendor.id);
  });
  return out;
}
