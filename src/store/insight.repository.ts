import { sql, type Kysely } from 'kysely';
import type { Incident } from '../domain/incident.js';
import type { Priority } from '../domain/priority.js';
import type { Engine } from './database.js';
import { fromRow } from './incident.repository.js';
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
    const rows = await q.orderBy('id').limit(limit).execute();
    return rows.map(fromRow);
  }
}

const n = (v: unknown): number => (v == null ? 0 : Number(v));
const nOrNull = (v: unknown): number | null => (v == null ? null : Number(v));

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

/**
 * Report aggregates over the stored figures. Each is one statement over the period's rows
 * (incidents opened in [from, to), found through the created_at index).
 */
export class ReportRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
  ) {}

  private median(column: string) {
    return this.engine === 'postgres'
      ? sql<number | null>`percentile_cont(0.5) within group (order by ${sql.ref(column)})`
      : sql<number | null>`palier_median(${sql.ref(column)})`;
  }

  /** Incident figures of the period; the tier filter is the incident's current tier. */
  private incidents(f: PeriodFilter) {
    let q = this.db.selectFrom('incident_figures').where('created_at', '>=', f.from).where('created_at', '<', f.to);
    if (f.category?.length) q = q.where('category', 'in', f.category);
    if (f.priority?.length) q = q.where('priority', 'in', f.priority);
    if (f.tier?.length) q = q.where('tier', 'in', f.tier);
    return q;
  }

  /** Stints of the period's incidents; the tier filter is the stint's tier. */
  private stints(f: PeriodFilter) {
    let q = this.db.selectFrom('incident_stint_figures').where('created_at', '>=', f.from).where('created_at', '<', f.to);
    if (f.category?.length) q = q.where('category', 'in', f.category);
    if (f.priority?.length) q = q.where('priority', 'in', f.priority);
    if (f.tier?.length) q = q.where('tier', 'in', f.tier);
    return q;
  }

  async volume(f: PeriodFilter): Promise<VolumeRow> {
    const r = await this.incidents(f)
      .select((eb) => [
        eb.fn.countAll().as('opened'),
        eb.fn.count('acknowledged_at').as('acknowledged'),
        eb.fn.count('resolved_at').as('resolved'),
        eb.fn.sum('ever_resolved').as('ever_resolved'),
        sql`sum(case when reopen_count > 0 then 1 else 0 end)`.as('reopened'),
        eb.fn.sum('reached_top').as('reached_top'),
      ])
      .executeTakeFirstOrThrow();
    return {
      opened: n(r.opened),
      acknowledged: n(r.acknowledged),
      resolved: n(r.resolved),
      everResolved: n(r.ever_resolved),
      reopened: n(r.reopened),
      reachedTop: n(r.reached_top),
    };
  }

  async times(f: PeriodFilter): Promise<TimesRow> {
    const r = await this.incidents(f)
      .select((eb) => [
        eb.fn.count('ack_ms').as('acknowledged'),
        eb.fn.avg('ack_ms').as('ack_mean'),
        this.median('ack_ms').as('ack_median'),
        eb.fn.avg('ack_business_ms').as('ack_business_mean'),
        this.median('ack_business_ms').as('ack_business_median'),
        eb.fn.count('resolve_ms').as('resolved'),
        eb.fn.avg('resolve_ms').as('resolve_mean'),
        this.median('resolve_ms').as('resolve_median'),
        eb.fn.avg('resolve_business_ms').as('resolve_business_mean'),
        this.median('resolve_business_ms').as('resolve_business_median'),
      ])
      .executeTakeFirstOrThrow();
    return {
      acknowledged: n(r.acknowledged),
      ackMeanMs: nOrNull(r.ack_mean),
      ackMedianMs: nOrNull(r.ack_median),
      ackBusinessMeanMs: nOrNull(r.ack_business_mean),
      ackBusinessMedianMs: nOrNull(r.ack_business_median),
      resolved: n(r.resolved),
      resolveMeanMs: nOrNull(r.resolve_mean),
      resolveMedianMs: nOrNull(r.resolve_median),
      resolveBusinessMeanMs: nOrNull(r.resolve_business_mean),
      resolveBusinessMedianMs: nOrNull(r.resolve_business_median),
    };
  }

  async sla(f: PeriodFilter): Promise<SlaRow[]> {
    const rows = await this.stints(f)
      .select((eb) => [
        'tier',
        'priority',
        eb.fn.countAll().as('stints'),
        sql`sum(case when ack_met = 1 then 1 else 0 end)`.as('ack_met'),
        sql`sum(case when ack_met = 0 then 1 else 0 end)`.as('ack_missed'),
        sql`sum(case when resolve_met = 1 then 1 else 0 end)`.as('resolve_met'),
        sql`sum(case when resolve_met = 0 then 1 else 0 end)`.as('resolve_missed'),
      ])
      .groupBy(['tier', 'priority'])
      .execute();
    return rows.map((r) => ({
      tier: r.tier,
      priority: r.priority,
      stints: n(r.stints),
      ackMet: n(r.ack_met),
      ackMissed: n(r.ack_missed),
      resolveMet: n(r.resolve_met),
      resolveMissed: n(r.resolve_missed),
    }));
  }

  async escalations(f: PeriodFilter): Promise<EscalationRow[]> {
    const rows = await this.stints(f)
      .select((eb) => [
        'category',
        'tier',
        eb.fn.countAll().as('stints'),
        sql`sum(case when exit = 'hand' then 1 else 0 end)`.as('hand'),
        sql`sum(case when exit = 'missed' then 1 else 0 end)`.as('missed'),
        sql`sum(case when exit = 'other' then 1 else 0 end)`.as('other'),
        sql`sum(case when exit = 'handed_back' then 1 else 0 end)`.as('handed_back'),
      ])
      .groupBy(['category', 'tier'])
      .execute();
    return rows.map((r) => ({
      category: r.category,
      tier: r.tier,
      stints: n(r.stints),
      byHand: n(r.hand),
      missedDeadline: n(r.missed),
      otherAutomatic: n(r.other),
      handedBack: n(r.handed_back),
    }));
  }

  async tierTime(f: PeriodFilter): Promise<TierTimeRow[]> {
    const rows = await this.stints(f)
      .select((eb) => [
        'tier',
        eb.fn.countAll().as('stints'),
        eb.fn.count('wall_ms').as('completed'),
        eb.fn.avg('wall_ms').as('wall_mean'),
        eb.fn.sum('wall_ms').as('wall_total'),
        eb.fn.avg('business_ms').as('business_mean'),
        eb.fn.sum('business_ms').as('business_total'),
      ])
      .groupBy('tier')
      .execute();
    return rows.map((r) => ({
      tier: r.tier,
      stints: n(r.stints),
      completed: n(r.completed),
      wallMeanMs: nOrNull(r.wall_mean),
      wallTotalMs: n(r.wall_total),
      businessMeanMs: nOrNull(r.business_mean),
      businessTotalMs: n(r.business_total),
    }));
  }
}
