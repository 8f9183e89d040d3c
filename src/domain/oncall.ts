import { DateTime, IANAZone } from 'luxon';

/**
 * On-call rotation of a tier team. Hand-overs happen at `handoverTime` (local time in `timeZone`)
 * every day, or every week on the weekday of `startsAt`. The first member is on call from
 * `startsAt` until the first hand-over after it, then each member in turn, one period each.
 * Before `startsAt` the rotation names nobody; overrides still apply.
 */
export interface Rotation {
  startsAt: number;
  period: RotationPeriod;
  /** "HH:MM", 24-hour local time. */
  handoverTime: string;
  timeZone: string;
  /** User ids in rotation order. */
  members: number[];
}

export const ROTATION_PERIODS = ['daily', 'weekly'] as const;
export type RotationPeriod = (typeof ROTATION_PERIODS)[number];

/** Someone on call in place of the rotation during [startsAt, endsAt). */
export interface Override {
  userId: number;
  startsAt: number;
  endsAt: number;
}

export interface OnCall {
  userId: number;
  source: 'rotation' | 'override';
  /** When this answer changes next: the end of the shift or override, or the start of an override. Null: never. */
  until: number | null;
}

export const HANDOVER_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

export const isTimeZone = (zone: string) => IANAZone.isValidZone(zone);

const periodDays = (p: RotationPeriod) => (p === 'daily' ? 1 : 7);

/** Days from 1970-01-01 of a local calendar date: a count of dates, free of DST. */
const dayNumber = (dt: DateTime) => Math.floor(Date.UTC(dt.year, dt.month - 1, dt.day) / 86_400_000);

/**
 * The hand-over instants are B(m) = (local date of startsAt + m periods) at handoverTime. A local
 * time that does not exist (the spring-forward gap) moves forward by the gap, as luxon does; an
 * ambiguous one (autumn) is its first occurrence. B is strictly increasing in m.
 */
function boundary(r: Rotation, m: number): number {
  const [h, min] = r.handoverTime.split(':').map(Number) as [number, number];
  const start = DateTime.fromMillis(r.startsAt, { zone: r.timeZone });
  return start
    .startOf('day')
    .plus({ days: m * periodDays(r.period) })
    .set({ hour: h, minute: min, second: 0, millisecond: 0 })
    .toMillis();
}

/** The smallest m with B(m) > t. */
function nextBoundaryIndex(r: Rotation, t: number): number {
  const days =
    dayNumber(DateTime.fromMillis(t, { zone: r.timeZone })) - dayNumber(DateTime.fromMillis(r.startsAt, { zone: r.timeZone }));
  let m = Math.floor(days / periodDays(r.period));
  // The guess is off by at most one either way (a hand-over late in the day, a zone changing at midnight).
  while (boundary(r, m) <= t) m++;
  while (boundary(r, m - 1) > t) m--;
  return m;
}

function assertRotation(r: Rotation): void {
  if (!HANDOVER_TIME.test(r.handoverTime)) throw new RangeError(`hand-over time ${r.handoverTime} is not HH:MM`);
  if (!isTimeZone(r.timeZone)) throw new RangeError(`unknown time zone ${r.timeZone}`);
}

/** The next hand-over of the rotation strictly after t; before the start, the start itself. */
export function nextHandover(r: Rotation, t: number): number {
  assertRotation(r);
  if (t < r.startsAt) return r.startsAt;
  return boundary(r, nextBoundaryIndex(r, t));
}

/** Who the rotation alone puts on call at t, and until when; null before the start or without members. */
export function rotationOnCall(r: Rotation, t: number): { userId: number; until: number } | null {
  assertRotation(r);
  if (r.members.length === 0 || t < r.startsAt) return null;
  const first = nextBoundaryIndex(r, r.startsAt);
  const m = nextBoundaryIndex(r, t);
  const shift = m - first; // 0 for the first member's shift
  return { userId: r.members[shift % r.members.length]!, until: boundary(r, m) };
}

/**
 * The override in force at t: among those covering t, the one that started last (the later one in
 * the list on a tie) wins, so a short override inside a long one takes precedence.
 */
function winningOverride(overrides: readonly Override[], t: number): Override | undefined {
  let best: Override | undefined;
  for (const o of overrides) {
    if (o.startsAt <= t && t < o.endsAt && (!best || o.startsAt >= best.startsAt)) best = o;
  }
  return best;
}

interface Segment {
  userId: number | null;
  source: OnCall['source'];
  /** The next instant after t where the rotation or an override may change the answer. */
  next: number | null;
}

function segmentAt(r: Rotation, overrides: readonly Override[], t: number): Segment {
  const fromRotation = rotationOnCall(r, t);
  let next: number | null = fromRotation?.until ?? (r.members.length > 0 && t < r.startsAt ? r.startsAt : null);
  for (const o of overrides) {
    for (const edge of [o.startsAt, o.endsAt]) if (edge > t && (next === null || edge < next)) next = edge;
  }
  const override = winningOverride(overrides, t);
  if (override) return { userId: override.userId, source: 'override', next };
  return { userId: fromRotation?.userId ?? null, source: 'rotation', next };
}

/**
 * The person on call at t: an override in force, else the rotation; null when neither names
 * anyone. `until` is when someone else takes over (hand-overs to the same person are skipped).
 */
export function onCallAt(r: Rotation, overrides: readonly Override[], t: number): OnCall | null {
  const now = segmentAt(r, overrides, t);
  if (now.userId === null) return null;
  const lastOverrideEdge = Math.max(t, ...overrides.flatMap((o) => [o.startsAt, o.endsAt]));
  let rotationSteps = 0;
  let edge = now.next;
  while (edge !== null) {
    const seg = segmentAt(r, overrides, edge);
    if (seg.userId !== now.userId) return { userId: now.userId, source: now.source, until: edge };
    // Past the last override, a whole cycle of hand-overs to the same person means it never changes.
    if (edge >= lastOverrideEdge && ++rotationSteps > r.members.length)
      return { userId: now.userId, source: now.source, until: null };
    edge = seg.next;
  }
  return { userId: now.userId, source: now.source, until: null };
}
