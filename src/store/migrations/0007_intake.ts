import { sql, type Kysely } from 'kysely';
import type { Engine } from '../database.js';

/**
 * Inbound integrations: the senders Palier accepts incidents from, every message they send (kept
 * as received, before it is processed), and the keys that tie an alert, an event or an e-mail to
 * the incident it opened.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  const withId = (table: string) =>
    db.schema
      .createTable(table)
      .addColumn('id', engine === 'sqlite' ? 'integer' : 'bigserial', (c) =>
        engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
      );

  await withId('integrations')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('key_hint', 'text', (c) => c.notNull())
    .addColumn('address', 'text')
    .addColumn('system_user_id', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('created_by', 'bigint', (c) => c.references('users.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('key_rotated_at', 'bigint')
    .addColumn('disabled_at', 'bigint')
    .execute();
  // An e-mail integration's own address routes mail to it; two integrations cannot share one.
  await db.schema
    .createIndex('integrations_address')
    .unique()
    .on('integrations')
    .column('address')
    .where(sql.ref('address'), 'is not', null)
    .execute();

  await withId('inbound_messages')
    .addColumn('integration_id', 'bigint', (c) => c.notNull().references('integrations.id'))
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('body_encoding', 'text', (c) => c.notNull().defaultTo('utf8'))
    .addColumn('dedup_key', 'text')
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .addColumn('incident_id', 'bigint', (c) => c.references('incidents.id'))
    .addColumn('outcome', 'text')
    .addColumn('processed_at', 'bigint')
    .execute();
  await db.schema.createIndex('inbound_messages_pending').on('inbound_messages').columns(['status', 'received_at']).execute();
  await db.schema
    .createIndex('inbound_messages_integration')
    .on('inbound_messages')
    .columns(['integration_id', 'received_at'])
    .execute();

  await withId('intake_correlations')
    .addColumn('integration_id', 'bigint', (c) => c.notNull().references('integrations.id'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('incident_id', 'bigint', (c) => c.notNull().references('incidents.id'))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // The database itself refuses a second open incident for one alert, event or e-mail: two
  // deliveries processed at the same moment cannot both open one.
  await db.schema
    .createIndex('intake_correlations_active')
    .unique()
    .on('intake_correlations')
    .columns(['integration_id', 'key'])
    .where(sql.ref('active'), '=', 1)
    .execute();
  await db.schema.createIndex('intake_correlations_incident').on('intake_correlations').column('incident_id').execute();
}
