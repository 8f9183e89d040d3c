/**
 * Business-hours calendars for SLA clocks.
 *
 * Pure: every instant is epoch milliseconds passed in by the caller; nothing here reads the clock.
 *
 * Semantics, shared by every function below:
 * - Opening intervals are half-open, [start, end): a desk open 09:00–18:00 is open at 09:00:00.000
 *   and closed at 18:00:00.000.
 * - Wall-clock times are resolved in the calendar's IANA zone day by day, so a 09:00–18:00 day is
 *   9 hours on DST change days too. A wall time that does not exist (inside a spring-forward gap)
 *   resolves to the instant the clocks jump; an ambiguous wall time (repeated during fall-back)
 *   resolves to its first occurrence. In both cases: the first instant the local clock reads >= it.
 * - Public holidays (date-holidays, type 'public' only) and `closures` close the whole local day.
 * - Calendars are treated as immutable values: derived data is cached per calendar object.
 */
import Holidays from 'date-holidays';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { invalid, issuePath } from './errors.js';

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** Local wall-clock times "HH:MM"; `end` may be "24:00" (midnight ending the day). */
export interface OpeningInterval {
  start: string;
  end: string;
}

export type Calendar =
  | { kind: '24x7' }
  | {
      kind: 'business-hours';
      /** IANA zone, e.g. "Europe/Paris". */
      timeZone: string;
      week: Partial<Record<Weekday, OpeningInterval[]>>;
      /** Public holidays from date-holidays. `region` is date-holidays' first-level subdivision (its "state"), e.g. FR "57" for Moselle. */
      holidays?: { country: string; region?: string };
      /** Extra closed local days, "YYYY-MM-DD", or with the name people know them by. */
      closures?: Closure[];
    };

export type Closure = string | { date: string; name?: string };

export type BusinessHoursCalendar = Extract<Calendar, { kind: 'business-hours' }>;

export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export const ALWAYS: Calendar = { kind: '24x7' };

/** Mon–Fri 09:00–18:00 with the country's public holidays. */
export function defaultBusinessCalendar(timeZone = 'Europe/Paris', country = 'FR'): BusinessHoursCalendar {
  const day = (): OpeningInterval[] => [{ start: '09:00', end: '18:00' }];
  return {
    kind: 'business-hours',
    timeZone,
    week: { mon: day(), tue: day(), wed: day(), thu: day(), fri: day() },
    holidays: { country },
  };
}

// ---------------------------------------------------------------------------------------------
// Validation

const START_RE = /^([01]\d|2[0-3]):[0-5]\d$/;
const END_RE = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

const intervalSchema = z
  .object({
    start: z.string().regex(START_RE, 'expected HH:MM between 00:00 and 23:59'),
    end: z.string().regex(END_RE, 'expected HH:MM, or 24:00 for midnight'),
  })
  .strict()
  .refine((i) => !START_RE.test(i.start) || !END_RE.test(i.end) || toMinutes(i.end) > toMinutes(i.start), {
    message: 'end must be after start',
    path: ['end'],
  });

const daySchema = z
  .array(intervalSchema)
  .refine((list) => !hasOverlap(list.map((i) => [toMinutes(i.start), toMinutes(i.end)] as const)), {
    message: 'opening intervals of a day must not overlap',
  });

const weekSchema = z
  .object({
    mon: daySchema.optional(),
    tue: daySchema.optional(),
    wed: daySchema.optional(),
    thu: daySchema.optional(),
    fri: daySchema.optional(),
    sat: daySchema.optional(),
    sun: daySchema.optional(),
  })
  .strict()
  .refine((week) => WEEKDAYS.some((d) => (week[d]?.length ?? 0) > 0), {
    message: 'at least one weekday must have an opening interval',
  });

const holidaysSchema = z
  .object({ country: z.string(), region: z.string().optional() })
  .strict()
  .superRefine((h, ctx) => {
    if (!Object.hasOwn(holidayCatalog().getCountries(), h.country)) {
      ctx.addIssue({ code: 'custom', message: `unknown holiday country "${h.country}"`, path: ['country'] });
      return;
    }
    if (h.region !== undefined && !Object.hasOwn(holidayCatalog().getStates(h.country) ?? {}, h.region)) {
      ctx.addIssue({ code: 'custom', message: `unknown region "${h.region}" for ${h.country}`, path: ['region'] });
    }
  });

