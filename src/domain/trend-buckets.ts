import { invalid } from './errors.js';

export const TREND_INTERVALS = ['day', 'week'] as const;
export type TrendInterval = (typeof TREND_INTERVALS)[number];

/** More buckets than a chart can show, or than a year of days: beyond, the caller picks weeks or a shorter period. */
export const MAX_TREND_BUCKETS = 400;

const DAY_MS = 86_400_000;
const STEP_DAYS: Record<TrendInterval, number> = { day: 1, week: 7 };

/** One bucket of a trend: its first UTC day (a Monday for weeks) and the part of the period it covers. */
export interface TrendBucket {
  /** Days since 1970-01-01 of the day or of the week's Monday. */
  startDay: number;
  from: number;
  to: number;
}

/** The first day of the bucket holding `day`: the day itself, or the Monday of its ISO week (1970-01-01 was a Thursday). */
export function bucketStartDay(day: number, interval: TrendInterval): number {
  return interval === 'day' ? day : day - ((((day + 3) % 7) + 7) % 7);
}

/**
 * The buckets covering [from, to), empty ones included: whole UTC days or ISO weeks, the first and
 * the last cut to the period. Refused beyond MAX_TREND_BUCKETS.
 */
export function trendBuckets(from: number, to: number, interval: TrendInterval): TrendBucket[] {
  const step = STEP_DAYS[interval];
  const first = bucketStartDay(Math.floor(from / DAY_MS), interval);
  const last = bucketStartDay(Math.floor((to - 1) / DAY_MS), interval);
  const count = (last - first) / step + 1;
  if (count > MAX_TREND_BUCKETS)
    throw invalid(
      'too_many_buckets',
      `A trend has at most ${MAX_TREND_BUCKETS} buckets; this period has ${count} ${interval}s: pick a shorter period or weeks`,
      [{ path: 'querystring.interval', message: `at most ${MAX_TREND_BUCKETS} buckets` }],
    );
  return Array.from({ length: count }, (_, i) => {
    const startDay = first + i * step;
    return {
      startDay,
      from: Math.max(from, startDay * DAY_MS),
      to: Math.min(to, (startDay + step) * DAY_MS),
    };
  });
}
