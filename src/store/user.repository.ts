import type { Kysely } from 'kysely';
import type { Actor, Role } from '../domain/policy.js';
import type { Database, UserRow } from './schema.js';

export interface User {
  id: number;
  email: string;
  role: Role;
  displayName: string;
  locale: 'fr' | 'en';
  tiers: string[];
  /** The vendor a vendor contact speaks for; null for other roles. */
  vendorId: number | null;
  disabled: boolean;
  createdAt: number;
}

export interface ApiToken {
  id: number;
  kind: 'api' | 'session';
  name: string | null;
  createdAt: number;
  expiresAt: number | null;
  tokenHash: string;
}

export interface NewUser {
  email: string;
  passwordHash: string | null;
  role: Role;
  displayName: string;
  locale: 'fr' | 'en';
  tiers: string[];
  vendorId?: number | null | undefined;
}

export class UserRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(user: NewUser, at: number): Promise<User> {
    const row = await this.db
      .insertInto('users')
      .values({
        email: user.email.toLowerCase(),
        password_hash: user.passwordHash,
        role: user.role,
        display_name: user.displayName,
        locale: user.locale,
        tiers: JSON.stringify(user.tiers),
        vendor_id: user.vendorId ?? null,
        created_at: at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return fromRow(row);
  }

  async byEmail(email: string): Promise<(User & { passwordHash: string | null }) | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
    return row ? { ...fromRow(row), passwordHash: row.password_hash } : undefined;
  }

  async byId(id: number): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  async byIds(ids: number[]): Promise<User[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('users').selectAll().where('id', 'in', ids).execute();
    return rows.map(fromRow);
  }

  /** The language a user's pages and messages are in. */
  async setLocale(id: number, locale: 'fr' | 'en'): Promise<void> {
    await this.db.updateTable('users').set({ locale }).where('id', '=', id).execute();
  }

  async list(limit: number, offset: number): Promise<User[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('id').limit(limit).offset(offset).execute();
    return rows.map(fromRow);
  }

  async insertToken(
    userId: number,
    tokenHash: string,
    kind: 'api' | 'session',
    at: number,
    expiresAt: number | null,
    name: string | null = null,
    idToken: string | null = null,
  ): Promise<number> {
    const row = await this.db
      .insertInto('api_tokens')
      .values({ user_id: userId, token_hash: tokenHash, kind, created_at: at, expires_at: expiresAt, name, id_token: idToken })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  /** A user's tokens that still work at `now` (never their secret: only its hash is stored anyway). */
  async activeTokens(userId: number, now: number): Promise<ApiToken[]> {
    const rows = await this.db
      .selectFrom('api_tokens')
      .select(['id', 'kind', 'name', 'created_at', 'expires_at', 'token_hash'])
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      kind: r.kind as ApiToken['kind'],
      name: r.name,
      createdAt: Number(r.created_at),
      expiresAt: r.expires_at == null ? null : Number(r.expires_at),
      tokenHash: r.token_hash,
    }));
  }

  /** Revokes one of a user's tokens by id; returns its hash, or undefined if there is no such live token. */
  async revokeTokenById(userId: number, id: number, at: number): Promise<string | undefined> {
    const row = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: at, id_token: null })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .returning('token_hash')
      .executeTakeFirst();
    return row?.token_hash;
  }

  /** Revokes every live token of a user (sessions included). */
  async revokeAllTokens(userId: number, at: number): Promise<number> {
    const result = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: at, id_token: null })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async update(
    id: number,
    change: {
      role?: Role;
      tiers?: string[];
      displayName?: string;
      locale?: 'fr' | 'en';
      disabledAt?: number | null;
      vendorId?: number | null;
    },
  ): Promise<User | undefined> {
    const row = await this.db
      .updateTable('users')
      .set({
        ...(change.role !== undefined ? { role: change.role } : {}),
        ...(change.tiers !== undefined ? { tiers: JSON.stringify(change.tiers) } : {}),
        ...(change.displayName !== undefined ? { display_name: change.displayName } : {}),
        ...(change.locale !== undefined ? { locale: change.locale } : {}),
        ...(change.disabledAt !== undefined ? { disabled_at: change.disabledAt } : {}),
        ...(change.vendorId !== undefined ? { vendor_id: change.vendorId } : {}),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  /** The active user a token stands for, or undefined if the token is unknown, revoked, expired or its user disabled. */
  async actorForToken(
    tokenHash: string,
    now: number,
  ): Promise<(Actor & { tokenKind: string; expiresAt: number | null }) | undefined> {
    const row = await this.db
      .selectFrom('api_tokens')
      .innerJoin('users', 'users.id', 'api_tokens.user_id')
      .select(['users.id', 'users.role', 'users.tiers', 'users.vendor_id', 'api_tokens.kind', 'api_tokens.expires_at'])
      .where('api_tokens.token_hash', '=', tokenHash)
      .where('api_tokens.revoked_at', 'is', null)
      .where('users.disabled_at', 'is', null)
      .executeTakeFirst();
    if (!row || (row.expires_at != null && Number(row.expires_at) <= now)) return undefined;
    return {
      id: Number(row.id),
      role: row.role as Role,
      tiers: JSON.parse(row.tiers) as string[],
      vendorId: row.vendor_id == null ? null : Number(row.vendor_id),
      tokenKind: row.kind,
      expiresAt: row.expires_at == null ? null : Number(row.expires_at),
    };
  }

  /** Revokes a live token; answers the single sign-on ID token it kept (forgotten with it), if any. */
  async revokeToken(tokenHash: string, at: number): Promise<{ idToken: string | null } | undefined> {
    const live = this.db.selectFrom('api_tokens').where('token_hash', '=', tokenHash).where('revoked_at', 'is', null);
    // Read first: RETURNING gives the row as updated, when the ID token is already gone.
    const row = await live.select('id_token').executeTakeFirst();
    if (!row) return undefined;
    await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: at, id_token: null })
      .where('token_hash', '=', tokenHash)
      .where('revoked_at', 'is', null)
      .execute();
    return { idToken: row.id_token };
  }
}

function fromRow(r: UserRow): User {
  return {
    id: Number(r.id),
    email: r.email,
    role: r.role as Role,
    displayName: r.display_name,
    locale: r.locale === 'en' ? 'en' : 'fr',
    tiers: JSON.parse(r.tiers) as string[],
    vendorId: r.vendor_id == null ? null : Number(r.vendor_id),
    disabled: r.disabled_at != null,
    createdAt: Number(r.created_at),
  };
}
