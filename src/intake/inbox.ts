import { DomainError } from '../domain/errors.js';
import type { Services } from '../services/context.js';
import type { InboundMessageRow } from '../store/intake.repository.js';
import { alertmanagerHandler } from './alertmanager.js';
import { emailHandler } from './email.js';
import { eventsV2Handler } from './events-v2.js';
import { integrationOf, type Integration } from './integrations.js';
import { encodeBody, type Handler } from './message.js';
import type { IntegrationKind } from './rules.js';

/**
 * Store, then process. Every inbound message is first written as received, in its own committed
 * write; processing then runs in one transaction that opens or updates incidents (through the
 * incident service, with their events, outbox rows and wake-ups) and marks the message processed.
 * A crash between the two leaves the message received, and the sweep processes it later. The
 * correlation keys (unique while active) make a message processed twice, or an alert delivered
 * twice, touch its incident once.
 */

const HANDLERS: Record<IntegrationKind, Handler<never>> = {
  alertmanager: alertmanagerHandler as Handler<never>,
  'events-v2': eventsV2Handler as Handler<never>,
  email: emailHandler as Handler<never>,
};

/** After this many failed attempts a message is kept as rejected instead of retried. */
const MAX_ATTEMPTS = 5;

/** Writes the message as received, in its own committed write; nothing is processed yet. */
export async function storeMessage(
  s: Services,
  integration: Integration,
  body: string | Buffer,
  dedupKey: string | null,
): Promise<InboundMessageRow> {
  return s.intake.insertMessage({
    integrationId: integration.id,
    channel: integration.kind,
    ...encodeBody(body),
    dedupKey,
    receivedAt: s.clock.now(),
  });
}

/** storeMessage, returning the message's id. */
export async function receive(
  s: Services,
  integration: Integration,
  body: string | Buffer,
  dedupKey: string | null,
): Promise<number> {
  return (await storeMessage(s, integration, body, dedupKey)).id;
}

export interface ProcessResult {
  messageId: number;
  status: 'received' | 'processed' | 'rejected';
  incidentId: number | null;
  detail: Record<string, unknown> | null;
  error: string | null;
}

function resultOf(row: InboundMessageRow): ProcessResult {
  return {
    messageId: row.id,
    status: row.status as ProcessResult['status'],
    incidentId: row.incident_id,
    detail: row.outcome ? (JSON.parse(row.outcome) as Record<string, unknown>) : null,
    error: row.error,
  };
}

const isUniqueViolation = (e: unknown) => {
  const code = (e as { code?: string }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
};

/** A failure that trying again may cure: a race with another process, or the database. */
const isTransient = (e: unknown) =>
  isUniqueViolation(e) || (e instanceof DomainError ? e.code === 'concurrent_update' || e.kind === 'unavailable' : true);

/**
 * Processes one stored message, exactly once: the message row is claimed inside the transaction,
 * so a second process (or the sweep) that reaches it afterwards finds it processed and does nothing.
 * A caller that has just stored the message passes it with its integration, saving two reads.
 */
export async function processMessage(
  s: Services,
  id: number,
  known?: { message: InboundMessageRow; integration: Integration },
): Promise<ProcessResult> {
  const stored = known?.message ?? (await s.intake.message(id));
  if (!stored) throw new Error(`inbound message ${id} does not exist`);
  if (stored.status !== 'received') return resultOf(stored);
  const handler = HANDLERS[stored.channel as IntegrationKind];
  let prepared: unknown;
  try {
    if (!handler) throw new DomainError('invalid', 'unknown_channel', `No handler for channel ${stored.channel}`);
    prepared = await handler.prepare(stored);
  } catch (error) {
    await s.intake.failedAttempt(id, messageOf(error), true, s.clock.now());
    return resultOf((await s.intake.message(id))!);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      const done = await s.store.db.transaction().execute(async (trx) => {
        const message = await s.intake.claimMessage(trx, id);
        if (!message) return undefined; // processed meanwhile by another process
        let integration = known?.integration;
        if (!integration) {
          const row = await s.intake.integration(message.integration_id, trx);
          if (!row) throw new DomainError('invalid', 'unknown_integration', 'The integration no longer exists');
          integration = integrationOf(row);
        }
        const outcome = await handler.apply(s, trx, integration, message, prepared as never);
        await s.intake.finishMessage(trx, id, {
          status: outcome.status,
          incidentId: outcome.incidentId,
          outcome: outcome.detail,
          error: outcome.error ?? null,
          at: s.clock.now(),
        });
        return outcome;
      });
      if (done)
        return {
          messageId: id,
          status: done.status,
          incidentId: done.incidentId,
          detail: done.detail,
          error: done.error ?? null,
        };
      break;
    } catch (error) {
      // Two deliveries of one alert racing on PostgreSQL: the loser sees the winner's incident on a retry.
      if (isTransient(error) && attempt < 3) continue;
      const after = await s.intake.message(id);
      await s.intake.failedAttempt(
        id,
        messageOf(error),
        !isTransient(error) || (after?.attempts ?? 0) + 1 >= MAX_ATTEMPTS,
        s.clock.now(),
      );
      break;
    }
  }
  return resultOf((await s.intake.message(id))!);
}

function messageOf(error: unknown): string {
  if (error instanceof DomainError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Processes the messages still marked received (left by a crash, or by a database that failed
 * for a moment), oldest first. Returns how many it looked at.
 */
export async function sweep(s: Services, receivedBefore: number = s.clock.now()): Promise<number> {
  const seen = new Set<number>();
  for (;;) {
    const ids = (await s.intake.receivedIds(receivedBefore, 100 + seen.size)).filter((id) => !seen.has(id));
    if (ids.length === 0) return seen.size;
    for (const id of ids) {
      seen.add(id);
      await processMessage(s, id);
    }
  }
}
