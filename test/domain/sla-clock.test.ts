import { describe, expect, it } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { DateTime } from 'luxon';
import { ALWAYS, businessTimeBetween, defaultBusinessCalendar, type Calendar } from '../../src/domain/calendar.js';
import {
  deadline,
  elapsed,
  isPaused,
  pauseClock,
  remaining,
  resumeClock,
  startClock,
  stopClock,
  viewClock,
  type SlaClock,
} from '../../src/domain/sla-clock.js';

const H = 3_600_000;
const MIN = 60_000;
const paris = (local: string) => DateTime.fromISO(local, { zone: 'Europe/Paris' }).toMillis();
const office = defaultBusinessCalendar();

describe('a running SLA clock', () => {
  it('a 4-hour target opened Friday 16:00 Paris is due Monday 11:00', () => {
    const clock = startClock(office, 4 * H, paris('2026-07-10T16:00'));
    expect(deadline(clock, paris('2026-07-10T16:00'))).toBe(paris('2026-07-13T11:00'));
    expect(elapsed(clock, paris('2026-07-11T12:00'))).toBe(2 * H); // the weekend does not count
    expect(remaining(clock, paris('2026-07-13T10:00'))).toBe(1 * H);
  });

  it('counts only business time: started Monday 17:00, 2 hours have elapsed by Tuesday 10:00', () => {
    const clock = startClock(office, 8 * H, paris('2026-06-01T17:00'));
    expect(elapsed(clock, paris('2026-06-02T10:00'))).toBe(2 * H);
  });

  it('started on Saturday, it counts nothing until Monday 09:00 and a 1-hour target is due Monday 10:00', () => {
    const clock = startClock(office, 1 * H, paris('2026-06-06T10:00'));
    expect(elapsed(clock, paris('2026-06-08T09:00'))).toBe(0);
    expect(deadline(clock, paris('2026-06-06T10:00'))).toBe(paris('2026-06-08T10:00'));
    expect(viewClock(clock, paris('2026-06-07T12:00'))).toMatchObject({ elapsedMs: 0, breached: false, paused: false });
  });

  it('reports nothing elapsed before it started', () => {
    const clock = startClock(office, 1 * H, paris('2026-06-01T10:00'));
    expect(elapsed(clock, paris('2026-06-01T09:00'))).toBe(0);
    expect(isPaused(clock, paris('2026-06-01T09:00'))).toBe(false);
  });

  it('refuses a negative target', () => {
    expect(() => startClock(office, -1, 0)).toThrow(RangeError);
  });
});

