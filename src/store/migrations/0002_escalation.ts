import type { Kysely } from 'kysely';
import type { Engine } from '../database.js';

/** Durable wake-ups for the escalation worker, and the transactional outbox for notifications. */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  await db.schema
    .createTable('escalation_schedule')
    .addColumn('incident_id', 'bigint', (c) => c.primaryKey().references('incidents.id'))
    .addColumn('due_at', 'bigint', (c) => c.notNull())
    .addColumn('order_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('escalation_schedule_due').on('escalation_schedule').columns(['due_at', 'order_at']).execute();

  await db.schema
    .createTable('outbox')
    .addColumn('id', engine === 'sqlite' ? 'integer' : 'bigserial', (c) =>
      engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
    )
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('incident_id', 'bigint', (c) => c.references('incidents.id'))
    .addColumn('event_seq', 'integer')
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .addColumn('last_error', 'text')
    .execute();
  await db.schema.createIndex('outbox_pending').on('outbox').columns(['status', 'next_attempt_at']).execute();
}
