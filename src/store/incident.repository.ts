import { sql, type ExpressionBuilder, type Kysely, type SelectQueryBuilder } from 'kysely';
import { OPEN_STATUSES, type Incident, type IncidentEvent, type IncidentStatus, type PendingReason, type VendorStatus } from '../domain/incident.js';
import type { IncidentScope } from '../domain/policy.js';
import type { Level, Priority } from '../domain/priority.js';
import type { Engine } from './database.js';
import { eventHash, GENESIS } from './event-chain.js';
import { insertRows } from './insert-rows.js';
import type { Database, EventRow, IncidentRow } from './schema.js';

export interface IncidentFilter {
  tier?: string[];
  status?: IncidentStatus[];
  category?: string[];
  priority?: Priority[];
  assigneeId?: number | null;
  requesterId?: number;
  /** The vendor the incident is (last) handed to. */
  vendorId?: number;
  text?: string;
  /** The policy's confidential categories hidden from the reader (src/domain/policy.ts incidentScope). */
  hidden?: IncidentScope['hidden'];
}

/** The policy's confidentiality scope as a condition on the incidents table (the same test as inScope). */
export function visibleWhere(eb: ExpressionBuilder<Database, 'incidents'>, hidden: NonNullable<IncidentScope['hidden']>) {
  const seen = [
    eb('incidents.category', 'not in', hidden.categories),
    eb('incidents.requester_id', '=', hidden.exceptUserId),
    eb('incidents.assignee_id', '=', hidden.exceptUserId),
  ];
  if (hidden.exceptTiers.length) seen.push(eb('incidents.tier', 'in', hidden.exceptTiers));
  return eb.or(seen);
}

/** An incident's id and the seq of its last event: the row changes exactly when seq does. */
export interface IncidentVersion {
  id: number;
  seq: number;
}

/** A place in a tier queue: the incident's version, its status and when it misses its next target. */
export interface QueuedVersion extends IncidentVersion {
  status: IncidentStatus;
  /** The order instant of its escalation wake-up; null without one. */
  breachAt: number | null;
}

/** Sort orders a client may ask for; anything else is refused before it reaches SQL. */
export const INCIDENT_SORTS = ['priority', 'created_at', '-created_at', '-updated_at'] as const;
export type IncidentSort = (typeof INCIDENT_SORTS)[number];

