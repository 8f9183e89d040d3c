/**
 * SLA clocks: business time counted on a calendar, pausable (incident pending on the requester or a
 * vendor) and stoppable (target met or cancelled). Pure values: every operation returns a new clock.
 *
 * Time never goes backwards: pausing, resuming or stopping at an instant earlier than the clock's
 * latest recorded event throws a RangeError. Queries (`elapsed`, `deadline`, ...) accept any instant
 * and answer as of that instant from the recorded history.
 */
import { addBusinessTime, businessTimeBetween, type Calendar } from './calendar.js';

/** A period during which the clock ran: [from, to), `to` null while still running. */
export interface ClockSegment {
  from: number;
  to: number | null;
}

export interface SlaClock {
  calendar: Calendar;
  targetMs: number;
  startedAt: number;
  /** Running periods, in order; only the last may be open-ended. */
  segments: ClockSegment[];
  /** Set once the target is met or cancelled; the clock no longer runs. */
  stoppedAt?: number;
}

export interface ClockView {
  targetMs: number;
  elapsedMs: number;
  remainingMs: number;
  paused: boolean;
  stopped: boolean;
  deadline: number | null;
  breached: boolean;
}

export function startClock(calendar: Calendar, targetMs: number, at: number): SlaClock {
  if (!Number.isFinite(targetMs) || targetMs < 0)
    throw new RangeError(`SLA target must be a finite number of ms >= 0, got ${targetMs}`);
  assertInstant(at);
  return { calendar, targetMs, startedAt: at, segments: [{ from: at, to: null }] };
}

/** Stops counting. Returns the same clock when already paused; throws on a stopped clock. */
export function pauseClock(clock: SlaClock, at: number): SlaClock {
  assertMutable(clock, at, 'pause');
  const last = lastSegment(clock);
  if (last.to !== null) return clock;
  return { ...clock, segments: [...clock.segments.slice(0, -1), { from: last.from, to: at }] };
}

/** Counts again from `at`. Returns the same clock when already running; throws on a stopped clock. */
export function resumeClock(clock: SlaClock, at: number): SlaClock {
  assertMutable(clock, at, 'resume');
  if (lastSegment(clock).to === null) return clock;
  return { ...clock, segments: [...clock.segments, { from: at, to: null }] };
}

/** Final: the target was met or cancelled. Works on a running or paused clock; idempotent once stopped. */
export function stopClock(clock: SlaClock, at: number): SlaClock {
  assertNotBefore(clock, at, 'stop');
  if (clock.stoppedAt !== undefined) return clock;
  const last = lastSegment(clock);
  const segments = last.to === null ? [...clock.segments.slice(0, -1), { from: last.from, to: at }] : clock.segments;
  return { ...clock, segments, stoppedAt: at };
}

/** Business ms the clock has run up to `at`: never negative, never decreasing as `at` grows. */
export function elapsed(clock: SlaClock, at: number): number {
  assertInstant(at);
  let total = 0;
  for (const s of clock.segments) total += businessTimeBetween(clock.calendar, s.from, Math.min(s.to ?? at, at));
  return total;
}

/** targetMs - elapsed; negative once breached. */
export function remaining(clock: SlaClock, at: number): number {
  return clock.targetMs - elapsed(clock, at);
}

/**
 * The instant the target is reached if the clock keeps running from `at`; null when paused or
 * stopped as of `at`. While running it does not depend on `at`: it equals
 * addBusinessTime(max(at, resume point), remaining(at)) whenever that remaining is positive, and once
 * breached it is the (past) instant the target was reached, so it stays put instead of drifting.
 */
export function deadline(clock: SlaClock, at: number): number | null {
  assertInstant(at);
  if (isStopped(clock, at) || isPaused(clock, at)) return null;
  // Before the start, project from the start.
  const k = at < clock.startedAt ? 0 : clock.segments.findIndex((s) => contains(s, at));
  const running = clock.segments[k]!;
  return targetReachedAt(clock, [...clock.segments.slice(0, k), { from: running.from, to: null }]) ?? null;
}

/**
 * Paused: started, not stopped, and not inside a running period. Without `at`, the latest state.
 * A clock is not paused before it starts, nor once stopped.
 */
export function isPaused(clock: SlaClock, at?: number): boolean {
  if (at === undefined) return clock.stoppedAt === undefined && lastSegment(clock).to !== null;
  assertInstant(at);
  return at >= clock.startedAt && !isStopped(clock, at) && !clock.segments.some((s) => contains(s, at));
}

/**
 * Everything a screen needs about a clock at `at`. `breached` means the target was reached strictly
 * before `at` (and before the clock stopped): a clock stopped exactly at its deadline met it, and a
 * target reached at closing time shows breached overnight rather than from the next opening.
 */
export function viewClock(clock: SlaClock, at: number): ClockView {
  const elapsedMs = elapsed(clock, at);
  const history = clock.segments.filter((s) => s.from <= at).map((s) => ({ from: s.from, to: Math.min(s.to ?? at, at) }));
  const reached = targetReachedAt(clock, history);
  return {
    targetMs: clock.targetMs,
    elapsedMs,
    remainingMs: clock.targetMs - elapsedMs,
    paused: isPaused(clock, at),
    stopped: isStopped(clock, at),
    deadline: deadline(clock, at),
    breached: reached !== undefined && reached < at && (clock.stoppedAt === undefined || reached < clock.stoppedAt),
  };
}

// ---------------------------------------------------------------------------------------------

/** First instant the running periods accumulate targetMs; undefined if they never do. */
function targetReachedAt(clock: SlaClock, segments: readonly ClockSegment[]): number | undefined {
  let counted = 0;
  for (const s of segments) {
    const left = clock.targetMs - counted;
    if (s.to === null) return addBusinessTime(clock.calendar, s.from, left);
    const ran = businessTimeBetween(clock.calendar, s.from, s.to);
    if (ran >= left) return addBusinessTime(clock.calendar, s.from, left);
    counted += ran;
  }
  return undefined;
}

function contains(s: ClockSegment, at: number): boolean {
  return s.from <= at && (s.to === null || at < s.to);
}

function isStopped(clock: SlaClock, at: number): boolean {
  return clock.stoppedAt !== undefined && at >= clock.stoppedAt;
}

function lastSegment(clock: SlaClock): ClockSegment {
  const last = clock.segments[clock.segments.length - 1];
  if (!last) throw new Error('SLA clock has no segments; create clocks with startClock');
  return last;
}

/** The latest instant recorded in the clock. */
function lastEvent(clock: SlaClock): number {
  const last = lastSegment(clock);
  return Math.max(clock.stoppedAt ?? -Infinity, last.to ?? last.from);
}

function assertInstant(at: number): void {
  if (!Number.isFinite(at)) throw new RangeError(`SLA clock instants must be finite epoch ms, got ${at}`);
}

function assertNotBefore(clock: SlaClock, at: number, action: string): void {
  assertInstant(at);
  const latest = lastEvent(clock);
  if (at < latest) {
    throw new RangeError(
      `Cannot ${action} an SLA clock at ${iso(at)}: its latest event is at ${iso(latest)} and time never goes backwards`,
    );
  }
}

function assertMutable(clock: SlaClock, at: number, action: string): void {
  assertNotBefore(clock, at, action);
  if (clock.stoppedAt !== undefined) throw new Error(`Cannot ${action} an SLA clock stopped at ${iso(clock.stoppedAt)}`);
}

function iso(at: number): string {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? String(at) : d.toISOString();
}
