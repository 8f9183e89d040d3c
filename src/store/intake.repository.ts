import type { Kysely, Selectable } from 'kysely';
import type { Engine } from './database.js';
import type { Database, InboundMessagesTable, IntakeCorrelationsTable, IntegrationsTable } from './schema.js';

export type IntegrationRow = Selectable<IntegrationsTable>;
export type InboundMessageRow = Selectable<InboundMessagesTable>;
export type CorrelationRow = Selectable<IntakeCorrelationsTable>;

export type MessageStatus = 'received' | 'processed' | 'rejected';

/** Integrations, the inbound messages they deliver, and the keys tying alerts and e-mails to incidents. */
export class IntakeRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
  ) {}

  async insertIntegration(db: Kysely<Database>, row: Omit<IntegrationRow, 'id'>): Promise<IntegrationRow> {
    const inserted = await db.insertInto('integrations').values(row).returningAll().executeTakeFirstOrThrow();
    return normalise(inserted);
  }

  async integration(id: number, db: Kysely<Database> = this.db): Promise<IntegrationRow | undefined> {
    const row = await db.selectFrom('integrations').selectAll().where('id', '=', id).executeTakeFirst();
    return row && normalise(row);
  }

  async integrationByKeyHash(keyHash: string): Promise<IntegrationRow | undefined> {
    const row = await this.db.selectFrom('integrations').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
    return row && normalise(row);
  }

  async integrationByAddress(address: string): Promise<IntegrationRow | undefined> {
    const row = await this.db
      .selectFrom('integrations')
      .selectAll()
      .where('address', '=', address.toLowerCase())
      .executeTakeFirst();
    return row && normalise(row);
  }

  async integrations(limit: number, offset: number, kind?: string): Promise<IntegrationRow[]> {
    let q = this.db.selectFrom('integrations').selectAll().orderBy('id').limit(limit).offset(offset);
    if (kind) q = q.where('kind', '=', kind);
    return (await q.execute()).map(normalise);
  }

  async updateIntegration(
    id: number,
    patch: Partial<
      Pick<IntegrationRow, 'name' | 'config' | 'key_hash' | 'key_hint' | 'address' | 'key_rotated_at' | 'disabled_at'>
    >,
  ): Promise<IntegrationRow | undefined> {
    const row = await this.db.updateTable('integrations').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
    return row && normalise(row);
  }

  /** Stores a message as received, in its own committed write, before anything is done with it. */
  async insertMessage(row: {
    integrationId: number;
    channel: string;
    body: string;
    bodyEncoding: 'utf8' | 'base64';
    dedupKey: string | null;
    receivedAt: number;
  }): Promise<InboundMessageRow> {
    const inserted = await this.db
      .insertInto('inbound_messages')
      .values({
        integration_id: row.integrationId,
        channel: row.channel,
        body: row.body,
        body_encoding: row.bodyEncoding,
        dedup_key: row.dedupKey,
        received_at: row.receivedAt,
        status: 'received',
        attempts: 0,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return normaliseMessage(inserted);
  }

  async message(id: number, db: Kysely<Database> = this.db): Promise<InboundMessageRow | undefined> {
    const row = await db.selectFrom('inbound_messages').selectAll().where('id', '=', id).executeTakeFirst();
    return row && normaliseMessage(row);
  }

  /**
   * Takes a received message for processing inside `trx`. On PostgreSQL the row stays locked until
   * commit, and a process that waited for the lock sees it processed and gets nothing; SQLite
   * transactions already hold the write lock.
   */
  async claimMessage(trx: Kysely<Database>, id: number): Promise<InboundMessageRow | undefined> {
    let q = trx.selectFrom('inbound_messages').selectAll().where('id', '=', id).where('status', '=', 'received');
    if (this.engine === 'postgres') q = q.forUpdate();
    const row = await q.executeTakeFirst();
    return row && normaliseMessage(row);
  }

  async finishMessage(
    db: Kysely<Database>,
    id: number,
    result: {
      status: Exclude<MessageStatus, 'received'>;
      incidentId: number | null;
      outcome: unknown;
      error: string | null;
      at: number;
    },
  ): Promise<void> {
    await db
      .updateTable('inbound_messages')
      .set({
        status: result.status,
        incident_id: result.incidentId,
        outcome: JSON.stringify(result.outcome),
        error: result.error,
        processed_at: result.at,
      })
      .where('id', '=', id)
      .execute();
  }

  /** Counts a failed attempt; the message stays received (to be retried) unless `reject` says otherwise. */
  async failedAttempt(id: number, error: string, reject: boolean, at: number): Promise<void> {
    await this.db
      .updateTable('inbound_messages')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        error,
        ...(reject ? { status: 'rejected', processed_at: at } : {}),
      }))
      .where('id', '=', id)
      .where('status', '=', 'received')
      .execute();
  }

  /** Messages still waiting to be processed, oldest first. */
  async receivedIds(receivedBefore: number, limit: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('inbound_messages')
      .select('id')
      .where('status', '=', 'received')
      .where('received_at', '<=', receivedBefore)
      .orderBy('received_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => Number(r.id));
  }

  async messages(integrationId: number, limit: number, offset: number): Promise<InboundMessageRow[]> {
    const rows = await this.db
      .selectFrom('inbound_messages')
      .selectAll()
      .where('integration_id', '=', integrationId)
      .orderBy('id', 'desc')
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map(normaliseMessage);
  }

  /** The active correlation for a key of an integration, locked until commit on PostgreSQL. */
  async correlation(trx: Kysely<Database>, integrationId: number, key: string): Promise<CorrelationRow | undefined> {
    let q = trx
      .selectFrom('intake_correlations')
      .selectAll()
      .where('integration_id', '=', integrationId)
      .where('key', '=', key)
      .where('active', '=', 1);
    if (this.engine === 'postgres') q = q.forUpdate();
    const row = await q.executeTakeFirst();
    return row && normaliseCorrelation(row);
  }

  async insertCorrelation(
    trx: Kysely<Database>,
    row: { integrationId: number; key: string; incidentId: number; state: string; detail: unknown; at: number },
  ): Promise<void> {
    await trx
      .insertInto('intake_correlations')
      .values({
        integration_id: row.integrationId,
        key: row.key,
        incident_id: row.incidentId,
        state: row.state,
        detail: row.detail === undefined ? null : JSON.stringify(row.detail),
        active: 1,
        created_at: row.at,
        updated_at: row.at,
      })
      .execute();
  }

  async updateCorrelation(
    trx: Kysely<Database>,
    id: number,
    patch: { state?: string; detail?: unknown; active?: boolean; at: number },
  ): Promise<void> {
    await trx
      .updateTable('intake_correlations')
      .set({
        updated_at: patch.at,
        ...(patch.state !== undefined ? { state: patch.state } : {}),
        ...(patch.detail !== undefined ? { detail: JSON.stringify(patch.detail) } : {}),
        ...(patch.active !== undefined ? { active: patch.active ? 1 : 0 } : {}),
      })
      .where('id', '=', id)
      .execute();
  }

  /** A user by e-mail, read inside the caller's transaction. */
  async userByEmail(trx: Kysely<Database>, email: string) {
    return trx
      .selectFrom('users')
      .select(['id', 'role', 'tiers', 'disabled_at', 'vendor_id'])
      .where('email', '=', email.toLowerCase())
      .executeTakeFirst();
  }

  /** A user without a password (an integration's own account, or a requester known by e-mail only). */
  async insertPasswordlessUser(
    trx: Kysely<Database>,
    user: { email: string; role: string; displayName: string; locale: string; disabled: boolean; at: number },
  ): Promise<number> {
    const row = await trx
      .insertInto('users')
      .values({
        email: user.email.toLowerCase(),
        password_hash: null,
        role: user.role,
        display_name: user.displayName,
        locale: user.locale,
        tiers: '[]',
        disabled_at: user.disabled ? user.at : null,
        created_at: user.at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  async renameUser(trx: Kysely<Database>, id: number, displayName: string): Promise<void> {
    await trx.updateTable('users').set({ display_name: displayName }).where('id', '=', id).execute();
  }
}

// PostgreSQL returns bigint columns as numbers (see database.ts), SQLite as numbers: ids are normalised once here.
function normalise(r: IntegrationRow): IntegrationRow {
  return { ...r, id: Number(r.id), system_user_id: Number(r.system_user_id) };
}

function normaliseMessage(r: InboundMessageRow): InboundMessageRow {
  return {
    ...r,
    id: Number(r.id),
    integration_id: Number(r.integration_id),
    incident_id: r.incident_id == null ? null : Number(r.incident_id),
    received_at: Number(r.received_at),
  };
}

function normaliseCorrelation(r: CorrelationRow): CorrelationRow {
  return { ...r, id: Number(r.id), incident_id: Number(r.incident_id) };
}
