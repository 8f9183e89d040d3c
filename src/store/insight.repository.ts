import { sql, type Kysely, type RawBuilder, type SelectQueryBuilder } from 'kysely';
import type { Incident } from '../domain/incident.js';
import type { IncidentScope } from '../domain/policy.js';
import type { Priority } from '../domain/priority.js';
import type { Engine } from './database.js';
import { fromRow, visibleWhere } from './incident.repository.js';
import { DAY_MS, INCIDENT_MEASURES, ROLLUP_TABLES, STINT_MEASURES } from './report-rollups.js';
import type { Database } from './schema.js';

/** Incidents opened in [from, to), narrowed by category, tier (the current one) and priority. */
export interface PeriodFilter {
  from: number;
  to: number;
  category?: string[] | undefined;
  tier?: string[] | undefined;
  priority?: Priority[] | undefined;
  /** The policy's scope: a requester's own incidents only. */
  requesterId?: number | undefined;
  /** The policy's scope: a vendor contact's vendor's incidents only. */
  vendorId?: number | undefined;
  /** The policy's scope: confidential categories hidden from the reader, but for the incidents they still see. */
  hidden?: IncidentScope['hidden'];
}

/** Reads for exports, reports and simulations: whole periods, page by page. */
export class InsightRepository {
  constructor(
    private readonly db: Kysely<Database>,
    readonly engine: Engine,
  ) {}

  /** One page of the period's incidents in id order, after `afterId` (keyset paging: no OFFSET scans). */
  async incidentsPage(filter: PeriodFilter, afterId: number, limit: number, db: Kysely<Database> = this.db): Promise<Incident[]> {
    let q = db
      .selectFrom('incidents')
      .selectAll()
      .where('created_at', '>=', filter.from)
      .where('created_at', '<', filter.to)
      .where('id', '>', afterId);
    if (filter.category?.length) q = q.where('category', 'in', filter.category);
    if (filter.tier?.length) q = q.where('tier', 'in', filter.tier);
    if (filter.priority?.length) q = q.where('priority', 'in', filter.priority);
    if (filter.requesterId !== undefined) q = q.where('requester_id', '=', filter.requesterId);
    if (filter.vendorId !== undefined) q = q.where('vendor_id', '=', filter.vendorId);
    const hidden = filter.hidden;
    if (hidden?.categories.length) q = q.where((eb) => visibleWhere(eb, hidden));
    const rows = await q.orderBy('id').limit(limit).execute();
    return rows.map(fromRow);
  }
}

export interface VolumeRow {
  opened: number;
  acknowledged: number;
  resolved: number;
  everResolved: number;
  reopened: number;
  reachedTop: number;
}

export interface TimesRow {
  acknowledged: number;
  ackMeanMs: number | null;
  ackMedianMs: number | null;
  ackBusinessMeanMs: number | null;
  ackBusinessMedianMs: number | null;
  resolved: number;
  resolveMeanMs: number | null;
  resolveMedianMs: number | null;
  resolveBusinessMeanMs: number | null;
  resolveBusinessMedianMs: number | null;
}

export interface SlaRow {
  tier: string;
  priority: string;
  stints: number;
  ackMet: number;
  ackMissed: number;
  resolveMet: number;
  resolveMissed: number;
}

export interface EscalationRow {
  category: string;
  tier: string;
  stints: number;
  byHand: number;
  missedDeadline: number;
  otherAutomatic: number;
  handedBack: number;
}

export interface TierTimeRow {
  tier: string;
  stints: number;
  completed: number;
  wallMeanMs: number | null;
  wallTotalMs: number;
  businessMeanMs: number | null;
  businessTotalMs: number;
}

type Sums = Record<string, number>;

/** Up to this many values, a median is taken in memory rather than by an index walk. */
export const MEDIAN_IN_MEMORY = 50_000;

/**
 * Report aggregates: whole days of the period from the daily rollups, the partial days at its edges
 * from the figures, added up (src/store/report-rollups.ts). Medians walk a covering index in value
 * order to the middle row, on both engines.
 */
export class ReportRepository {
  constructor(
    private readonly db: Kysely<Database>,
    /** Up to this many values a median is taken in memory (a parameter so that tests can force the index walk). */
    private readonly medianInMemory = MEDIAN_IN_MEMORY,
  ) {}