/** The public holidays of a country (and region) in a year, as people read them: first local day and name. */
export function listPublicHolidays(
  holidays: { country: string; region?: string },
  year: number,
  lang: string,
): Array<{ date: string; name: string }> {
  const checked = holidaysSchema.safeParse(holidays);
  if (!checked.success) throw invalid('invalid_holidays', 'Unknown holiday country or region', checked.error.issues.map((i) => ({ path: issuePath(i.path), message: i.message })));
  const { country, region } = checked.data;
  const hd = region === undefined ? new Holidays(country, { types: ['public'] }) : new Holidays(country, region, { types: ['public'] });
  return hd
    .getHolidays(year, lang)
    .filter((h) => h.type === 'public')
    .map((h) => ({ date: h.date.slice(0, 10), name: h.name }));
}

const closureSchema = z
  .union([z.string(), z.object({ date: z.string(), name: z.string().trim().min(1).max(200).optional() }).strict()])
  .superRefine((closure, ctx) => {
    const named = typeof closure === 'object';
    if (parseLocalDate(named ? closure.date : closure) === undefined)
      ctx.addIssue({ code: 'custom', message: 'expected a valid YYYY-MM-DD date', path: named ? ['date'] : [] });
  });

export const calendarSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('24x7') }).strict(),
  z
    .object({
      kind: z.literal('business-hours'),
      timeZone: z.string().refine((zone) => IANAZone.isValidZone(zone), { message: 'unknown IANA time zone' }),
      week: weekSchema,
      holidays: holidaysSchema.optional(),
      closures: z.array(closureSchema).optional(),
    })
    .strict(),
]) satisfies z.ZodType<Calendar>;

function toMinutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** Touching intervals (12:00–14:00, 14:00–18:00) do not overlap. */
function hasOverlap(intervals: ReadonlyArray<readonly [number, number]>): boolean {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  return sorted.some((cur, i) => i > 0 && cur[0] < sorted[i - 1]![1]);
}

// ---------------------------------------------------------------------------------------------
// Local days are numbered like epoch days (day 0 = 1970-01-01) so that iterating is integer math.

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** Give up when this many consecutive days have no open time: the calendar is (effectively) never open. */
const MAX_CLOSED_DAYS = 3 * 366;
/** addBusinessTime will not look further ahead than this many days. */
const MAX_HORIZON_DAYS = 200 * 366;

function parseLocalDate(text: string): number | undefined {
  const m = DATE_RE.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dayNumber = Date.UTC(y, mo - 1, d) / DAY_MS;
  const check = new Date(dayNumber * DAY_MS);
  // Date.UTC rolls 2026-02-30 over to March: reject instead.
  return check.getUTCFullYear() === y && check.getUTCMonth() === mo - 1 && check.getUTCDate() === d ? dayNumber : undefined;
}

/** 0 = Monday … 6 = Sunday; day 0 (1970-01-01) was a Thursday. */
function weekdayIndex(dayNumber: number): number {
  return (((dayNumber + 3) % 7) + 7) % 7;
}

function yearOf(dayNumber: number): number {
  return new Date(dayNumber * DAY_MS).getUTCFullYear();
}

// ---------------------------------------------------------------------------------------------
// Public holidays: one date-holidays instance per country/region, one set of day numbers per year.

const holidayInstances = new Map<string, Holidays>();
let catalog: Holidays | undefined;

/** An uninitialised instance, only used to list known countries and regions. */
function holidayCatalog(): Holidays {
  return (catalog ??= new Holidays());
}
const holidayYears = new Map<string, Set<number>>();

function publicHolidayDays(country: string, region: string | undefined, year: number): Set<number> {
  const key = `${country}/${region ?? ''}`;
  const yearKey = `${key}/${year}`;
  let days = holidayYears.get(yearKey);
  if (days) return days;
  let hd = holidayInstances.get(key);
  if (!hd) {
    hd =
      region === undefined ? new Holidays(country, { types: ['public'] }) : new Holidays(country, region, { types: ['public'] });
    holidayInstances.set(key, hd);
  }
  days = new Set();
  for (const h of hd.getHolidays(year)) {
    if (h.type !== 'public') continue;
    // `date` is the local date of the holiday ("YYYY-MM-DD hh:mm:ss"), independent of the process zone.
    const first = parseLocalDate(h.date.slice(0, 10));
    if (first === undefined) continue;
    const span = Math.max(1, Math.round((h.end.getTime() - h.start.getTime()) / DAY_MS));
    for (let i = 0; i < span; i++) days.add(first + i);
  }
  holidayYears.set(yearKey, days);
  return days;
}

// ---------------------------------------------------------------------------------------------
// Compiled calendars

type Span = readonly [number, number];

