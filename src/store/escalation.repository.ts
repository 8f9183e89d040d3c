import type { Kysely } from 'kysely';
import type { Incident, IncidentEvent } from '../domain/incident.js';
import type { Engine } from './database.js';
import { eventFromRow, type IncidentRepository } from './incident.repository.js';
import { insertRows } from './insert-rows.js';
import type { Database } from './schema.js';

/** Events that someone outside may need to hear about; each becomes one outbox row. */
export const NOTIFIED_EVENTS = new Set<IncidentEvent['kind']>([
  'created',
  'acknowledged',
  'escalated',
  'handed_back',
  'resolved',
  'reopened',
  'deadline_warning',
  'deadline_missed',
  'manager_notified',
  'ping_pong_detected',
  'vendor_engaged',
  'vendor_acknowledged',
  'vendor_updated',
  'vendor_done',
]);

export class EscalationRepository {
  constructor(private readonly engine: Engine) {}

  /** Sets (or clears, with null) the instant the worker must next look at an incident. */
  async setWakeUps(
    db: Kysely<Database>,
    wakeUps: Array<{ incidentId: number; dueAt: number | null; orderAt?: number | undefined }>,
  ): Promise<void> {
    const clear = wakeUps.filter((w) => w.dueAt === null).map((w) => w.incidentId);
    const set = wakeUps
      .filter((w) => w.dueAt !== null)
      .map((w) => ({ incident_id: w.incidentId, due_at: w.dueAt!, order_at: Math.max(w.orderAt ?? w.dueAt!, w.dueAt!) }));
    if (clear.length) await db.deleteFrom('escalation_schedule').where('incident_id', 'in', clear).execute();
    if (set.length)
      await insertRows(db, 'escalation_schedule upsert', set, (values) =>
        db
          .insertInto('escalation_schedule')
          .values(values)
          .onConflict((oc) =>
            oc.column('incident_id').doUpdateSet((eb) => ({ due_at: eb.ref('excluded.due_at'), order_at: eb.ref('excluded.order_at') })),
          ),
      );
  }

  /**
   * Claims up to `limit` incidents whose wake-up is due, earliest deadline first, with their rows locked
   * until the transaction ends. On PostgreSQL, rows another worker holds are skipped, so several
   * processes share the work without waiting on each other; SQLite's write lock serialises workers.
   */
  async claimDue(
    db: Kysely<Database>,
    incidents: IncidentRepository,
    now: number,
    limit: number,
  ): Promise<Array<{ incident: Incident; dueAt: number }>> {
    let q = db
      .selectFrom('escalation_schedule')
      .select(['incident_id', 'due_at'])
      .where('due_at', '<=', now)
      .orderBy('order_at')
      .orderBy('due_at')
      .limit(limit);
    if (this.engine === 'postgres') q = q.forUpdate().skipLocked();
    const due = await q.execute();
    if (due.length === 0) return [];
    // An incident being changed by hand right now is left for the next round, never waited for.
    const byId = await incidents.getMany(
      due.map((d) => Number(d.incident_id)),
      db,
      true,
    );
    return due.flatMap((d) => {
      const incident = byId.get(Number(d.incident_id));
      return incident ? [{ incident, dueAt: Number(d.due_at) }] : [];
    });
  }

  async eventsOf(db: Kysely<Database>, ids: number[]): Promise<Map<number, IncidentEvent[]>> {
    const out = new Map<number, IncidentEvent[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return out;
    const rows = await db
      .selectFrom('incident_events')
      .selectAll()
      .where('incident_id', 'in', ids)
      .orderBy('incident_id')
      .orderBy('seq')
      .execute();
    for (const r of rows) out.get(Number(r.incident_id))!.push(eventFromRow(r));
    return out;
  }

  async nextDue(db: Kysely<Database>): Promise<number | undefined> {
    const row = await db.selectFrom('escalation_schedule').select((eb) => eb.fn.min('due_at').as('due')).executeTakeFirst();
    return row?.due == null ? undefined : Number(row.due);
  }

  async upcoming(db: Kysely<Database>, until: number, limit: number): Promise<number[]> {
    const rows = await db
      .selectFrom('escalation_schedule')
      .select('incident_id')
      .where('due_at', '<=', until)
      .orderBy('due_at')
      .limit(limit)
      .execute();
    return rows.map((r) => Number(r.incident_id));
  }

  /** Writes one outbox row per notified event; the idempotency key makes a second write a no-op. */
  async enqueue(db: Kysely<Database>, events: IncidentEvent[], at: number): Promise<void> {
    const rows = events
      .filter((e) => NOTIFIED_EVENTS.has(e.kind))
      .map((e) => ({
        idempotency_key: `incident:${e.incidentId}:event:${e.seq}`,
        incident_id: e.incidentId,
        event_seq: e.seq,
        topic: e.kind,
        payload: JSON.stringify(e),
        status: 'pending',
        attempts: 0,
        next_attempt_at: at,
        created_at: at,
      }));
    if (rows.length)
      await insertRows(db, 'outbox once', rows, (values) =>
        db
          .insertInto('outbox')
          .values(values)
          .onConflict((oc) => oc.column('idempotency_key').doNothing()),
      );
  }
}