describe('pausing and resuming', () => {
  const start = paris('2026-06-01T09:00'); // Monday
  const running = startClock(office, 8 * H, start);

  it('pausing 1h30 of open time moves the deadline by exactly 1h30 of business time (Monday 17:00 -> Tuesday 09:30)', () => {
    expect(deadline(running, start)).toBe(paris('2026-06-01T17:00'));
    const resumed = resumeClock(pauseClock(running, paris('2026-06-01T10:00')), paris('2026-06-01T11:30'));
    const moved = deadline(resumed, paris('2026-06-01T11:30'))!;
    expect(moved).toBe(paris('2026-06-02T09:30'));
    expect(businessTimeBetween(office, paris('2026-06-01T17:00'), moved)).toBe(90 * MIN);
  });

  it('a pause spanning the night only costs its open hours: paused Monday 17:00 to Tuesday 10:00 shifts by 2 hours', () => {
    const clock = startClock(office, 16 * H, start); // due Tuesday 16:00
    const resumed = resumeClock(pauseClock(clock, paris('2026-06-01T17:00')), paris('2026-06-02T10:00'));
    expect(deadline(clock, start)).toBe(paris('2026-06-02T16:00'));
    expect(deadline(resumed, paris('2026-06-02T10:00'))).toBe(paris('2026-06-02T18:00'));
  });

  it('while paused, elapsed is frozen and there is no deadline', () => {
    const paused = pauseClock(running, paris('2026-06-01T10:00'));
    expect(isPaused(paused)).toBe(true);
    expect(elapsed(paused, paris('2026-06-01T12:00'))).toBe(1 * H);
    expect(elapsed(paused, paris('2026-06-03T12:00'))).toBe(1 * H);
    expect(deadline(paused, paris('2026-06-01T12:00'))).toBeNull();
    expect(viewClock(paused, paris('2026-06-01T12:00'))).toMatchObject({ paused: true, deadline: null, remainingMs: 7 * H });
  });

  it('answers isPaused as of an instant from the recorded history', () => {
    const resumed = resumeClock(pauseClock(running, paris('2026-06-01T10:00')), paris('2026-06-01T11:30'));
    expect(isPaused(resumed)).toBe(false);
    expect(isPaused(resumed, paris('2026-06-01T09:59'))).toBe(false);
    expect(isPaused(resumed, paris('2026-06-01T10:00'))).toBe(true);
    expect(isPaused(resumed, paris('2026-06-01T11:29'))).toBe(true);
    expect(isPaused(resumed, paris('2026-06-01T11:30'))).toBe(false);
  });

  it('pausing a paused clock and resuming a running clock return the very same clock', () => {
    const paused = pauseClock(running, paris('2026-06-01T10:00'));
    expect(pauseClock(paused, paris('2026-06-01T11:00'))).toBe(paused);
    expect(resumeClock(running, paris('2026-06-01T11:00'))).toBe(running);
  });

  it('is pure: the original clock is left untouched', () => {
    const before = structuredClone(running);
    const paused = pauseClock(running, paris('2026-06-01T10:00'));
    resumeClock(paused, paris('2026-06-01T11:00'));
    expect(running).toEqual(before);
    expect(paused.segments).toEqual([{ from: start, to: paris('2026-06-01T10:00') }]);
  });

  it('on a 24x7 calendar a 30-minute pause moves the deadline by exactly 30 minutes', () => {
    const t0 = paris('2026-03-29T01:00'); // across the spring-forward change
    const clock = startClock(ALWAYS, 4 * H, t0);
    const resumed = resumeClock(pauseClock(clock, t0 + H), t0 + H + 30 * MIN);
    expect(deadline(resumed, t0 + 2 * H)).toBe(t0 + 4 * H + 30 * MIN);
  });

  it('refuses to go back in time, with a message saying so', () => {
    const paused = pauseClock(running, paris('2026-06-01T10:00'));
    expect(() => resumeClock(paused, paris('2026-06-01T09:30'))).toThrow(/time never goes backwards/);
    expect(() => pauseClock(running, start - 1)).toThrow(RangeError);
    expect(() => stopClock(paused, paris('2026-06-01T09:59'))).toThrow(/time never goes backwards/);
  });
});

describe('stopping and breaching', () => {
  const start = paris('2026-06-01T09:00');
  const clock = startClock(office, 4 * H, start); // due Monday 13:00

  it('a stopped clock has a frozen elapsed time, no deadline and is not paused', () => {
    const stopped = stopClock(clock, paris('2026-06-01T11:00'));
    expect(elapsed(stopped, paris('2026-06-05T11:00'))).toBe(2 * H);
    expect(viewClock(stopped, paris('2026-06-05T11:00'))).toEqual({
      targetMs: 4 * H,
      elapsedMs: 2 * H,
      remainingMs: 2 * H,
      paused: false,
      stopped: true,
      deadline: null,
      breached: false,
    });
  });

  it('stopping is idempotent, and a stopped clock can be neither paused nor resumed', () => {
    const stopped = stopClock(clock, paris('2026-06-01T11:00'));
    expect(stopClock(stopped, paris('2026-06-01T12:00'))).toBe(stopped);
    expect(() => pauseClock(stopped, paris('2026-06-01T12:00'))).toThrow(/stopped/);
    expect(() => resumeClock(stopped, paris('2026-06-01T12:00'))).toThrow(/stopped/);
  });

  it('a paused clock can be stopped; the pause is kept', () => {
    const stopped = stopClock(pauseClock(clock, paris('2026-06-01T10:00')), paris('2026-06-01T15:00'));
    expect(stopped.stoppedAt).toBe(paris('2026-06-01T15:00'));
    expect(elapsed(stopped, paris('2026-06-01T16:00'))).toBe(1 * H);
  });

  it('past its deadline the clock is breached and remaining goes negative', () => {
    expect(viewClock(clock, paris('2026-06-01T12:59'))).toMatchObject({ breached: false, remainingMs: 1 * MIN });
    expect(viewClock(clock, paris('2026-06-01T14:00'))).toMatchObject({ breached: true, remainingMs: -1 * H });
  });

  it('once breached, the deadline stays at the instant the target was reached instead of drifting', () => {
    expect(deadline(clock, paris('2026-06-01T14:00'))).toBe(paris('2026-06-01T13:00'));
    expect(deadline(clock, paris('2026-06-03T14:00'))).toBe(paris('2026-06-01T13:00'));
  });

  it('a target reached at closing time is breached overnight, not only from the next opening', () => {
    const dueAtClose = startClock(office, 9 * H, start); // due Monday 18:00
    expect(viewClock(dueAtClose, paris('2026-06-01T18:00'))).toMatchObject({ breached: false, remainingMs: 0 });
    expect(viewClock(dueAtClose, paris('2026-06-01T20:00'))).toMatchObject({ breached: true, remainingMs: 0 });
  });

  it('a clock stopped exactly at its deadline met its target; one stopped a minute later did not', () => {
    const atDeadline = stopClock(clock, paris('2026-06-01T13:00'));
    const late = stopClock(clock, paris('2026-06-01T13:01'));
    expect(viewClock(atDeadline, paris('2026-06-02T10:00')).breached).toBe(false);
    expect(viewClock(late, paris('2026-06-02T10:00')).breached).toBe(true);
  });

  it('a breached clock that is paused stays breached and has no deadline', () => {
    const paused = pauseClock(clock, paris('2026-06-01T15:00'));
    expect(viewClock(paused, paris('2026-06-01T16:00'))).toMatchObject({ breached: true, deadline: null, paused: true });
  });
});

