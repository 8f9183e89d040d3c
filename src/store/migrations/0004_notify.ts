import type { Kysely } from 'kysely';
import type { Engine } from '../database.js';

/**
 * Who is reached and how: the instance secret, tier teams with their on-call rotation, the vendor
 * directory, outbound subscriptions, and one delivery row per recipient of each notified event.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  const withId = (table: string) =>
    db.schema
      .createTable(table)
      .addColumn('id', engine === 'sqlite' ? 'integer' : 'bigserial', (c) =>
        engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
      );

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('teams')
    .addColumn('tier', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('chat_kind', 'text')
    .addColumn('chat_url', 'text')
    .addColumn('members', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('managers', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('rotation', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await withId('oncall_overrides')
    .addColumn('tier', 'text', (c) => c.notNull())
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('starts_at', 'bigint', (c) => c.notNull())
    .addColumn('ends_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('oncall_overrides_tier').on('oncall_overrides').columns(['tier', 'starts_at']).execute();

  await withId('vendors')
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('categories', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('phone', 'text')
    .addColumn('contract_ref', 'text')
    .addColumn('acknowledge_target', 'text')
    .addColumn('resolve_target', 'text')
    .addColumn('locale', 'text', (c) => c.notNull().defaultTo('en'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await withId('subscriptions')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('secret', 'text')
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await withId('deliveries')
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('incident_id', 'bigint')
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('locale', 'text', (c) => c.notNull())
    .addColumn('topics', 'text', (c) => c.notNull())
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .addColumn('last_error', 'text')
    .execute();
  await db.schema.createIndex('deliveries_due').on('deliveries').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('deliveries_group').on('deliveries').columns(['incident_id', 'channel', 'recipient', 'status']).execute();

  await db.schema.alterTable('incidents').addColumn('vendor_id', 'bigint').execute();
  await db.schema.alterTable('incidents').addColumn('vendor_ticket', 'text').execute();
  await db.schema.alterTable('incidents').addColumn('vendor_status', 'text').execute();
}
