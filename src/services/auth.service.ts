import { createHash, randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { conflict, DomainError, invalid, notFound } from '../domain/errors.js';
import type { Actor, Role } from '../domain/policy.js';
import { UserRepository, type ApiToken, type NewUser, type User } from '../store/user.repository.js';
import type { Services } from './context.js';

/** Tokens carry 256 random bits; only their SHA-256 is stored, so a database leak reveals none. */
export function newToken(): { token: string; hash: string } {
  const token = `plr_${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

// Verifying against a throwaway hash when the e-mail is unknown keeps both paths equally slow.
let decoyHash: Promise<string> | undefined;

export async function issueToken(
  s: Services,
  email: string,
  password: string,
  kind: 'api' | 'session',
  ttlMs: number,
  name: string | null = null,
): Promise<{ token: string; tokenId: number; user: User; expiresAt: number | null }> {
  const user = await s.users.byEmail(email);
  decoyHash ??= hash(randomBytes(16).toString('hex'));
  const ok = await verify(user?.passwordHash ?? (await decoyHash), password).catch(() => false);
  if (!user || !user.passwordHash || !ok || user.disabled)
    throw new DomainError('unauthorized', 'invalid_credentials', 'E-mail or password is wrong');
  const { passwordHash: _omit, ...publicUser } = user;
  return { ...(await issueTokenFor(s, publicUser, kind, ttlMs, name)), user: publicUser };
}

/** A new token for a user whose identity was proven some other way (single sign-on, with its ID token). */
export async function issueTokenFor(
  s: Services,
  user: User,
  kind: 'api' | 'session',
  ttlMs: number,
  name: string | null = null,
  idToken: string | null = null,
): Promise<{ token: string; tokenId: number; expiresAt: number | null }> {
  const { token, hash: tokenHash } = newToken();
  const now = s.clock.now();
  const expiresAt = ttlMs > 0 ? now + ttlMs : null;
  const tokenId = await s.users.insertToken(user.id, tokenHash, kind, now, expiresAt, name, idToken);
  return { token, tokenId, expiresAt };
}

/**
 * Who a token stands for. Answers are kept for one second, so a burst of requests with one token
 * costs one lookup; revoking a token or changing a user through this process forgets them at
 * once, other processes within that second. Expiry is checked on every call.
 */
const TOKEN_CACHE_MS = 1000;
interface TokenCache {
  entries: Map<string, { actor: Actor; expiresAt: number | null; until: number }>;
  /** Bumped by every revocation or user change: a lookup that overlapped one is not remembered. */
  epoch: number;
}
const tokenCaches = new WeakMap<Services['users'], TokenCache>();

function tokenCache(s: Services): TokenCache {
  let cache = tokenCaches.get(s.users);
  if (!cache) tokenCaches.set(s.users, (cache = { entries: new Map(), epoch: 0 }));
  return cache;
}

export async function actorForToken(s: Services, token: string): Promise<Actor | undefined> {
  const hash = hashToken(token);
  const now = s.clock.now();
  const cache = tokenCache(s);
  const hit = cache.entries.get(hash);
  if (hit && now < hit.until && (hit.expiresAt === null || now < hit.expiresAt)) return hit.actor;
  let epoch = cache.epoch;
  let found = await s.users.actorForToken(hash, now);
  // A revocation that landed during the lookup may not be in its answer: ask again, after it.
  if (cache.epoch !== epoch) {
    epoch = cache.epoch;
    found = await s.users.actorForToken(hash, now);
  }
  if (!found) {
    cache.entries.delete(hash);
    return undefined;
  }
  const actor: Actor = { id: found.id, role: found.role, tiers: found.tiers, vendorId: found.vendorId ?? null };
  if (cache.epoch === epoch) {
    if (cache.entries.size >= 10_000) cache.entries.clear();
    cache.entries.set(hash, { actor, expiresAt: found.expiresAt, until: now + TOKEN_CACHE_MS });
  }
  return actor;
}

function forgetToken(s: Services, hash: string) {
  const cache = tokenCache(s);
  cache.epoch++;
  cache.entries.delete(hash);
}

/** Drops every remembered token of a user, so a change to their account counts from the next request. */
function forgetUser(s: Services, userId: number) {
  const cache = tokenCache(s);
  cache.epoch++;
  for (const [hash, entry] of cache.entries) if (entry.actor.id === userId) cache.entries.delete(hash);
}

/** Revokes a token; answers the ID token a single sign-on session kept, for the provider's sign-out. */
export async function revokeToken(s: Services, token: string): Promise<string | null> {
  const hash = hashToken(token);
  const revoked = await s.users.revokeToken(hash, s.clock.now());
  forgetToken(s, hash);
  return revoked?.idToken ?? null;
}

/** A new API token for the signed-in user, named, optionally expiring; the secret is returned once. */
export async function createApiToken(
  s: Services,
  actor: Actor,
  name: string,
  ttlMs: number | null,
): Promise<{ token: string; id: number; expiresAt: number | null; createdAt: number }> {
  const { token, hash: tokenHash } = newToken();
  const now = s.clock.now();
  const expiresAt = ttlMs ? now + ttlMs : null;
  const id = await s.users.insertToken(actor.id, tokenHash, 'api', now, expiresAt, name);
  return { token, id, expiresAt, createdAt: now };
}

export async function listTokens(s: Services, actor: Actor): Promise<ApiToken[]> {
  return s.users.activeTokens(actor.id, s.clock.now());
}

/** Revokes one of the actor's own tokens; another user's token id is answered as unknown. */
export async function revokeTokenById(s: Services, actor: Actor, id: number): Promise<void> {
  const hash = await s.users.revokeTokenById(actor.id, id, s.clock.now());
  if (!hash) throw notFound(`Token ${id}`);
  forgetToken(s, hash);
}

export interface UserChange {
  role?: Role | undefined;
  tiers?: string[] | undefined;
  displayName?: string | undefined;
  locale?: 'fr' | 'en' | undefined;
  disabled?: boolean | undefined;
  /** The vendor of a vendor contact. */
  vendorId?: number | null | undefined;
}

/**
 * Changes a user (administrators). Disabling ends every session and token of the user at once;
 * a role or tier change applies from their next request. Administrators cannot disable or demote
 * themselves, so Palier always keeps one.
 */
export async function changeUser(
  s: Services,
  actor: Actor,
  id: number,
  change: UserChange,
): Promise<{ before: User; after: User; tokensRevoked: number }> {
  const before = await s.users.byId(id);
  if (!before) throw notFound(`User ${id}`);
  if (id === actor.id && (change.disabled === true || (change.role !== undefined && change.role !== before.role)))
    throw conflict('own_account', 'Administrators cannot disable or demote themselves');
  const role = change.role ?? before.role;
  const tiers = change.tiers ?? (change.role !== undefined && change.role !== 'agent' ? [] : before.tiers);
  await checkTiers(s, role, tiers);
  // A vendor contact always speaks for one vendor; nobody else does.
  const vendorId =
    role === 'vendor' ? (change.vendorId !== undefined ? change.vendorId : before.vendorId) : (change.vendorId ?? null);
  await checkVendor(s, role, vendorId);
  const now = s.clock.now();
  const removesAdmin = before.role === 'admin' && ((change.role !== undefined && change.role !== 'admin') || change.disabled === true);
  const { after, tokensRevoked } = await s.store.db.transaction().execute(async (trx) => {
    if (removesAdmin) {
      // Two admins demoting each other at once must not leave Palier with none: the active admins are
      // locked (PostgreSQL; SQLite writes one transaction at a time) and counted before the change.
      let admins = trx.selectFrom('users').select('id').where('role', '=', 'admin').where('disabled_at', 'is', null);
      if (s.store.engine === 'postgres') admins = admins.forUpdate();
      if (!(await admins.execute()).some((a) => Number(a.id) !== id))
        throw conflict('last_admin', 'Palier needs at least one active administrator');
    }
    const users = new UserRepository(trx);
    const after = await users.update(id, {
      ...(vendorId !== before.vendorId ? { vendorId } : {}),
      ...(change.role !== undefined ? { role: change.role } : {}),
      ...(change.tiers !== undefined || change.role !== undefined ? { tiers } : {}),
      ...(change.displayName !== undefined ? { displayName: change.displayName } : {}),
      ...(change.locale !== undefined ? { locale: change.locale } : {}),
      ...(change.disabled !== undefined ? { disabledAt: change.disabled ? now : null } : {}),
    });
    if (!after) throw notFound(`User ${id}`);
    return { after, tokensRevoked: change.disabled ? await users.revokeAllTokens(id, now) : 0 };
  });
  forgetUser(s, id);
  return { before, after, tokensRevoked };
}

export interface AddUserInput {
  email: string;
  password?: string | undefined;
  role: Role;
  displayName?: string | undefined;
  locale?: 'fr' | 'en' | undefined;
  tiers?: string[] | undefined;
  vendorId?: number | undefined;
}

/** Creates a user; agents must belong to at least one tier of the current matrix. */
export async function addUser(s: Services, input: AddUserInput): Promise<User> {
  const tiers = input.tiers ?? [];
  await checkTiers(s, input.role, tiers);
  await checkVendor(s, input.role, input.vendorId ?? null);
  if (await s.users.byEmail(input.email))
    throw new DomainError('conflict', 'email_taken', `A user with e-mail ${input.email} already exists`);
  const user: NewUser = {
    email: input.email,
    passwordHash: input.password ? await hash(input.password) : null,
    role: input.role,
    displayName: input.displayName ?? input.email.split('@')[0]!,
    locale: input.locale ?? 'fr',
    tiers,
    vendorId: input.vendorId ?? null,
  };
  return s.users.insert(user, s.clock.now());
}

/** Vendor contacts name an existing vendor; other roles none. */
async function checkVendor(s: Services, role: Role, vendorId: number | null): Promise<void> {
  if (role === 'vendor') {
    if (vendorId == null)
      throw invalid('vendor_required', 'A vendor contact needs a vendor', [{ path: 'vendorId', message: 'the id of a vendor' }]);
    if (!(await s.vendors.byId(vendorId)))
      throw invalid('unknown_vendor', `Vendor ${vendorId} does not exist`, [{ path: 'vendorId', message: 'no such vendor' }]);
  } else if (vendorId != null) {
    throw invalid('vendor_for_vendor_contacts_only', 'Only vendor contacts belong to a vendor', [
      { path: 'vendorId', message: 'remove, or use role vendor' },
    ]);
  }
}

/** Agents must belong to at least one tier of the current matrix; other roles to none. */
async function checkTiers(s: Services, role: Role, tiers: string[]): Promise<void> {
  if (role === 'agent') {
    if (tiers.length === 0) throw invalid('tier_required', 'An agent needs at least one tier', [{ path: 'tiers', message: 'e.g. ["L1"]' }]);
    const matrix = await s.matrices.current();
    const known = new Set(matrix?.tiers.map((t) => t.key));
    const unknown = tiers.filter((t) => !known.has(t));
    if (unknown.length)
      throw invalid('unknown_tier', `Unknown tier ${unknown.join(', ')}`, [
        { path: 'tiers', message: `expected some of: ${[...known].join(', ')}` },
      ]);
  } else if (tiers.length > 0) {
    throw invalid('tiers_for_agents_only', 'Only agents belong to tiers', [{ path: 'tiers', message: 'remove, or use role agent' }]);
  }
}