interface Compiled {
  zone: IANAZone;
  /** Per weekday (0 = Monday), merged [startMinute, endMinute) pairs. */
  week: Span[][];
  closures: Set<number>;
  holidays: { country: string; region: string | undefined } | undefined;
  /** Open [from, to) instants per local day number. */
  days: Map<number, Span[]>;
  /** Instant each local day begins (first instant its wall clock reads 00:00), per day number. */
  dayStarts: Map<number, number>;
  /** Any offset of the zone: close enough (within a day) to guess the local day of an instant. */
  guessOffset: number;
}

const compiledCache = new WeakMap<object, Compiled>();
/** Equal calendars built afresh (e.g. parsed per request) share their caches too. */
const compiledByValue = new Map<string, Compiled>();
const MAX_CACHED_DAYS = 20_000;
const MAX_CACHED_CALENDARS = 200;

function compile(cal: BusinessHoursCalendar): Compiled {
  let c = compiledCache.get(cal);
  if (c) return c;
  const key = JSON.stringify(cal);
  c = compiledByValue.get(key);
  if (!c) {
    c = compileUncached(cal);
    if (compiledByValue.size >= MAX_CACHED_CALENDARS) compiledByValue.clear();
    compiledByValue.set(key, c);
  }
  compiledCache.set(cal, c);
  return c;
}

function compileUncached(cal: BusinessHoursCalendar): Compiled {
  // Validated once per calendar (the result is cached), so garbage fails loudly rather than as NaN.
  const parsed = calendarSchema.safeParse(cal);
  if (!parsed.success) throw new Error(`Invalid calendar:\n${z.prettifyError(parsed.error)}`);
  const week = WEEKDAYS.map((d) => mergeSpans((cal.week[d] ?? []).map((i) => [toMinutes(i.start), toMinutes(i.end)] as const)));
  const closures = new Set((cal.closures ?? []).map((c) => parseLocalDate(typeof c === 'string' ? c : c.date)!));
  const zone = IANAZone.create(cal.timeZone);
  return {
    zone,
    guessOffset: offsetMs(zone, 0),
    dayStarts: new Map(),
    week,
    closures,
    holidays: cal.holidays && { country: cal.holidays.country, region: cal.holidays.region },
    days: new Map(),
  };
}

