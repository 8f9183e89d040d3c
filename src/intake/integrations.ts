import { createHash, randomBytes } from 'node:crypto';
import { DomainError, forbidden, invalid, notFound, type ErrorDetail } from '../domain/errors.js';
import type { Level } from '../domain/priority.js';
import type { Actor } from '../domain/policy.js';
import type { Services } from '../services/context.js';
import type { IntegrationRow } from '../store/intake.repository.js';
import type { ImapSettings, IntegrationConfig, IntegrationKind, LabelRule } from './rules.js';

/**
 * Integration keys are 128 random bits written as 32 lower-case hex digits: the length of a
 * PagerDuty integration key, so tools that check it accept Palier's, and safe in an e-mail
 * address (anything+<key>@…) whatever case a mail server folds it to.
 */
export function newIntegrationKey(): string {
  return randomBytes(16).toString('hex');
}

export function hashIntegrationKey(key: string): string {
  return createHash('sha256').update(key.trim().toLowerCase()).digest('hex');
}

const KEY_SHAPE = /^[0-9a-f]{32}$/;

export interface Integration {
  id: number;
  kind: IntegrationKind;
  name: string;
  /** The last four characters of the key, to tell keys apart; the key itself is shown once. */
  keyHint: string;
  address: string | null;
  config: IntegrationConfig;
  systemUserId: number;
  enabled: boolean;
  createdAt: number;
  keyRotatedAt: number | null;
}

export function integrationOf(row: IntegrationRow): Integration {
  return {
    id: row.id,
    kind: row.kind as IntegrationKind,
    name: row.name,
    keyHint: row.key_hint,
    address: row.address,
    config: JSON.parse(row.config) as IntegrationConfig,
    systemUserId: row.system_user_id,
    enabled: row.disabled_at == null,
    createdAt: Number(row.created_at),
    keyRotatedAt: row.key_rotated_at == null ? null : Number(row.key_rotated_at),
  };
}

export interface CreateIntegrationInput {
  kind: IntegrationKind;
  name: string;
  category?: string | undefined;
  impact?: Level | undefined;
  urgency?: Level | undefined;
  rules?: LabelRule[] | undefined;
  keyBy?: 'fingerprint' | 'groupKey' | undefined;
  resolveIncidents?: boolean | undefined;
  address?: string | undefined;
  imap?: ImapSettings | undefined;
}

/** Checks the categories an integration names against the current matrix. */
async function checkCategories(s: Services, config: IntegrationConfig): Promise<void> {
  const matrix = await s.matrices.current();
  const known = new Set(matrix?.categories.map((c) => c.key));
  const expected = `expected one of: ${[...known].join(', ')}`;
  const details: ErrorDetail[] = [];
  if (!known.has(config.category)) details.push({ path: 'category', message: expected });
  config.rules.forEach((r, i) => {
    if (r.category !== undefined && !known.has(r.category)) details.push({ path: `rules[${i}].category`, message: expected });
  });
  if (details.length) throw invalid('unknown_category', 'The integration names a category the matrix does not have', details);
}

/**
 * Creates an integration with its own account (a disabled manager without password: it can act
 * on incidents, never sign in) and returns it with its key, which is shown this once only.
 */
export async function createIntegration(
  s: Services,
  actor: Actor,
  input: CreateIntegrationInput,
): Promise<{ integration: Integration; key: string }> {
  if (input.kind !== 'email' && (input.address !== undefined || input.imap !== undefined))
    throw invalid('email_only', 'address and imap belong to e-mail integrations', [
      { path: input.address !== undefined ? 'address' : 'imap', message: 'only for kind "email"' },
    ]);
  if (input.kind !== 'alertmanager' && (input.keyBy !== undefined || input.resolveIncidents !== undefined))
    throw invalid('alertmanager_only', 'keyBy and resolveIncidents belong to Alertmanager integrations', [
      { path: input.keyBy !== undefined ? 'keyBy' : 'resolveIncidents', message: 'only for kind "alertmanager"' },
    ]);
  const matrix = await s.matrices.current();
  const config: IntegrationConfig = {
    category: input.category ?? matrix?.categories[0]?.key ?? '',
    impact: input.impact ?? 2,
    urgency: input.urgency ?? 2,
    rules: input.rules ?? [],
    keyBy: input.keyBy ?? 'fingerprint',
    resolveIncidents: input.resolveIncidents ?? false,
    imap: input.imap ?? null,
  };
  await checkCategories(s, config);
  const address = input.address?.toLowerCase() ?? null;
  if (address && (await s.intake.integrationByAddress(address)))
    throw new DomainError('conflict', 'address_taken', `Another integration already receives mail at ${address}`);
  const key = newIntegrationKey();
  const now = s.clock.now();
  const row = await s.store.db.transaction().execute(async (trx) => {
    const systemUserId = await s.intake.insertPasswordlessUser(trx, {
      email: `integration.${randomBytes(6).toString('hex')}@integrations.invalid`,
      role: 'manager',
      displayName: `${input.name} (integration)`,
      locale: 'en',
      disabled: true,
      at: now,
    });
    return s.intake.insertIntegration(trx, {
      kind: input.kind,
      name: input.name,
      config: JSON.stringify(config),
      key_hash: hashIntegrationKey(key),
      key_hint: key.slice(-4),
      address,
      system_user_id: systemUserId,
      created_by: actor.id,
      created_at: now,
      key_rotated_at: null,
      disabled_at: null,
    });
  });
  return { integration: integrationOf(row), key };
}

