import type { Transaction } from 'kysely';
import type { Actor } from '../domain/policy.js';
import type { Services } from '../services/context.js';
import type { InboundMessageRow } from '../store/intake.repository.js';
import type { Database } from '../store/schema.js';
import type { Integration } from './integrations.js';

/** What each inbound channel provides to the inbox (src/intake/inbox.ts), and what it gets back. */

export interface Outcome {
  status: 'processed' | 'rejected';
  /** The incident the message opened or updated (the first one, for an alert group keyed by fingerprint). */
  incidentId: number | null;
  /** What happened, for the message log: incidents opened, updated, duplicates, ignored. */
  detail: Record<string, unknown>;
  error?: string;
}

export interface Handler<P> {
  /** Parses the stored body, outside the transaction; a failure here rejects the message. */
  prepare(message: InboundMessageRow): Promise<P> | P;
  apply(
    s: Services,
    trx: Transaction<Database>,
    integration: Integration,
    message: InboundMessageRow,
    prepared: P,
  ): Promise<Outcome>;
}

/** The account an integration acts as on incidents. */
export function integrationActor(integration: Integration): Actor {
  return { id: integration.systemUserId, role: 'manager', tiers: [] };
}

export function encodeBody(body: string | Buffer): { body: string; bodyEncoding: 'utf8' | 'base64' } {
  if (typeof body === 'string') return { body, bodyEncoding: 'utf8' };
  const text = body.toString('utf8');
  // Text columns cannot hold NUL, and bytes that are not UTF-8 must come back unchanged.
  if (!text.includes('\u0000') && Buffer.from(text, 'utf8').equals(body)) return { body: text, bodyEncoding: 'utf8' };
  return { body: body.toString('base64'), bodyEncoding: 'base64' };
}

export function decodeBody(message: InboundMessageRow): Buffer {
  return Buffer.from(message.body, message.body_encoding === 'base64' ? 'base64' : 'utf8');
}
