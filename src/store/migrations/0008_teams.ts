import { sql, type Kysely } from 'kysely';
import type { Engine } from '../database.js';

/** Tier teams (who is reached at a tier), their members and managers, on-call rotation and overrides. */
export async function up(db: Kysely<unknown>, engine: Engine): Promise<void> {
  const withId = (table: string) =>
    db.schema
      .createTable(table)
      .addColumn('id', engine === 'sqlite' ? 'integer' : 'bigserial', (c) =>
        engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
      );

  await withId('teams')
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('tier', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('chat_webhook_url', 'text')
    .addColumn('rotation_starts_at', 'bigint', (c) => c.notNull())
    .addColumn('rotation_period', 'text', (c) => c.notNull())
    .addColumn('rotation_handover_time', 'text', (c) => c.notNull())
    .addColumn('rotation_time_zone', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('teams_tier').on('teams').column('tier').execute();

  await db.schema
    .createTable('team_members')
    .addColumn('team_id', 'bigint', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('team_members_pk', ['team_id', 'user_id'])
    .execute();
  await db.schema.createIndex('team_members_user').on('team_members').column('user_id').execute();

  await withId('oncall_overrides')
    .addColumn('team_id', 'bigint', (c) => c.notNull().references('teams.id').onDelete('cascade'))
    .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
    .addColumn('starts_at', 'bigint', (c) => c.notNull())
    .addColumn('ends_at', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('created_by', 'bigint', (c) => c.references('users.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addCheckConstraint('oncall_overrides_window', sql`ends_at > starts_at`)
    .execute();
  await db.schema.createIndex('oncall_overrides_team_end').on('oncall_overrides').columns(['team_id', 'ends_at']).execute();
}
