import { sql, type Kysely } from 'kysely';

/**
 * Tier queues list open incidents in priority order. A flag for "open" lets one index serve that
 * order directly, instead of collecting four statuses and sorting them on every request.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('incidents').addColumn('is_open', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await sql`update incidents set is_open = case when status in ('resolved', 'closed') then 0 else 1 end`.execute(db);
  await db.schema.createIndex('incidents_open_queue').on('incidents').columns(['is_open', 'tier', 'priority', 'created_at']).execute();
}
