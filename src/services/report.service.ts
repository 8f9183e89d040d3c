import { forbidden } from '../domain/errors.js';
import { bucketStartDay, trendBuckets, type TrendInterval } from '../domain/trend-buckets.js';
import { can, type Actor } from '../domain/policy.js';
import { DAY_MS } from '../store/report-rollups.js';
import { MEDIAN_IN_MEMORY, ReportRepository, type PeriodFilter } from '../store/insight.repository.js';
import type { Services } from './context.js';
import { currentMatrix, withinScope } from './matrix.service.js';

/** Reports are read from the figures stored with each incident (src/domain/incident-figures.ts). */
function reports(s: Services, actor: Actor): ReportRepository {
  if (!can(actor, 'report.read')) throw forbidden('Only managers and administrators can read reports');
  // SQLite walks an index in process at no transfer cost; PostgreSQL does better reading few values whole.
  return new ReportRepository(s.store.db, s.store.engine === 'postgres' ? MEDIAN_IN_MEMORY : 0);
}

const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);

export async function volumeReport(s: Services, actor: Actor, f: PeriodFilter) {
  const repo = reports(s, actor);
  const scope = await withinScope(s, actor, f);
  const v = await repo.volume(scope);
  const vendors = await repo.topTierByVendor(scope);
  const top = (await currentMatrix(s)).tiers.at(-1)!.key;
  return {
    opened: v.opened,
    acknowledged: v.acknowledged,
    resolved: v.resolved,
    reopened: v.reopened,
    /** Reopened incidents among those resolved at least once. */
    reopenRate: ratio(v.reopened, v.everResolved),
    topTier: {
      tier: top,
      reached: v.reachedTop,
      share: ratio(v.reachedTop, v.opened),
      byVendor: vendors.byVendor
        .map((b) => ({ ...b, share: ratio(b.reached, v.opened) }))
        .sort((a, b) => b.reached - a.reached || a.name.localeCompare(b.name)),
      withoutVendor: v.reachedTop - vendors.handedOver,
    },
  };
}

/** The vendor scorecard: per vendor, hand-overs, the share reaching the top tier, and times against the contract. */
export async function vendorReport(s: Services, actor: Actor, f: PeriodFilter) {
  const rows = await reports(s, actor).vendors(await withinScope(s, actor, f));
  return rows
    .map((r) => ({
      ...r,
      topShare: ratio(r.reachedTop, r.incidents),
      ackCompliance: ratio(r.ackMet, r.ackMet + r.ackMissed),
      resolveCompliance: ratio(r.resolveMet, r.resolveMet + r.resolveMissed),
    }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.vendorId - b.vendorId);
}

export async function timesReport(s: Services, actor: Actor, f: PeriodFilter) {
  return reports(s, actor).times(await withinScope(s, actor, f));
}

export async function slaReport(s: Services, actor: Actor, f: PeriodFilter) {
  const [rows, order] = await Promise.all([reports(s, actor).sla(await withinScope(s, actor, f)), matrixOrder(s)]);
  return rows
    .map((r) => ({
      ...r,
      ackCompliance: ratio(r.ackMet, r.ackMet + r.ackMissed),
      resolveCompliance: ratio(r.resolveMet, r.resolveMet + r.resolveMissed),
    }))
    .sort((a, b) => order.tier(a.tier) - order.tier(b.tier) || a.priority.localeCompare(b.priority));
}

/** How often each category leaves each tier, and why: the matrix's heat map. */
export async function escalationReport(s: Services, actor: Actor, f: PeriodFilter) {
  const [rows, order] = await Promise.all([reports(s, actor).escalations(await withinScope(s, actor, f)), matrixOrder(s)]);
  return rows
    .map((r) => {
      const left = r.byHand + r.missedDeadline + r.otherAutomatic;
      return {
        ...r,
        escalated: left,
        escalationRate: ratio(left, r.stints),
        byHandRate: ratio(r.byHand, r.stints),
        missedDeadlineRate: ratio(r.missedDeadline, r.stints),
      };
    })
    .sort((a, b) => order.category(a.category) - order.category(b.category) || order.tier(a.tier) - order.tier(b.tier));
}

export async function tierTimeReport(s: Services, actor: Actor, f: PeriodFilter) {
  const [rows, order] = await Promise.all([reports(s, actor).tierTime(await withinScope(s, actor, f)), matrixOrder(s)]);
  return rows.sort((a, b) => order.tier(a.tier) - order.tier(b.tier));
}

/**
 * Figures per UTC day or ISO week of creation: the incidents opened in each bucket, how many of them
 * are acknowledged and resolved now, and their stays' escalations and SLA targets. Read from the
 * daily rollups (a week is the sum of its days); empty buckets are given with zeros.
 */
export async function trendReport(s: Services, actor: Actor, f: PeriodFilter, interval: TrendInterval) {
  const repo = reports(s, actor);
  const buckets = trendBuckets(f.from, f.to, interval);
  const { incidents, stints } = await repo.daily(await withinScope(s, actor, f));
  const step = interval === 'day' ? 1 : 7;
  const indexOf = (day: number) => (bucketStartDay(day, interval) - buckets[0]!.startDay) / step;
  const totals = buckets.map(() => ({ incidents: {} as Record<string, number>, stints: {} as Record<string, number> }));
  for (const [kind, byDay] of [
    ['incidents', incidents],
    ['stints', stints],
  ] as const)
    for (const [day, sums] of byDay) {
      const into = totals[indexOf(day)]![kind];
      for (const [name, value] of Object.entries(sums)) into[name] = (into[name] ?? 0) + value;
    }
  return {
    interval,
    buckets: buckets.map((b, i) => {
      const { incidents: n, stints: st } = totals[i]!;
      const v = (sums: Record<string, number>, name: string) => sums[name] ?? 0;
      return {
        start: new Date(b.startDay * DAY_MS).toISOString().slice(0, 10),
        from: new Date(b.from).toISOString(),
        to: new Date(b.to).toISOString(),
        opened: v(n, 'opened'),
        acknowledged: v(n, 'acknowledged'),
        resolved: v(n, 'resolved'),
        escalated: v(st, 'exit_hand') + v(st, 'exit_missed') + v(st, 'exit_other'),
        escalatedByHand: v(st, 'exit_hand'),
        escalatedAutomatically: v(st, 'exit_missed') + v(st, 'exit_other'),
        ackMet: v(st, 'ack_met'),
        ackMissed: v(st, 'ack_missed'),
        resolveMet: v(st, 'resolve_met'),
        resolveMissed: v(st, 'resolve_missed'),
      };
    }),
  };
}

/** Rows in the order of the current matrix; keys it no longer has come last. */
async function matrixOrder(s: Services) {
  const m = await currentMatrix(s);
  const rank = (keys: string[]) => (key: string) => {
    const i = keys.indexOf(key);
    return i < 0 ? keys.length : i;
  };
  return { tier: rank(m.tiers.map((t) => t.key)), category: rank(m.categories.map((c) => c.key)) };
}
