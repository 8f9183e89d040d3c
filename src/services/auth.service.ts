import { createHash, randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { DomainError, invalid } from '../domain/errors.js';
import type { Actor, Role } from '../domain/policy.js';
import type { NewUser, User } from '../store/user.repository.js';
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
): Promise<{ token: string; user: User; expiresAt: number | null }> {
  const user = await s.users.byEmail(email);
  decoyHash ??= hash(randomBytes(16).toString('hex'));
  const ok = await verify(user?.passwordHash ?? (await decoyHash), password).catch(() => false);
  if (!user || !user.passwordHash || !ok || user.disabled)
    throw new DomainError('unauthorized', 'invalid_credentials', 'E-mail or password is wrong');
  const { token, hash: tokenHash } = newToken();
  const now = s.clock.now();
  const expiresAt = ttlMs > 0 ? now + ttlMs : null;
  await s.users.insertToken(user.id, tokenHash, kind, now, expiresAt);
  const { passwordHash: _omit, ...publicUser } = user;
  return { token, user: publicUser, expiresAt };
}

/**
 * Who a token stands for. Answers are kept for one second, so a burst of requests with one token
 * costs one lookup; revoking through this process forgets the token at once, other processes
 * within that second. Expiry is checked on every call.
 */
const TOKEN_CACHE_MS = 1000;
const tokenCaches = new WeakMap<Services['users'], Map<string, { actor: Actor; expiresAt: number | null; until: number }>>();

export async function actorForToken(s: Services, token: string): Promise<Actor | undefined> {
  const hash = hashToken(token);
  const now = s.clock.now();
  let cache = tokenCaches.get(s.users);
  if (!cache) tokenCaches.set(s.users, (cache = new Map()));
  const hit = cache.get(hash);
  if (hit && now < hit.until && (hit.expiresAt === null || now < hit.expiresAt)) return hit.actor;
  const found = await s.users.actorForToken(hash, now);
  if (!found) {
    cache.delete(hash);
    return undefined;
  }
  const actor = { id: found.id, role: found.role, tiers: found.tiers };
  if (cache.size >= 10_000) cache.clear();
  cache.set(hash, { actor, expiresAt: found.expiresAt, until: now + TOKEN_CACHE_MS });
  return actor;
}

export async function revokeToken(s: Services, token: string): Promise<void> {
  const hash = hashToken(token);
  await s.users.revokeToken(hash, s.clock.now());
  tokenCaches.get(s.users)?.delete(hash);
}

export interface AddUserInput {
  email: string;
  password?: string | undefined;
  role: Role;
  displayName?: string | undefined;
  locale?: 'fr' | 'en' | undefined;
  tiers?: string[] | undefined;
}

/** Creates a user; agents must belong to at least one tier of the current matrix. */
export async function addUser(s: Services, input: AddUserInput): Promise<User> {
  const tiers = input.tiers ?? [];
  if (input.role === 'agent') {
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
  if (await s.users.byEmail(input.email))
    throw new DomainError('conflict', 'email_taken', `A user with e-mail ${input.email} already exists`);
  const user: NewUser = {
    email: input.email,
    passwordHash: input.password ? await hash(input.password) : null,
    role: input.role,
    displayName: input.displayName ?? input.email.split('@')[0]!,
    locale: input.locale ?? 'fr',
    tiers,
  };
  return s.users.insert(user, s.clock.now());
}
