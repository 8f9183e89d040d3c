import type { Kysely } from 'kysely';
import type { Engine } from '../database.js';

/** A single sign-on session keeps the provider's ID token, so that signing out of Palier can sign out there too. */
export async function up(db: Kysely<unknown>, _engine: Engine): Promise<void> {
  await db.schema.alterTable('api_tokens').addColumn('id_token', 'text').execute();
}