export async function getIntegration(s: Services, id: number): Promise<Integration> {
  const row = await s.intake.integration(id);
  if (!row) throw notFound(`Integration ${id}`);
  return integrationOf(row);
}

export async function setIntegrationEnabled(s: Services, id: number, enabled: boolean): Promise<Integration> {
  const row = await s.intake.updateIntegration(id, { disabled_at: enabled ? null : s.clock.now() });
  forgetKeys(s);
  if (!row) throw notFound(`Integration ${id}`);
  return integrationOf(row);
}

/** Replaces the key: the old one stops working at once; the new one is shown this once only. */
export async function rotateIntegrationKey(s: Services, id: number): Promise<{ integration: Integration; key: string }> {
  const key = newIntegrationKey();
  const row = await s.intake.updateIntegration(id, {
    key_hash: hashIntegrationKey(key),
    key_hint: key.slice(-4),
    key_rotated_at: s.clock.now(),
  });
  forgetKeys(s);
  if (!row) throw notFound(`Integration ${id}`);
  return { integration: integrationOf(row), key };
}

/**
 * Key lookups are remembered for one second, so an alert storm costs one lookup per second and
 * sender. Changes made through this process forget them at once; other processes within that second.
 */
const KEY_CACHE_MS = 1000;
const keyCaches = new WeakMap<Services['intake'], Map<string, { row: IntegrationRow | undefined; until: number }>>();

async function byKeyHash(s: Services, hash: string): Promise<IntegrationRow | undefined> {
  let cache = keyCaches.get(s.intake);
  if (!cache) keyCaches.set(s.intake, (cache = new Map()));
  const now = s.clock.now();
  const hit = cache.get(hash);
  if (hit && now < hit.until) return hit.row;
  const row = await s.intake.integrationByKeyHash(hash);
  if (cache.size >= 10_000) cache.clear();
  cache.set(hash, { row, until: now + KEY_CACHE_MS });
  return row;
}

function forgetKeys(s: Services): void {
  keyCaches.get(s.intake)?.clear();
}

/**
 * The integration a key belongs to. An unknown key is 401; a disabled integration, or a key of
 * another kind of integration, is 403.
 */
export async function integrationForKey(s: Services, key: string | undefined, kind: IntegrationKind): Promise<Integration> {
  if (!key || !KEY_SHAPE.test(key.trim().toLowerCase()))
    throw new DomainError(
      'unauthorized',
      'invalid_integration_key',
      'An integration key is required (32 hexadecimal characters)',
    );
  const row = await byKeyHash(s, hashIntegrationKey(key));
  if (!row) throw new DomainError('unauthorized', 'invalid_integration_key', 'The integration key is unknown or was rotated');
  const integration = integrationOf(row);
  if (!integration.enabled) throw forbidden('This integration is disabled');
  if (integration.kind !== kind) throw forbidden(`This key belongs to a ${integration.kind} integration, not ${kind}`);
  return integration;
}

/**
 * The e-mail integration a recipient address reaches: `anything+<key>@any.domain`,
 * `<key>@any.domain`, or the address an integration was configured with. Disabled ones reach none.
 */
export async function integrationForRecipient(s: Services, address: string): Promise<Integration | undefined> {
  const lower = address.trim().toLowerCase();
  const local = lower.split('@')[0] ?? '';
  const tagged = /(?:^|\+)([0-9a-f]{32})$/.exec(local)?.[1];
  const row = tagged
    ? await s.intake.integrationByKeyHash(hashIntegrationKey(tagged))
    : await s.intake.integrationByAddress(lower);
  if (!row) return undefined;
  const integration = integrationOf(row);
  return integration.enabled && integration.kind === 'email' ? integration : undefined;
}
