import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

/** Values that are plainly not secret; an instance configured with one refuses to start. */
const WEAK_SECRETS = new Set(['', 'secret', 'changeme', 'change-me', 'palier', 'password', 'default']);
export const MIN_SECRET_LENGTH = 32;

/**
 * The instance secret that signs vendor links, e-mail reply references and the like. Taken from
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
  await db.insertInto('settings').values({ key: 'secret', value: fresh }).onConflict((oc) => oc.column('key').doNothing()).execute();
  const row = await db.selectFrom('settings').select('value').where('key', '=', 'secret').executeTakeFirstOrThrow();
  return row.value;
}

/** Signs and checks short messages with the instance secret (HMAC-SHA256, base64url). */
export class Signer {
  constructor(private readonly secret: string) {}

  sign(purpose: string, message: string): string {
    return createHmac('sha256', this.secret).update(`${purpose}\n${message}`).digest('base64url');
  }

  verify(purpose: string, message: string, signature: string): boolean {
    const expected = Buffer.from(this.sign(purpose, message));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** A token carrying `payload` until `expiresAt`: `payload.expiresAt.signature`, all base64url-safe. */
  token(purpose: string, payload: string, expiresAt: number): string {
    const body = `${Buffer.from(payload).toString('base64url')}.${expiresAt.toString(36)}`;
    return `${body}.${this.sign(purpose, body)}`;
  }

  /** The payload of a valid, unexpired token, or undefined. */
  open(purpose: string, token: string, now: number): string | undefined {
    const [payload, expiry, signature] = token.split('.');
    if (!payload || !expiry || !signature || token.split('.').length !== 3) return undefined;
    if (!this.verify(purpose, `${payload}.${expiry}`, signature)) return undefined;
    if (parseInt(expiry, 36) <= now) return undefined;
    return Buffer.from(payload, 'base64url').toString();
  }
}
