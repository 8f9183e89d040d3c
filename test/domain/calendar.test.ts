import { describe, expect, it } from 'vitest';
import { fc, test as fcTest } from '@fast-check/vitest';
import { DateTime } from 'luxon';
import {
  ALWAYS,
  addBusinessTime,
  businessTimeBetween,
  calendarSchema,
  defaultBusinessCalendar,
  isOpen,
  nextOpening,
  type Calendar,
  type OpeningInterval,
} from '../../src/domain/calendar.js';

const H = 3_600_000;
const MIN = 60_000;
const ZONE = 'Europe/Paris';

/** Local Paris wall time -> epoch ms, via luxon (an oracle independent of the calendar code). */
const paris = (local: string) => {
  const dt = DateTime.fromISO(local, { zone: ZONE });
  if (!dt.isValid) throw new Error(`bad test date ${local}`);
  return dt.toMillis();
};
const utc = (iso: string) => Date.parse(iso);

const office = defaultBusinessCalendar();

const everyDay = (intervals: OpeningInterval[]): Calendar => ({
  kind: 'business-hours',
  timeZone: ZONE,
  week: { mon: intervals, tue: intervals, wed: intervals, thu: intervals, fri: intervals, sat: intervals, sun: intervals },
});

const lunchBreak: Calendar = {
  kind: 'business-hours',
  timeZone: ZONE,
  week: Object.fromEntries(
    (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((d) => [
      d,
      [
        { start: '09:00', end: '12:00' },
        { start: '14:00', end: '18:00' },
      ],
    ]),
  ),
  holidays: { country: 'FR' },
};

describe('24x7 calendar', () => {
  it('adds exact milliseconds across spring-forward: Saturday 12:00 + 24h is Sunday 13:00 Paris wall time', () => {
    expect(addBusinessTime(ALWAYS, paris('2026-03-28T12:00'), 24 * H)).toBe(paris('2026-03-29T13:00'));
  });

  it('adds exact milliseconds across fall-back: Saturday 12:00 + 24h is Sunday 11:00 Paris wall time', () => {
    expect(addBusinessTime(ALWAYS, paris('2026-10-24T12:00'), 24 * H)).toBe(paris('2026-10-25T11:00'));
  });

  it('is always open and counts every millisecond', () => {
    const at = paris('2026-07-14T03:00');
    expect(isOpen(ALWAYS, at)).toBe(true);
    expect(nextOpening(ALWAYS, at)).toBe(at);
    expect(businessTimeBetween(ALWAYS, at, at + 5 * H)).toBe(5 * H);
    expect(businessTimeBetween(ALWAYS, at + 5 * H, at)).toBe(0);
  });
});

describe('default business calendar (Paris, Mon–Fri 09:00–18:00, French public holidays)', () => {
  it('a 4-hour target opened Friday 16:00 Paris is due Monday 11:00', () => {
    expect(addBusinessTime(office, paris('2026-07-10T16:00'), 4 * H)).toBe(paris('2026-07-13T11:00'));
  });

  it('2 hours from Wednesday 17:00 carry over the night to Thursday 10:00', () => {
    expect(addBusinessTime(office, paris('2026-06-03T17:00'), 2 * H)).toBe(paris('2026-06-04T10:00'));
  });

  it('40 business hours from Monday 09:00 end Friday 13:00', () => {
    expect(addBusinessTime(office, paris('2026-06-01T09:00'), 40 * H)).toBe(paris('2026-06-05T13:00'));
  });

  it('a full day of 9 hours from Monday 09:00 ends exactly at Monday 18:00, not the next morning', () => {
    expect(addBusinessTime(office, paris('2026-06-01T09:00'), 9 * H)).toBe(paris('2026-06-01T18:00'));
  });

  it('counting from a closed instant starts at the next opening: 1 hour from Tuesday 20:00 is Wednesday 10:00', () => {
    expect(addBusinessTime(office, paris('2026-06-02T20:00'), 1 * H)).toBe(paris('2026-06-03T10:00'));
  });

  it('counting from Saturday starts on Monday 09:00', () => {
    expect(addBusinessTime(office, paris('2026-06-06T11:00'), 30 * MIN)).toBe(paris('2026-06-08T09:30'));
  });

  it('adding 0 ms returns the start itself, even when closed', () => {
    const saturday = paris('2026-06-06T11:00');
    expect(addBusinessTime(office, saturday, 0)).toBe(saturday);
  });

  it('opening intervals are half-open: open at 09:00 sharp, closed at 18:00 sharp', () => {
    expect(isOpen(office, paris('2026-06-01T08:59:59.999'))).toBe(false);
    expect(isOpen(office, paris('2026-06-01T09:00'))).toBe(true);
    expect(isOpen(office, paris('2026-06-01T17:59:59.999'))).toBe(true);
    expect(isOpen(office, paris('2026-06-01T18:00'))).toBe(false);
    expect(isOpen(office, paris('2026-06-06T10:00'))).toBe(false); // Saturday
  });

  it('the next opening after Friday evening is Monday 09:00, and an open instant is its own next opening', () => {
    expect(nextOpening(office, paris('2026-06-05T18:00'))).toBe(paris('2026-06-08T09:00'));
    expect(nextOpening(office, paris('2026-06-05T07:00'))).toBe(paris('2026-06-05T09:00'));
    expect(nextOpening(office, paris('2026-06-05T10:17'))).toBe(paris('2026-06-05T10:17'));
  });

  it('a week without holidays holds 45 business hours, whatever the window edges inside closed time', () => {
    expect(businessTimeBetween(office, paris('2026-05-30T00:00'), paris('2026-06-07T00:00'))).toBe(45 * H);
    expect(businessTimeBetween(office, paris('2026-06-01T10:00'), paris('2026-06-01T10:00'))).toBe(0);
    expect(businessTimeBetween(office, paris('2026-06-02T10:00'), paris('2026-06-01T10:00'))).toBe(0);
  });

  it('Bastille Day (Tuesday 14 July 2026) is skipped: 4 hours from Monday 16:00 are due Wednesday 11:00', () => {
    expect(isOpen(office, paris('2026-07-14T10:00'))).toBe(false);
    expect(addBusinessTime(office, paris('2026-07-13T16:00'), 4 * H)).toBe(paris('2026-07-15T11:00'));
  });

  it('1 May 2026 (a Friday) is closed: after Thursday 30 April the next opening is Monday 4 May 09:00', () => {
    expect(isOpen(office, paris('2026-05-01T10:00'))).toBe(false);
    expect(nextOpening(office, paris('2026-04-30T18:30'))).toBe(paris('2026-05-04T09:00'));
  });

  it('Easter Monday 2027 (29 March) is closed: Friday 26 March 09:00 to Tuesday 30 March 09:00 holds only 9 hours', () => {
    expect(businessTimeBetween(office, paris('2027-03-26T09:00'), paris('2027-03-30T09:00'))).toBe(9 * H);
    expect(isOpen(office, paris('2027-03-29T10:00'))).toBe(false);
  });

  it('a holiday region adds its own days: Moselle (FR/57) closes Good Friday 3 April 2026, the rest of France does not', () => {
    const moselle: Calendar = { ...defaultBusinessCalendar(), holidays: { country: 'FR', region: '57' } };
    expect(isOpen(office, paris('2026-04-03T10:00'))).toBe(true);
    expect(isOpen(moselle, paris('2026-04-03T10:00'))).toBe(false);
  });

  it('a custom closure day is skipped: 2 hours from Tuesday 17:00 with Wednesday closed are due Thursday 10:00', () => {
    const closedWednesday: Calendar = { ...defaultBusinessCalendar(), closures: ['2026-06-03'] };
    expect(addBusinessTime(closedWednesday, paris('2026-06-02T17:00'), 2 * H)).toBe(paris('2026-06-04T10:00'));
    expect(addBusinessTime(office, paris('2026-06-02T17:00'), 2 * H)).toBe(paris('2026-06-03T10:00'));
  });

  it('a named closure day closes the day as a plain date does', () => {
    const named: Calendar = { ...defaultBusinessCalendar(), closures: [{ date: '2026-06-03', name: 'Inventaire annuel' }] };
    expect(addBusinessTime(named, paris('2026-06-02T17:00'), 2 * H)).toBe(paris('2026-06-04T10:00'));
    expect(isOpen(named, paris('2026-06-03T10:00'))).toBe(false);
  });

  it('refuses a negative duration', () => {
    expect(() => addBusinessTime(office, paris('2026-06-01T09:00'), -1)).toThrow(RangeError);
  });
});

describe('calendar with a lunch break (09:00–12:00, 14:00–18:00)', () => {
  it('4 hours from Monday 10:00 skip lunch and end at 16:00', () => {
    expect(addBusinessTime(lunchBreak, paris('2026-06-01T10:00'), 4 * H)).toBe(paris('2026-06-01T16:00'));
  });

  it('is closed over lunch and reopens at 14:00', () => {
    expect(isOpen(lunchBreak, paris('2026-06-01T13:00'))).toBe(false);
    expect(nextOpening(lunchBreak, paris('2026-06-01T12:30'))).toBe(paris('2026-06-01T14:00'));
  });

  it('a day holds 7 business hours', () => {
    expect(businessTimeBetween(lunchBreak, paris('2026-06-01T00:00'), paris('2026-06-02T00:00'))).toBe(7 * H);
  });

  it('touching intervals merge: 09:00–12:00 and 12:00–18:00 count as one 9-hour opening', () => {
    const split = everyDay([
      { start: '09:00', end: '12:00' },
      { start: '12:00', end: '18:00' },
    ]);
    expect(isOpen(split, paris('2026-06-01T12:00'))).toBe(true);
    expect(addBusinessTime(split, paris('2026-06-01T11:00'), 2 * H)).toBe(paris('2026-06-01T13:00'));
  });
});

describe('daylight saving changes in Europe/Paris', () => {
  const allDaySunday: Calendar = { kind: 'business-hours', timeZone: ZONE, week: { sun: [{ start: '00:00', end: '24:00' }] } };
  const nineToSix = everyDay([{ start: '09:00', end: '18:00' }]);

  it('Sunday 29 March 2026 open 00:00–24:00 holds 23 hours (spring forward)', () => {
    expect(businessTimeBetween(allDaySunday, paris('2026-03-28T00:00'), paris('2026-03-31T00:00'))).toBe(23 * H);
  });

  it('Sunday 25 October 2026 open 00:00–24:00 holds 25 hours (fall back)', () => {
    expect(businessTimeBetween(allDaySunday, paris('2026-10-24T00:00'), paris('2026-10-27T00:00'))).toBe(25 * H);
  });

  it('a 09:00–18:00 day is still 9 hours on both change days', () => {
    expect(businessTimeBetween(nineToSix, paris('2026-03-29T00:00'), paris('2026-03-30T00:00'))).toBe(9 * H);
    expect(businessTimeBetween(nineToSix, paris('2026-10-25T00:00'), paris('2026-10-26T00:00'))).toBe(9 * H);
  });

  it('18 hours from Saturday 28 March 09:00 end Sunday 29 March 18:00 local (CEST)', () => {
    const due = addBusinessTime(nineToSix, paris('2026-03-28T09:00'), 18 * H);
    expect(due).toBe(utc('2026-03-29T16:00:00Z'));
    expect(due).toBe(paris('2026-03-29T18:00'));
  });

  it('18 hours from Saturday 24 October 09:00 end Sunday 25 October 18:00 local (CET)', () => {
    expect(addBusinessTime(nineToSix, paris('2026-10-24T09:00'), 18 * H)).toBe(utc('2026-10-25T17:00:00Z'));
  });

  it('all-day Sunday opens at local midnight even on the spring-forward day', () => {
    expect(nextOpening(allDaySunday, paris('2026-03-27T12:00'))).toBe(utc('2026-03-28T23:00:00Z'));
    expect(isOpen(allDaySunday, utc('2026-03-29T01:30:00Z'))).toBe(true);
    expect(isOpen(allDaySunday, utc('2026-03-29T22:00:00Z'))).toBe(false); // Monday 00:00 CEST
  });

  it('a Monday 00:00–06:00 night shift is open at 00:30 local time in summer (UTC+2) and winter (UTC+1)', () => {
    const nightShift: Calendar = { kind: 'business-hours', timeZone: ZONE, week: { mon: [{ start: '00:00', end: '06:00' }] } };
    expect(isOpen(nightShift, paris('2026-06-01T00:30'))).toBe(true);
    expect(isOpen(nightShift, paris('2026-01-05T00:30'))).toBe(true);
    expect(isOpen(nightShift, paris('2026-05-31T23:30'))).toBe(false);
    expect(businessTimeBetween(nightShift, paris('2026-05-31T12:00'), paris('2026-06-01T01:00'))).toBe(1 * H);
  });

  it('a closing time inside the spring-forward gap (02:30) closes when the clocks jump, at 03:00 CEST', () => {
    const night: Calendar = { kind: 'business-hours', timeZone: ZONE, week: { sun: [{ start: '01:00', end: '02:30' }] } };
    const day = [paris('2026-03-29T00:00'), paris('2026-03-30T00:00')] as const;
    expect(businessTimeBetween(night, ...day)).toBe(1 * H);
    expect(isOpen(night, utc('2026-03-29T00:59:59.999Z'))).toBe(true);
    expect(isOpen(night, utc('2026-03-29T01:00:00Z'))).toBe(false);
  });

  it('a closing time in the repeated fall-back hour (02:30) means its first occurrence, 02:30 CEST', () => {
    const night: Calendar = { kind: 'business-hours', timeZone: ZONE, week: { sun: [{ start: '01:00', end: '02:30' }] } };
    expect(businessTimeBetween(night, paris('2026-10-25T00:00'), paris('2026-10-26T00:00'))).toBe(1.5 * H);
    expect(isOpen(night, utc('2026-10-25T00:29:59.999Z'))).toBe(true);
    expect(isOpen(night, utc('2026-10-25T00:30:00Z'))).toBe(false);
  });
});

describe('calendars that never open', () => {
  it('a calendar without any opening interval is rejected with a clear error', () => {
    const never: Calendar = { kind: 'business-hours', timeZone: ZONE, week: {} };
    expect(() => isOpen(never, 0)).toThrow(/at least one weekday must have an opening interval/);
    expect(() => addBusinessTime(never, 0, H)).toThrow(/at least one weekday/);
  });

  it('a calendar whose only weekday is closed for 4 years makes the search give up instead of looping', () => {
    const mondays: string[] = [];
    for (let d = DateTime.fromISO('2026-01-05'); d.year < 2030; d = d.plus({ weeks: 1 })) mondays.push(d.toISODate()!);
    const cal: Calendar = {
      kind: 'business-hours',
      timeZone: ZONE,
      week: { mon: [{ start: '09:00', end: '18:00' }] },
      closures: mondays,
    };
    expect(() => nextOpening(cal, paris('2026-01-01T00:00'))).toThrow(/no opening time within/);
    expect(() => addBusinessTime(cal, paris('2026-01-01T00:00'), H)).toThrow(/no opening time within/);
    // The bound is not hit for a calendar that merely opens late: 2030 Mondays are open.
    expect(nextOpening(cal, paris('2029-06-01T00:00'))).toBe(paris('2030-01-07T09:00'));
  });
});

describe('calendarSchema', () => {
  const valid = defaultBusinessCalendar();
  const issuesOf = (value: unknown) => {
    const r = calendarSchema.safeParse(value);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('accepts the default calendar, ALWAYS, regions, closures and touching intervals', () => {
    expect(issuesOf(valid)).toEqual([]);
    expect(issuesOf(ALWAYS)).toEqual([]);
    expect(issuesOf({ ...valid, holidays: { country: 'FR', region: '57' }, closures: ['2024-02-29'] })).toEqual([]);
    expect(
      issuesOf(
        everyDay([
          { start: '00:00', end: '12:00' },
          { start: '12:00', end: '24:00' },
        ]),
      ),
    ).toEqual([]);
  });

  it('rejects an unknown time zone', () => {
    expect(issuesOf({ ...valid, timeZone: 'Europe/Pariss' })).toEqual(['timeZone: unknown IANA time zone']);
  });

  it('rejects malformed times, 24:00 as a start and times past midnight', () => {
    for (const bad of [
      { start: '9:00', end: '18:00' },
      { start: '24:00', end: '24:00' },
      { start: '09:00', end: '24:30' },
      { start: '09:60', end: '18:00' },
    ]) {
      expect(issuesOf({ ...valid, week: { mon: [bad] } }).length, JSON.stringify(bad)).toBeGreaterThan(0);
    }
  });

  it('rejects an interval ending at or before its start', () => {
    expect(issuesOf({ ...valid, week: { mon: [{ start: '18:00', end: '09:00' }] } })).toEqual([
      'week.mon.0.end: end must be after start',
    ]);
    expect(issuesOf({ ...valid, week: { mon: [{ start: '09:00', end: '09:00' }] } })).toEqual([
      'week.mon.0.end: end must be after start',
    ]);
  });

  it('rejects overlapping intervals within a day', () => {
    const week = {
      tue: [
        { start: '14:00', end: '18:00' },
        { start: '09:00', end: '14:30' },
      ],
    };
    expect(issuesOf({ ...valid, week })).toEqual(['week.tue: opening intervals of a day must not overlap']);
  });

  it('rejects a week without any opening interval', () => {
    expect(issuesOf({ ...valid, week: { sat: [] } })).toEqual(['week: at least one weekday must have an opening interval']);
  });

  it('rejects unknown holiday countries and regions', () => {
    expect(issuesOf({ ...valid, holidays: { country: 'ZZ' } })).toEqual(['holidays.country: unknown holiday country "ZZ"']);
    expect(issuesOf({ ...valid, holidays: { country: 'FR', region: '99' } })).toEqual([
      'holidays.region: unknown region "99" for FR',
    ]);
  });

  it('rejects impossible closure dates', () => {
    expect(issuesOf({ ...valid, closures: ['2026-02-29'] })).toEqual(['closures.0: expected a valid YYYY-MM-DD date']);
    expect(issuesOf({ ...valid, closures: ['2026-6-1'] })).toEqual(['closures.0: expected a valid YYYY-MM-DD date']);
    expect(issuesOf({ ...valid, closures: [{ date: '2026-02-30', name: 'Fermeture' }] })).toEqual([
      'closures.0.date: expected a valid YYYY-MM-DD date',
    ]);
    expect(issuesOf({ ...valid, closures: [{ date: '2026-06-03', name: 'Inventaire' }, '2026-06-04'] })).toEqual([]);
  });

  it('rejects unknown keys and unknown kinds (strict objects)', () => {
    expect(issuesOf({ ...valid, owner: 'ops' }).length).toBeGreaterThan(0);
    expect(issuesOf({ ...valid, week: { mon: valid.week.mon, funday: [] } }).length).toBeGreaterThan(0);
    expect(issuesOf({ kind: '24x7', timeZone: ZONE }).length).toBeGreaterThan(0);
    expect(issuesOf({ kind: '9to5' }).length).toBeGreaterThan(0);
  });
});

describe('properties (Paris lunch-break calendar with French holidays, 2026–2027)', () => {
  const instant = fc.integer({ min: paris('2026-01-01T00:00'), max: paris('2028-01-01T00:00') });
  const duration = fc.integer({ min: 0, max: 200 * H });
  const runs = { numRuns: 300 };

  fcTest.prop([instant, duration], runs)('businessTimeBetween(from, addBusinessTime(from, ms)) === ms', (from, ms) => {
    expect(businessTimeBetween(lunchBreak, from, addBusinessTime(lunchBreak, from, ms))).toBe(ms);
  });

  fcTest.prop([instant, fc.integer({ min: 1, max: 200 * H })], runs)(
    'addBusinessTime returns the earliest such instant: the millisecond before it is open',
    (from, ms) => {
      const due = addBusinessTime(lunchBreak, from, ms);
      expect(isOpen(lunchBreak, due - 1)).toBe(true);
      expect(due).toBeGreaterThanOrEqual(nextOpening(lunchBreak, from) + ms);
    },
  );

  fcTest.prop([instant, instant, instant], runs)('businessTimeBetween is additive over a split point', (a, b, c) => {
    const [x, y, z] = [a, b, c].sort((p, q) => p - q) as [number, number, number];
    expect(businessTimeBetween(lunchBreak, x, z)).toBe(
      businessTimeBetween(lunchBreak, x, y) + businessTimeBetween(lunchBreak, y, z),
    );
  });

  fcTest.prop([instant, duration, duration], runs)('addBusinessTime is monotonic in ms', (from, m1, m2) => {
    const [lo, hi] = m1 <= m2 ? [m1, m2] : [m2, m1];
    expect(addBusinessTime(lunchBreak, from, lo)).toBeLessThanOrEqual(addBusinessTime(lunchBreak, from, hi));
  });

  fcTest.prop([instant], runs)('nextOpening is open, not earlier, and separated from `at` by closed time only', (at) => {
    const next = nextOpening(lunchBreak, at);
    expect(next).toBeGreaterThanOrEqual(at);
    expect(isOpen(lunchBreak, next)).toBe(true);
    expect(businessTimeBetween(lunchBreak, at, next)).toBe(0);
  });

  fcTest.prop([instant], runs)('isOpen agrees with businessTimeBetween over one millisecond', (at) => {
    expect(businessTimeBetween(lunchBreak, at, at + 1)).toBe(isOpen(lunchBreak, at) ? 1 : 0);
  });

  fcTest.prop([instant, duration], runs)('on a 24x7 calendar every function is plain arithmetic', (from, ms) => {
    expect(addBusinessTime(ALWAYS, from, ms)).toBe(from + ms);
    expect(businessTimeBetween(ALWAYS, from, from + ms)).toBe(ms);
  });
});
