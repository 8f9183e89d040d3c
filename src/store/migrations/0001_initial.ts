import { sql, type Kysely } from 'kysely';
import type { Engine } from '../database.js';

export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  const id = (table: string) =>
    db.schema
      .createTable(table)
      .addColumn('id', engine === 'sqlite' ? 'integer' : 'bigserial', (c) =>
        engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
      );

  await id('users')
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text')
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('locale', 'text', (c) => c.notNull().defaultTo('fr'))
    .addColumn('tiers', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('disabled_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await id('api_tokens')
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .execute();
  await db.schema.createIndex('api_tokens_user').on('api_tokens').column('user_id').execute();

  await db.schema
    .createTable('matrix_versions')
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'bigint', (c) => c.references('users.id'))
    .addColumn('comment', 'text')
    .execute();

  await id('incidents')
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('impact', 'integer', (c) => c.notNull())
    .addColumn('urgency', 'integer', (c) => c.notNull())
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('requester_id', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('assignee_id', 'bigint', (c) => c.references('users.id'))
    .addColumn('tier', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('pending_reason', 'text')
    .addColumn('matrix_version', 'integer', (c) => c.notNull().references('matrix_versions.version'))
    .addColumn('checklist', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('reopen_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('escalation_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('resolution', 'text')
    .addColumn('tier_entered_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('acknowledged_at', 'bigint')
    .addColumn('resolved_at', 'bigint')
    .addColumn('closed_at', 'bigint')
    .addColumn('seq', 'integer', (c) => c.notNull())
    .execute();
  // A tier's queue walks this index in priority order and stops after one page.
  await db.schema.createIndex('incidents_queue').on('incidents').columns(['tier', 'priority', 'created_at']).execute();
  await db.schema.createIndex('incidents_requester').on('incidents').columns(['requester_id', 'created_at']).execute();
  await db.schema.createIndex('incidents_status').on('incidents').columns(['status', 'created_at']).execute();
  await db.schema.createIndex('incidents_created').on('incidents').column('created_at').execute();
  await db.schema.createIndex('incidents_assignee').on('incidents').columns(['assignee_id', 'created_at']).execute();

  await id('incident_events')
    .addColumn('incident_id', 'bigint', (c) => c.notNull().references('incidents.id'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor_id', 'bigint', (c) => c.references('users.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('from_tier', 'text')
    .addColumn('to_tier', 'text')
    .addColumn('data', 'text', (c) => c.notNull())
    .addUniqueConstraint('incident_events_seq', ['incident_id', 'seq'])
    .execute();
  await db.schema.createIndex('incident_events_kind_at').on('incident_events').columns(['kind', 'at']).execute();

  // Events are append-only: the database itself refuses to rewrite history.
  if (engine === 'postgres') {
    await sql`create function palier_events_append_only() returns trigger language plpgsql as $$
      begin raise exception 'incident_events is append-only'; end $$`.execute(db);
    await sql`create trigger incident_events_no_update before update or delete on incident_events
      for each row execute function palier_events_append_only()`.execute(db);
  } else {
    await sql`create trigger incident_events_no_update before update on incident_events
      begin select raise(abort, 'incident_events is append-only'); end`.execute(db);
    await sql`create trigger incident_events_no_delete before delete on incident_events
      begin select raise(abort, 'incident_events is append-only'); end`.execute(db);
  }
}