  /**
   * Sums of the measures of `kind`, grouped by some of category, priority and tier. For incident
   * figures the tier is the incident's current one, for stints the tier of each stay.
   */
  private async sums(
    kind: 'incidents' | 'stints',
    f: PeriodFilter,
    groupBy: Array<'category' | 'priority' | 'tier'>,
  ): Promise<Array<{ key: Record<string, string>; sums: Sums }>> {
    const measures: Record<string, { sql: RawBuilder<number> }> = kind === 'incidents' ? INCIDENT_MEASURES : STINT_MEASURES;
    const names = Object.keys(measures);
    const firstDay = Math.ceil(f.from / DAY_MS);
    const lastDay = Math.floor(f.to / DAY_MS); // exclusive
    const filters = (q: SelectQueryBuilder<Database, never, object>) => {
      let out = q;
      if (f.category?.length) out = out.where(sql.ref('category'), 'in', f.category);
      if (f.hidden?.categories.length) out = out.where(sql.ref('category'), 'not in', f.hidden.categories);
      if (f.priority?.length) out = out.where(sql.ref('priority'), 'in', f.priority);
      if (f.tier?.length) out = out.where(sql.ref('tier'), 'in', f.tier);
      return out;
    };
    const group = groupBy.map((g) => sql.ref(g));
    const queries: Array<Promise<Array<Record<string, unknown>>>> = [];
    const raw = (from: number, to: number) => {
      const table = kind === 'incidents' ? 'incident_figures' : 'incident_stint_figures';
      let q = filters(
        (this.db.selectFrom(table) as unknown as SelectQueryBuilder<Database, never, object>)
          .where(sql.ref('created_at'), '>=', from)
          .where(sql.ref('created_at'), '<', to),
      ).select([...group, ...names.map((n) => sql<number>`sum(${measures[n]!.sql})`.as(n))] as never);
      if (group.length) q = q.groupBy(group as never);
      queries.push(q.execute() as Promise<Array<Record<string, unknown>>>);
    };
    if (firstDay >= lastDay) raw(f.from, f.to);
    else {
      if (f.from < firstDay * DAY_MS) raw(f.from, firstDay * DAY_MS);
      if (lastDay * DAY_MS < f.to) raw(lastDay * DAY_MS, f.to);
      let q = filters(
        (this.db.selectFrom(ROLLUP_TABLES[kind]) as unknown as SelectQueryBuilder<Database, never, object>)
          .where(sql.ref('day'), '>=', firstDay)
          .where(sql.ref('day'), '<', lastDay),
      ).select([...group, ...names.map((n) => sql<number>`sum(${sql.ref(n)})`.as(n))] as never);
      if (group.length) q = q.groupBy(group as never);
      queries.push(q.execute() as Promise<Array<Record<string, unknown>>>);
    }
    // SQLite has one connection: the queries run one after the other anyway.
    const results: Array<Array<Record<string, unknown>>> = [];
    for (const q of queries) results.push(await q);
    const merged = new Map<string, { key: Record<string, string>; sums: Sums }>();
    for (const row of results.flat()) {
      const key = Object.fromEntries(groupBy.map((g) => [g, String(row[g])]));
      const id = groupBy.map((g) => key[g]).join('\u0000');
      let m = merged.get(id);
      if (!m) merged.set(id, (m = { key, sums: Object.fromEntries(names.map((n) => [n, 0])) }));
      for (const n of names) m.sums[n]! += Number(row[n] ?? 0);
    }
    return [...merged.values()].filter((m) => m.sums[kind === 'incidents' ? 'opened' : 'stints']! > 0);
  }

