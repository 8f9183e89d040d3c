import type { Kysely } from 'kysely';

/** The instance secret, and where an incident handed to a vendor stands with it. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema.alterTable('incidents').addColumn('vendor_id', 'bigint').execute();
  await db.schema.alterTable('incidents').addColumn('vendor_ticket', 'text').execute();
  await db.schema.alterTable('incidents').addColumn('vendor_status', 'text').execute();
}
