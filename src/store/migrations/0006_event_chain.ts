import { sql, type Kysely } from 'kysely';
import type { Engine } from '../database.js';
import type { IncidentEvent } from '../../domain/incident.js';
import { eventHash, GENESIS } from '../event-chain.js';

/**
 * Adds incident attachments, and chains every incident's events with SHA-256 hashes (tamper-evident audit). Events stored before
 * this migration get their hashes here: the append-only trigger is lifted for that one pass only.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  // Files attached to incidents: stored under server-made names, described here.
  await db.schema
    .createTable('attachments')
    .addColumn('id', engine === 'sqlite' ? 'integer' : 'bigserial', (c) =>
      engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
    )
    .addColumn('incident_id', 'bigint', (c) => c.notNull().references('incidents.id'))
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('storage_name', 'text', (c) => c.notNull().unique())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('uploaded_by', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('attachments_incident').on('attachments').columns(['incident_id', 'id']).execute();

  await db.schema
    .alterTable('incident_events')
    .addColumn('hash', 'text', (c) => c.notNull().defaultTo(''))
    .execute();

  const existing = await sql<{ id: number }>`select id from incident_events limit 1`.execute(db);
  if (existing.rows.length === 0) return;

  if (engine === 'postgres') await sql`alter table incident_events disable trigger incident_events_no_update`.execute(db);
  else await sql`drop trigger incident_events_no_update`.execute(db);

  let after = { incident: 0, seq: 0 };
  let previous = { incident: 0, hash: GENESIS };
  for (;;) {
    const page = await sql<{
      id: number;
      incident_id: number;
      seq: number;
      at: number;
      actor_id: number | null;
      kind: string;
      from_tier: string | null;
      to_tier: string | null;
      data: string;
    }>`select id, incident_id, seq, at, actor_id, kind, from_tier, to_tier, data from incident_events
       where incident_id > ${after.incident} or (incident_id = ${after.incident} and seq > ${after.seq})
       order by incident_id, seq limit 1000`.execute(db);
    if (page.rows.length === 0) break;
    for (const r of page.rows) {
      const event: IncidentEvent = {
        incidentId: Number(r.incident_id),
        seq: r.seq,
        at: Number(r.at),
        actorId: r.actor_id == null ? null : Number(r.actor_id),
        kind: r.kind as IncidentEvent['kind'],
        fromTier: r.from_tier,
        toTier: r.to_tier,
        data: JSON.parse(r.data) as IncidentEvent['data'],
      };
      const hash = eventHash(event, previous.incident === event.incidentId ? previous.hash : GENESIS);
      await sql`update incident_events set hash = ${hash} where id = ${r.id}`.execute(db);
      previous = { incident: event.incidentId, hash };
      after = { incident: event.incidentId, seq: event.seq };
    }
  }

  if (engine === 'postgres') await sql`alter table incident_events enable trigger incident_events_no_update`.execute(db);
  else
    await sql`create trigger incident_events_no_update before update on incident_events
      begin select raise(abort, 'incident_events is append-only'); end`.execute(db);
}
