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

export interface VendorRow {
  vendorId: number;
  name: string;
  /** Contract targets of the vendor's most recent hand-over (ISO 8601 durations). */
  ackTarget: string | null;
  resolveTarget: string | null;
  engagements: number;
  incidents: number;
  reachedTop: number;
  acknowledged: number;
  ackMeanMs: number | null;
  ackMedianMs: number | null;
  ackMet: number;
  ackMissed: number;
  resolved: number;
  resolveMeanMs: number | null;
  resolveMedianMs: number | null;
  resolveMet: number;
  resolveMissed: number;
}

export interface TopTierByVendorRow {
  vendorId: number;
  name: string;
  reached: number;
}

type Sums = Record<string, number>;

const medianOf = (values: number[]): number | null => {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const mid = Math.floor((sorted.length - 1) / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid]! + sorted[mid + 1]!) / 2;
};

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
   * Sums of the measures of `kind`, grouped by some of category, priority, tier and UTC day of
   * creation. For incident figures the tier is the incident's current one, for stints the tier of each stay.
   */
  private async sums(
    kind: 'incidents' | 'stints',
    f: PeriodFilter,
    groupBy: Array<'category' | 'priority' | 'tier' | 'day'>,
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
    // The figures have no day column: the rollups' day is the UTC day of creation, worked out the same way.
    const rawGroup = groupBy.map((g) => (g === 'day' ? sql`${sql.ref('created_at')} / ${sql.lit(DAY_MS)}` : sql.ref(g)));
    const queries: Array<Promise<Array<Record<string, unknown>>>> = [];
    const raw = (from: number, to: number) => {
      const table = kind === 'incidents' ? 'incident_figures' : 'incident_stint_figures';
      let q = filters(
        (this.db.selectFrom(table) as unknown as SelectQueryBuilder<Database, never, object>)
          .where(sql.ref('created_at'), '>=', from)
          .where(sql.ref('created_at'), '<', to),
      ).select([
        ...rawGroup.map((g, i) => g.as(groupBy[i]!)),
        ...names.map((n) => sql<number>`sum(${measures[n]!.sql})`.as(n)),
      ] as never);
      if (rawGroup.length) q = q.groupBy(rawGroup as never);
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

  /** Hand-overs of the period's incidents, narrowed by category, priority and `tier` (the tier that handed over, or the incident's current one). */
  private engagements(f: PeriodFilter, tier: 'tier' | 'incident_tier') {
    let q = this.db.selectFrom('vendor_engagement_figures').where('created_at', '>=', f.from).where('created_at', '<', f.to);
    if (f.category?.length) q = q.where('category', 'in', f.category);
    if (f.priority?.length) q = q.where('priority', 'in', f.priority);
    if (f.tier?.length) q = q.where(tier, 'in', f.tier);
    // Like the other figures: a confidential category the reader is not named for is left out whole.
    if (f.hidden?.categories.length) q = q.where('category', 'not in', f.hidden.categories);
    return q;
  }

  /** Each vendor's name and contract as its most recent hand-over, of any period, recorded them. */
  private async latest(vendorIds: number[]) {
    const out = new Map<number, { name: string; ackTarget: string | null; resolveTarget: string | null }>();
    for (const id of vendorIds) {
      const row = await this.db
        .selectFrom('vendor_engagement_figures')
        .select(['vendor_name', 'ack_target', 'resolve_target'])
        .where('vendor_id', '=', id)
        .orderBy('engaged_at', 'desc')
        .orderBy('incident_id', 'desc')
        .limit(1)
        .executeTakeFirst();
      out.set(id, {
        name: row?.vendor_name ?? '',
        ackTarget: row?.ack_target ?? null,
        resolveTarget: row?.resolve_target ?? null,
      });
    }
    return out;
  }

  /** The vendor scorecard: hand-overs per vendor, how many reached the top tier, times against the contract. */
  async vendors(f: PeriodFilter): Promise<VendorRow[]> {
    const count = (cond: RawBuilder<unknown>) => sql<number>`sum(case when ${cond} then 1 else 0 end)`;
    const sums = await this.engagements(f, 'tier')
      .select((eb) => [
        'vendor_id',
        eb.fn.countAll<number>().as('engagements'),
        sql<number>`sum(first_for_vendor)`.as('incidents'),
        sql<number>`sum(first_for_vendor * reached_top)`.as('reached_top'),
        count(sql`ack_ms is not null`).as('acknowledged'),
        sql<number>`sum(coalesce(ack_ms, 0))`.as('ack_ms'),
        count(sql`ack_met = 1`).as('ack_met'),
        count(sql`ack_met = 0`).as('ack_missed'),
        count(sql`resolve_ms is not null`).as('resolved'),
        sql<number>`sum(coalesce(resolve_ms, 0))`.as('resolve_ms'),
        count(sql`resolve_met = 1`).as('resolve_met'),
        count(sql`resolve_met = 0`).as('resolve_missed'),
      ])
      .groupBy('vendor_id')
      .execute();
    if (sums.length === 0) return [];
    // Medians per vendor in memory: hand-overs are a small share of incidents.
    const values = new Map<number, { ack: number[]; resolve: number[] }>();
    for (const r of await this.engagements(f, 'tier')
      .select(['vendor_id', 'ack_ms', 'resolve_ms'])
      .where((eb) => eb.or([eb('ack_ms', 'is not', null), eb('resolve_ms', 'is not', null)]))
      .execute()) {
      const id = Number(r.vendor_id);
      let v = values.get(id);
      if (!v) values.set(id, (v = { ack: [], resolve: [] }));
      if (r.ack_ms !== null) v.ack.push(Number(r.ack_ms));
      if (r.resolve_ms !== null) v.resolve.push(Number(r.resolve_ms));
    }
    const latest = await this.latest(sums.map((r) => Number(r.vendor_id)));
    return sums.map((r) => {
      const id = Number(r.vendor_id);
      const n = (x: unknown) => Number(x ?? 0);
      const acknowledged = n(r.acknowledged);
      const resolved = n(r.resolved);
      const l = latest.get(id)!;
      return {
        vendorId: id,
        name: l.name,
        ackTarget: l.ackTarget,
        resolveTarget: l.resolveTarget,
        engagements: n(r.engagements),
        incidents: n(r.incidents),
        reachedTop: n(r.reached_top),
        acknowledged,
        ackMeanMs: acknowledged ? n(r.ack_ms) / acknowledged : null,
        ackMedianMs: medianOf(values.get(id)?.ack ?? []),
        ackMet: n(r.ack_met),
        ackMissed: n(r.ack_missed),
        resolved,
        resolveMeanMs: resolved ? n(r.resolve_ms) / resolved : null,
        resolveMedianMs: medianOf(values.get(id)?.resolve ?? []),
        resolveMet: n(r.resolve_met),
        resolveMissed: n(r.resolve_missed),
      };
    });
  }

  /**
   * Incidents that reached the top tier, by vendor they were handed to (an incident handed to two
   * vendors counts for each), and those handed to none. The tier filter is the incident's current tier.
   */
  async topTierByVendor(f: PeriodFilter): Promise<{ byVendor: TopTierByVendorRow[]; handedOver: number }> {
    const rows = await this.engagements(f, 'incident_tier')
      .select([
        'vendor_id',
        sql<number>`sum(first_for_vendor * reached_top)`.as('reached'),
        sql<number>`sum(case when n = 0 then reached_top else 0 end)`.as('handed_over'),
      ])
      .where('reached_top', '=', 1)
      .groupBy('vendor_id')
      .execute();
    const latest = await this.latest(rows.map((r) => Number(r.vendor_id)));
    return {
      byVendor: rows.map((r) => ({
        vendorId: Number(r.vendor_id),
        name: latest.get(Number(r.vendor_id))!.name,
        reached: Number(r.reached),
      })),
      handedOver: rows.reduce((sum, r) => sum + Number(r.handed_over ?? 0), 0),
    };
  }

  /** Per UTC day of creation: the incident sums and the stint sums of the incidents opened that day. */
  async daily(f: PeriodFilter): Promise<{ incidents: Map<number, Sums>; stints: Map<number, Sums> }> {
    const byDay = (rows: Array<{ key: Record<string, string>; sums: Sums }>) =>
      new Map(rows.map((r) => [Number(r.key.day), r.sums]));
    return {
      incidents: byDay(await this.sums('incidents', f, ['day'])),
      stints: byDay(await this.sums('stints', f, ['day'])),
    };
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
