import type { Kysely } from 'kysely';
import type { Engine } from '../database.js';

/**
 * The vendor directory (level X): who a vendor is, which categories it covers, how to reach it and
 * the response targets of its support contract. Vendor contacts are users tied to one vendor.
 */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  await db.schema
    .createTable('vendors')
    .addColumn('id', engine === 'sqlite' ? 'integer' : 'bigserial', (c) =>
      engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
    )
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('categories', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('phone', 'text')
    .addColumn('locale', 'text', (c) => c.notNull())
    .addColumn('contract_ref', 'text')
    .addColumn('acknowledge', 'text')
    .addColumn('resolve', 'text')
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    // The account the vendor's answers through its signed link are recorded as.
    .addColumn('system_user_id', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .alterTable('users')
    .addColumn('vendor_id', 'bigint', (c) => c.references('vendors.id'))
    .execute();
  // A vendor contact's lists read incidents by vendor.
  await db.schema.createIndex('incidents_vendor').on('incidents').columns(['vendor_id', 'created_at']).execute();
}