/** Sorted, with overlapping or touching spans merged and empty ones dropped. */
function mergeSpans(spans: ReadonlyArray<Span>): Span[] {
  const out: [number, number][] = [];
  for (const [s, e] of [...spans].sort((a, b) => a[0] - b[0])) {
    if (e <= s) continue;
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

function offsetMs(zone: IANAZone, at: number): number {
  return zone.offset(at) * MINUTE_MS;
}

function dayStart(c: Compiled, day: number): number {
  let t = c.dayStarts.get(day);
  if (t === undefined) {
    t = wallToInstant(c.zone, day * DAY_MS);
    if (c.dayStarts.size >= MAX_CACHED_DAYS) c.dayStarts.clear();
    c.dayStarts.set(day, t);
  }
  return t;
}

/**
 * The local day containing `at`, i.e. dayStart(day) <= at < dayStart(day + 1). Works from cached day
 * starts because zone.offset (Intl-based) is slow in hot loops; also keeps the repeated hour of a
 * fall-back at midnight in the right day.
 */
function localDayOf(c: Compiled, at: number): number {
  let day = Math.floor((at + c.guessOffset) / DAY_MS);
  while (at < dayStart(c, day)) day--;
  while (at >= dayStart(c, day + 1)) day++;
  return day;
}

/**
 * The first instant at which the local clock reads `wall` or later (`wall` = local time written as if UTC).
 * Assumes at most one offset change within a day of `wall`, true of every real zone.
 */
function wallToInstant(zone: IANAZone, wall: number): number {
  const before = offsetMs(zone, wall - DAY_MS);
  const after = offsetMs(zone, wall + DAY_MS);
  const candidates = [wall - before, wall - after].filter((t) => t + offsetMs(zone, t) === wall);
  if (candidates.length > 0) return Math.min(...candidates);
  // In a spring-forward gap: binary-search the jump, the first instant whose wall time passes `wall`.
  let lo = Math.min(wall - before, wall - after);
  let hi = Math.max(wall - before, wall - after);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (mid + offsetMs(zone, mid) >= wall) hi = mid;
    else lo = mid;
  }
  return hi;
}

function isClosedDay(c: Compiled, day: number): boolean {
  if (c.closures.has(day)) return true;
  if (!c.holidays) return false;
  const { country, region } = c.holidays;
  const year = yearOf(day);
  // A multi-day holiday starting in late December spills into the next year.
  return publicHolidayDays(country, region, year).has(day) || publicHolidayDays(country, region, year - 1).has(day);
}

/** Open [from, to) instants of one local day, in order. */
function openSpans(c: Compiled, day: number): Span[] {
  const pattern = c.week[weekdayIndex(day)]!;
  if (pattern.length === 0) return pattern;
  let spans = c.days.get(day);
  if (spans) return spans;
  if (isClosedDay(c, day)) spans = [];
  else {
    // Spans stay within [dayStart(day), dayStart(day + 1)] since wallToInstant is monotonic.
    const midnight = day * DAY_MS;
    const at = (minute: number) =>
      minute === 0
        ? dayStart(c, day)
        : minute === 1440
          ? dayStart(c, day + 1)
          : wallToInstant(c.zone, midnight + minute * MINUTE_MS);
    spans = mergeSpans(pattern.map(([s, e]) => [at(s), at(e)] as const));
  }
  if (c.days.size >= MAX_CACHED_DAYS) c.days.clear();
  c.days.set(day, spans);
  return spans;
}

function assertInstant(name: string, value: number): void {
  if (!Number.isFinite(value)) throw new RangeError(`${name} must be a finite epoch-milliseconds number, got ${value}`);
}

function noOpeningError(at: number): Error {
  return new Error(`Calendar has no opening time within ${MAX_CLOSED_DAYS} days after ${describeInstant(at)}`);
}

function describeInstant(at: number): string {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? String(at) : d.toISOString();
}

// ---------------------------------------------------------------------------------------------
// Public API

export function isOpen(cal: Calendar, at: number): boolean {
  assertInstant('at', at);
  if (cal.kind === '24x7') return true;
  const c = compile(cal);
  return openSpans(c, localDayOf(c, at)).some(([s, e]) => s <= at && at < e);
}

/** `at` itself when open, otherwise the start of the next opening interval. Throws if none within ~3 years. */
export function nextOpening(cal: Calendar, at: number): number {
  assertInstant('at', at);
  if (cal.kind === '24x7') return at;
  const c = compile(cal);
  const first = localDayOf(c, at);
  for (let day = first; day <= first + MAX_CLOSED_DAYS; day++) {
    for (const [s, e] of openSpans(c, day)) if (e > at) return Math.max(s, at);
  }
  throw noOpeningError(at);
}

/**
 * The instant at which `ms` of open time has elapsed counting from `start`.
 * - Closed `start`: counting begins at the next opening, so the result is at least nextOpening(start) + ms.
 * - `ms === 0` returns `start` unchanged, even when closed (nothing has to elapse).
 * - The result for `ms > 0` is inside or at the end of an opening interval (e.g. exactly 18:00).
 * Iterates days, not minutes. Throws on negative `ms`, or if the calendar stays closed ~3 years.
 */
export function addBusinessTime(cal: Calendar, start: number, ms: number): number {
  assertInstant('start', start);
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`addBusinessTime: ms must be a finite number >= 0, got ${ms}`);
  if (cal.kind === '24x7' || ms === 0) return start + ms;
  const c = compile(cal);
  let left = ms;
  let closedDays = 0;
  const first = localDayOf(c, start);
  for (let day = first; day <= first + MAX_HORIZON_DAYS; day++) {
    let openToday = false;
    for (const [s, e] of openSpans(c, day)) {
      if (e <= start) continue;
      openToday = true;
      const from = Math.max(s, start);
      if (left <= e - from) return from + left;
      left -= e - from;
    }
    closedDays = openToday ? 0 : closedDays + 1;
    if (closedDays > MAX_CLOSED_DAYS) throw noOpeningError(start);
  }
  throw new Error(`addBusinessTime: ${ms} ms of open time does not fit within ${MAX_HORIZON_DAYS} days`);
}

/** Open milliseconds within [from, to); 0 when `to <= from`. */
export function businessTimeBetween(cal: Calendar, from: number, to: number): number {
  assertInstant('from', from);
  assertInstant('to', to);
  if (to <= from) return 0;
  if (cal.kind === '24x7') return to - from;
  const c = compile(cal);
  const last = localDayOf(c, to);
  let total = 0;
  for (let day = localDayOf(c, from); day <= last; day++) {
    for (const [s, e] of openSpans(c, day)) {
      const overlap = Math.min(e, to) - Math.max(s, from);
      if (overlap > 0) total += overlap;
    }
  }
  return total;
}