  /**
   * The median of a duration over its `count` non-null values: the middle one, or the mean of the
   * middle two. Few values are read whole through the period and sorted here; many are found by
   * walking the value's covering index to the middle (LIMIT 2 OFFSET (count - 1) / 2).
   */
  private async median(
    column: 'ack_ms' | 'ack_business_ms' | 'resolve_ms' | 'resolve_business_ms',
    f: PeriodFilter,
    count: number,
  ): Promise<number | null> {
    if (count === 0) return null;
    let q = this.db
      .selectFrom('incident_figures')
      .select(column)
      .where(column, 'is not', null)
      .where('created_at', '>=', f.from)
      .where('created_at', '<', f.to);
    if (f.category?.length) q = q.where('category', 'in', f.category);
    if (f.hidden?.categories.length) q = q.where('category', 'not in', f.hidden.categories);
    if (f.priority?.length) q = q.where('priority', 'in', f.priority);
    if (f.tier?.length) q = q.where('tier', 'in', f.tier);
    let values: number[];
    let at: number;
    if (count <= this.medianInMemory) {
      values = (await q.execute()).map((r) => Number(r[column]));
      values = Array.from(Float64Array.from(values).sort());
      at = Math.floor((count - 1) / 2);
    } else {
      values = (
        await q
          .orderBy(column)
          .limit(2)
          .offset(Math.floor((count - 1) / 2))
          .execute()
      ).map((r) => Number(r[column]));
      at = 0;
    }
    return count % 2 === 1 ? values[at]! : (values[at]! + values[at + 1]!) / 2;
  }

  async volume(f: PeriodFilter): Promise<VolumeRow> {
    const s = (await this.sums('incidents', f, []))[0]?.sums ?? {};
    return {
      opened: s.opened ?? 0,
      acknowledged: s.acknowledged ?? 0,
      resolved: s.resolved ?? 0,
      everResolved: s.ever_resolved ?? 0,
      reopened: s.reopened ?? 0,
      reachedTop: s.reached_top ?? 0,
    };
  }

  async times(f: PeriodFilter): Promise<TimesRow> {
    const s = (await this.sums('incidents', f, []))[0]?.sums ?? {};
    const acknowledged = s.acknowledged ?? 0;
    const resolved = s.resolved ?? 0;
    const mean = (sum: number | undefined, count: number) => (count === 0 ? null : (sum ?? 0) / count);
    // Four independent reads: on PostgreSQL they run on separate connections at once.
    const [ackMedianMs, ackBusinessMedianMs, resolveMedianMs, resolveBusinessMedianMs] = await Promise.all([
      this.median('ack_ms', f, acknowledged),
      this.median('ack_business_ms', f, acknowledged),
      this.median('resolve_ms', f, resolved),
      this.median('resolve_business_ms', f, resolved),
    ]);
    return {
      acknowledged,
      ackMeanMs: mean(s.ack_ms, acknowledged),
      ackMedianMs,
      ackBusinessMeanMs: mean(s.ack_business_ms, acknowledged),
      ackBusinessMedianMs,
      resolved,
      resolveMeanMs: mean(s.resolve_ms, resolved),
      resolveMedianMs,
      resolveBusinessMeanMs: mean(s.resolve_business_ms, resolved),
      resolveBusinessMedianMs,
    };
  }

  async sla(f: PeriodFilter): Promise<SlaRow[]> {
    return (await this.sums('stints', f, ['tier', 'priority'])).map(({ key, sums }) => ({
      tier: key.tier!,
      priority: key.priority!,
      stints: sums.stints!,
      ackMet: sums.ack_met!,
      ackMissed: sums.ack_missed!,
      resolveMet: sums.resolve_met!,
      resolveMissed: sums.resolve_missed!,
    }));
  }

  async escalations(f: PeriodFilter): Promise<EscalationRow[]> {
    return (await this.sums('stints', f, ['category', 'tier'])).map(({ key, sums }) => ({
      category: key.category!,
      tier: key.tier!,
      stints: sums.stints!,
      byHand: sums.exit_hand!,
      missedDeadline: sums.exit_missed!,
      otherAutomatic: sums.exit_other!,
      handedBack: sums.exit_handed_back!,
    }));
  }

  async tierTime(f: PeriodFilter): Promise<TierTimeRow[]> {
    return (await this.sums('stints', f, ['tier'])).map(({ key, sums }) => ({
      tier: key.tier!,
      stints: sums.stints!,
      completed: sums.completed!,
      wallMeanMs: sums.completed ? sums.wall_ms! / sums.completed : null,
      wallTotalMs: sums.wall_ms!,
      businessMeanMs: sums.completed ? sums.business_ms! / sums.completed : null,
      businessTotalMs: sums.business_ms!,
    }));
  }
}