export class IncidentRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
  ) {}

  async insert(db: Kysely<Database>, incident: Omit<Incident, 'id'>): Promise<number> {
    const row = await db.insertInto('incidents').values(toRow(incident)).returning('id').executeTakeFirstOrThrow();
    return Number(row.id);
  }

  /**
   * Inserts several incidents in one statement and returns their ids in the order given. Ids are
   * drawn in the order of the VALUES rows (SQLite's rowid, PostgreSQL's sequence), so the returned
   * ids sorted ascending line up with the rows.
   */
  async insertMany(db: Kysely<Database>, incidents: Array<Omit<Incident, 'id'>>): Promise<number[]> {
    if (incidents.length === 0) return [];
    const ids: number[] = [];
    const perStatement = this.engine === 'sqlite' ? 300 : 1000; // SQLite bounds the variables of a statement
    for (let i = 0; i < incidents.length; i += perStatement) {
      const { rows } = await insertRows(db, 'incidents', incidents.slice(i, i + perStatement).map(toRow), (values) =>
        db.insertInto('incidents').values(values).returning('id'),
      );
      ids.push(...rows.map((r) => Number(r.id)).sort((a, b) => a - b));
    }
    return ids;
  }

  /** Reads an incident; inside a PostgreSQL transaction, `lock` holds its row until commit. */
  async get(id: number, db: Kysely<Database> = this.db, lock = false): Promise<Incident | undefined> {
    let query = db.selectFrom('incidents').selectAll().where('id', '=', id);
    if (lock && this.engine === 'postgres') query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  /**
   * Reads several incidents at once. With `skipLocked` inside a PostgreSQL transaction, rows that
   * another transaction holds are left out and the others stay locked until commit.
   */
  async getMany(ids: number[], db: Kysely<Database> = this.db, skipLocked = false): Promise<Map<number, Incident>> {
    if (ids.length === 0) return new Map();
    let query = db.selectFrom('incidents').selectAll().where('id', 'in', ids);
    if (skipLocked && this.engine === 'postgres') query = query.forUpdate().skipLocked();
    return new Map((await query.execute()).map((r) => [Number(r.id), fromRow(r)]));
  }

  /**
   * Writes the new projection if nobody else moved the incident since `expectedSeq`. Only the
   * columns that changed are written, which spares the indexes of the others.
   */
  async update(db: Kysely<Database>, incident: Incident, expectedSeq: number, before?: Incident): Promise<boolean> {
    // Readers cache incidents by (id, seq) (listVersions): a row must never change under the same seq.
    if (incident.seq <= expectedSeq) throw new Error(`Incident ${incident.id} updated without a new event (seq ${incident.seq})`);
    const next = toRow(incident) as Record<string, unknown>;
    const old = before ? (toRow(before) as Record<string, unknown>) : undefined;
    const changed: Record<string, unknown> = {};
    for (const key in next) if (!old || old[key] !== next[key]) changed[key] = next[key];
    const result = await db
      .updateTable('incidents')
      .set(changed)
      .where('id', '=', incident.id)
      .where('seq', '=', expectedSeq)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Appends events, each with its hash chained to the previous event of its incident (from the
   * same batch, or read back when it was stored earlier). The predecessor of every event must exist.
   */
  async appendEvents(db: Kysely<Database>, events: IncidentEvent[]): Promise<void> {
    if (events.length === 0) return;
    const ordered = events.length === 1 ? events : [...events].sort((a, b) => a.incidentId - b.incidentId || a.seq - b.seq);
    const last = new Map<number, { seq: number; hash: string }>();
    const missing = ordered.filter((e, i) => e.seq > 1 && !(i > 0 && ordered[i - 1]!.incidentId === e.incidentId));
    if (missing.length > 0) {
      const rows = await db
        .selectFrom('incident_events')
        .select(['incident_id', 'seq', 'hash'])
        .where('incident_id', 'in', [...new Set(missing.map((e) => e.incidentId))])
        .where('seq', 'in', [...new Set(missing.map((e) => e.seq - 1))])
        .execute();
      const wanted = new Map(missing.map((e) => [e.incidentId, e.seq - 1]));
      for (const r of rows) if (wanted.get(Number(r.incident_id)) === r.seq) last.set(Number(r.incident_id), { seq: r.seq, hash: r.hash });
    }
    const rows = ordered.map((e) => {
      const prev = last.get(e.incidentId);
      let previous = GENESIS;
      if (e.seq > 1) {
        if (!prev || prev.seq !== e.seq - 1) throw new Error(`Event ${e.seq} of incident ${e.incidentId} has no predecessor`);
        previous = prev.hash;
      }
      const row = eventToRow(e, previous);
      last.set(e.incidentId, { seq: e.seq, hash: row.hash });
      return row;
    });
    await insertRows(db, 'incident_events', rows, (values) => db.insertInto('incident_events').values(values));
  }

  async events(id: number, db: Kysely<Database> = this.db): Promise<IncidentEvent[]> {
    const rows = await db.selectFrom('incident_events').selectAll().where('incident_id', '=', id).orderBy('seq').execute();
    return rows.map(eventFromRow);
  }

  async list(filter: IncidentFilter, sort: IncidentSort, limit: number, offset: number): Promise<Incident[]> {
    const rows = await this.sorted(this.filtered(filter).selectAll(), sort).limit(limit).offset(offset).execute();
    return rows.map(fromRow);
  }

  /**
   * The same page as `list`, as ids and versions only (`seq` moves with every change of the row):
   * a reader that keeps what it made of each version fetches only the incidents that changed.
   */
  async listVersions(filter: IncidentFilter, sort: IncidentSort, limit: number, offset: number): Promise<IncidentVersion[]> {
    const rows = await this.sorted(this.filtered(filter).select(['id', 'seq']), sort).limit(limit).offset(offset).execute();
    return rows.map((r) => ({ id: Number(r.id), seq: r.seq }));
  }

  /** The incidents among `ids` that still match the filter (the scope is checked again, at read time). */
  async listByIds(filter: IncidentFilter, ids: number[]): Promise<Map<number, Incident>> {
    if (ids.length === 0) return new Map();
    const rows = await this.filtered(filter).selectAll().where('id', 'in', ids).execute();
    return new Map(rows.map((r) => [Number(r.id), fromRow(r)]));
  }

  private sorted<Q extends SelectQueryBuilder<Database, 'incidents', object>>(q: Q, sort: IncidentSort): Q {
    switch (sort) {
      case 'priority':
        return q.orderBy('priority').orderBy('created_at').orderBy('id') as Q;
      case 'created_at':
        return q.orderBy('created_at').orderBy('id') as Q;
      case '-created_at':
        return q.orderBy('created_at', 'desc').orderBy('id', 'desc') as Q;
      case '-updated_at':
        return q.orderBy('updated_at', 'desc').orderBy('id', 'desc') as Q;
    }
  }

  /** Incidents matching a filter, no column chosen yet: the base of lists and queues. */
  private filtered(filter: IncidentFilter) {
    let q = this.db.selectFrom('incidents');
    if (filter.tier?.length) q = q.where('tier', 'in', filter.tier);
    if (filter.status?.length) {
      // Asking only for open statuses walks the open-queue index; all four at once need no status test.
      const open = filter.status.filter((st) => OPEN_STATUSES.includes(st));
      if (open.length === filter.status.length) q = q.where('is_open', '=', 1);
      if (open.length < OPEN_STATUSES.length || open.length !== filter.status.length) q = q.where('status', 'in', filter.status);
    }
    if (filter.category?.length) q = q.where('category', 'in', filter.category);
    if (filter.priority?.length) q = q.where('priority', 'in', filter.priority);
    if (filter.requesterId !== undefined) q = q.where('requester_id', '=', filter.requesterId);
    if (filter.vendorId !== undefined) q = q.where('vendor_id', '=', filter.vendorId);
    const hidden = filter.hidden;
    if (hidden?.categories.length) q = q.where((eb) => visibleWhere(eb, hidden));
    if (filter.assigneeId === null) q = q.where('assignee_id', 'is', null);
    else if (filter.assigneeId !== undefined) q = q.where('assignee_id', '=', filter.assigneeId);
    if (filter.text) {
      const pattern = `%${filter.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q = q.where((eb) =>
        eb.or(
          (['title', 'description'] as const).map((column) =>
            this.engine === 'postgres'
              ? eb(sql`${sql.ref(column)}`, 'ilike', sql`${pattern} escape '\\'`)
              : eb(sql`palier_fold(${sql.ref(column)})`, 'like', sql`palier_fold(${pattern}) escape '\\'`),
          ),
        ),
      );
    }
    return q;
  }

  /**
   * The desk at a glance, within the reader's scope: open incidents per tier and category, targets
   * missed since `since`, the oldest open incident of each tier.
   */
  async overview(since: number, hidden: IncidentFilter['hidden']) {
    const scoped = Boolean(hidden?.categories.length);
    const visible = (eb: ExpressionBuilder<Database, 'incidents'>) => visibleWhere(eb, hidden!);
    const open = await this.db
      .selectFrom('incidents')
      .select(['tier', 'category', (eb) => eb.fn.countAll<number>().as('n')])
      .where('is_open', '=', 1)
      .$if(scoped, (q) => q.where(visible))
      .groupBy(['tier', 'category'])
      .execute();
    const missed = await this.db
      .selectFrom('incident_events')
      .select([(eb) => eb.fn.countAll<number>().as('events'), (eb) => eb.fn.count<number>('incident_id').distinct().as('incidents')])
      .where('kind', '=', 'deadline_missed')
      .where('at', '>=', since)
      .$if(scoped, (q) => q.where('incident_id', 'in', (eb) => eb.selectFrom('incidents').select('incidents.id').where(visible)))
      .executeTakeFirstOrThrow();
    const tiers = [...new Set(open.map((r) => r.tier))].sort();
    const oldest = await Promise.all(
      tiers.map(async (tier) => {
        const row = await this.db
          .selectFrom('incidents')
          .selectAll()
          .where('is_open', '=', 1)
          .where('tier', '=', tier)
          .$if(scoped, (q) => q.where(visible))
          .orderBy('created_at')
          .orderBy('id')
          .limit(1)
          .executeTakeFirstOrThrow();
        return { tier, incident: fromRow(row) };
      }),
    );
    return {
      open: open.map((r) => ({ tier: r.tier, category: r.category, count: Number(r.n) })),
      breaches: { events: Number(missed.events), incidents: Number(missed.incidents) },
      oldest,
    };
  }

  /**
   * A tier queue: open incidents matching the filter, the one whose next target is missed first on
   * top (the order of its escalation wake-up), then those without a running target (paused) by
   * priority and age. Two index-friendly reads instead of one sort over every open incident. Ids and
   * versions only, like listVersions: the incidents themselves are read by listByIds.
   */
  async queueVersions(filter: IncidentFilter, limit: number): Promise<QueuedVersion[]> {
    const timed = await this.filtered(filter)
      .innerJoin('escalation_schedule as s', 's.incident_id', 'incidents.id')
      .select(['incidents.id', 'incidents.seq', 'incidents.status', 's.order_at as breach_at'])
      .orderBy('s.order_at')
      .orderBy('priority')
      .orderBy('created_at')
      .orderBy('incidents.id')
      .limit(limit)
      .execute();
    const out: QueuedVersion[] = timed.map((r) => ({ id: Number(r.id), seq: r.seq, status: r.status as IncidentStatus, breachAt: Number(r.breach_at) }));
    if (out.length < limit) {
      const untimed = await this.filtered(filter)
        .select(['id', 'seq', 'status'])
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(selectFrom('escalation_schedule as s').select('s.incident_id').whereRef('s.incident_id', '=', 'incidents.id')),
          ),
        )
        .orderBy('priority')
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit - out.length)
        .execute();
      for (const r of untimed) out.push({ id: Number(r.id), seq: r.seq, status: r.status as IncidentStatus, breachAt: null });
    }
    return out;
  }
}

/** The row that stores an incident projection (also used to bulk-load incidents). */
export function toRow(i: Omit<Incident, 'id'>) {
  return {
    title: i.title,
    description: i.description,
    category: i.category,
    impact: i.impact,
    urgency: i.urgency,
    priority: i.priority,
    requester_id: i.requesterId,
    assignee_id: i.assigneeId,
    tier: i.tier,
    status: i.status,
    is_open: OPEN_STATUSES.includes(i.status) ? 1 : 0,
    pending_reason: i.pendingReason,
    matrix_version: i.matrixVersion,
    checklist: JSON.stringify(i.checklist),
    reopen_count: i.reopenCount,
    escalation_count: i.escalationCount,
    resolution: i.resolution,
    tier_entered_at: i.tierEnteredAt,
    created_at: i.createdAt,
    updated_at: i.updatedAt,
    acknowledged_at: i.acknowledgedAt,
    resolved_at: i.resolvedAt,
    closed_at: i.closedAt,
    vendor_id: i.vendorId,
    vendor_ticket: i.vendorTicket,
    vendor_status: i.vendorStatus,
    seq: i.seq,
  };
}

/** The row that stores an event, its hash chained to `previousHash` (GENESIS for an incident's first). */
export function eventToRow(e: IncidentEvent, previousHash: string) {
  return {
    incident_id: e.incidentId,
    seq: e.seq,
    at: e.at,
    actor_id: e.actorId,
    kind: e.kind,
    from_tier: e.fromTier,
    to_tier: e.toTier,
    data: JSON.stringify(e.data),
    hash: eventHash(e, previousHash),
  };
}

/** Rows for whole histories (bulk loads): each incident's events must come in order from seq 1. */
export function chainedEventRows(events: IncidentEvent[]) {
  const last = new Map<number, string>();
  return events.map((e) => {
    const row = eventToRow(e, e.seq === 1 ? GENESIS : (last.get(e.incidentId) ?? GENESIS));
    last.set(e.incidentId, row.hash);
    return row;
  });
}

const num = (v: unknown) => (v == null ? null : Number(v));

export function fromRow(r: IncidentRow): Incident {
  return {
    id: Number(r.id),
    title: r.title,
    description: r.description,
    category: r.category,
    impact: r.impact as Level,
    urgency: r.urgency as Level,
    priority: r.priority as Priority,
    requesterId: Number(r.requester_id),
    assigneeId: num(r.assignee_id),
    tier: r.tier,
    status: r.status as IncidentStatus,
    pendingReason: r.pending_reason as PendingReason | null,
    matrixVersion: r.matrix_version,
    checklist: JSON.parse(r.checklist) as Record<string, number[]>,
    reopenCount: r.reopen_count,
    escalationCount: r.escalation_count,
    resolution: r.resolution,
    tierEnteredAt: Number(r.tier_entered_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    acknowledgedAt: num(r.acknowledged_at),
    resolvedAt: num(r.resolved_at),
    closedAt: num(r.closed_at),
    vendorId: num(r.vendor_id),
    vendorTicket: r.vendor_ticket,
    vendorStatus: r.vendor_status as VendorStatus | null,
    seq: r.seq,
  };
}

export function eventFromRow(r: EventRow): IncidentEvent {
  return {
    incidentId: Number(r.incident_id),
    seq: r.seq,
    at: Number(r.at),
    actorId: num(r.actor_id),
    kind: r.kind as IncidentEvent['kind'],
    fromTier: r.from_tier,
    toTier: r.to_tier,
    data: JSON.parse(r.data) as IncidentEvent['data'],
  };
}
