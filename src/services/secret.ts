import { createHmac, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

/** Values that are plainly not secret; an instance configured with one refuses to start. */
const WEAK_SECRETS = new Set(['', 'secret', 'changeme', 'change-me', 'palier', 'password', 'default']);
export const MIN_SECRET_LENGTH = 32;

/**
 * The instance secret that signs e-mail reply references and the like. Taken from
 * PALIER_SECRET when set (and refused when weak); otherwise generated once, at random, and kept in
 * the database so every process sharing it signs alike.
 */
export async function loadSecret(db: Kysely<Database>, configured: string | undefined): Promise<string> {
  if (configured !== undefined) {
    if (WEAK_SECRETS.has(configured.trim().toLowerCase()) || configured.length < MIN_SECRET_LENGTH)
      throw new Error(`PALIER_SECRET must be a random value of at least ${MIN_SECRET_LENGTH} characters`);
    return configured;
  }
  const fresh = randomBytes(32).toString('base64url');
  await db
    .insertInto('settings')
    .values({ key: 'secret', value: fresh })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db.selectFrom('settings').select('value').where('key', '=', 'secret').executeTakeFirstOrThrow();
  return row.value;
}

/** Signs short messages with the instance secret (HMAC-SHA256, base64url). */
export class Signer {
  constructor(private readonly secret: string) {}

  sign(purpose: string, message: string): string {
    return createHmac('sha256', this.secret).update(`${purpose}\n${message}`).digest('base64url');
  }
}