// ---------------------------------------------------------------------------------------------

type Action = 'pause' | 'resume' | 'stop';

/** Applies actions at increasing instants; returns the clock and the instant of the last action. */
function play(
  calendar: Calendar,
  target: number,
  start: number,
  steps: Array<[number, Action]>,
): { clock: SlaClock; now: number } {
  let clock = startClock(calendar, target, start);
  let now = start;
  for (const [gap, action] of steps) {
    now += gap;
    if (clock.stoppedAt !== undefined) break;
    clock = action === 'pause' ? pauseClock(clock, now) : action === 'resume' ? resumeClock(clock, now) : stopClock(clock, now);
  }
  return { clock, now };
}

describe('properties (Paris office calendar)', () => {
  const instant = fc.integer({ min: paris('2026-01-01T00:00'), max: paris('2027-12-01T00:00') });
  const target = fc.integer({ min: 0, max: 60 * H });
  const steps = fc.array(
    fc.tuple(fc.integer({ min: 0, max: 72 * H }), fc.constantFrom<Action>('pause', 'resume', 'resume', 'pause', 'stop')),
    {
      maxLength: 6,
    },
  );
  const runs = { numRuns: 200 };

  fcTest.prop(
    [instant, target, steps, fc.array(fc.integer({ min: -24 * H, max: 30 * 24 * H }), { minLength: 2, maxLength: 6 })],
    runs,
  )('elapsed is never negative, never decreasing, and elapsed + remaining = target', (start, t, s, offsets) => {
    const { clock } = play(office, t, start, s);
    let previous = 0;
    for (const at of offsets.map((o) => start + o).sort((a, b) => a - b)) {
      const e = elapsed(clock, at);
      expect(e).toBeGreaterThanOrEqual(previous);
      expect(e + remaining(clock, at)).toBe(t);
      previous = e;
    }
  });

  fcTest.prop([instant, target, steps, fc.integer({ min: 0, max: 72 * H })], runs)(
    'pausing never moves a deadline earlier, and moves an unbreached one by exactly the paused open time',
    (start, t, s, pauseLength) => {
      const { clock, now } = play(office, t, start, s);
      const before = deadline(clock, now);
      if (before === null) return; // paused or stopped
      const resumed = resumeClock(pauseClock(clock, now), now + pauseLength);
      const after = deadline(resumed, now + pauseLength)!;
      expect(after).toBeGreaterThanOrEqual(before);
      if (before > now)
        expect(businessTimeBetween(office, before, after)).toBe(businessTimeBetween(office, now, now + pauseLength));
      else expect(after).toBe(before);
    },
  );

  fcTest.prop([instant, target, steps], runs)('a running clock reaches exactly its target at its deadline', (start, t, s) => {
    const { clock, now } = play(office, t, start, s);
    const due = deadline(clock, now);
    if (due === null) return;
    expect(elapsed(clock, Math.max(due, now))).toBeGreaterThanOrEqual(t);
    expect(elapsed(clock, due)).toBe(t);
  });
});
