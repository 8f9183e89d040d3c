import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/domain/clock.js';
import { hashToken } from '../../src/services/auth.service.js';
import { expectError } from '../helpers/api-assertions.js';
import { ENGINES, type EngineName } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const PASSWORD = 'test-password-123';
const DAY = 86_400_000;

class ShiftableClock implements Clock {
  offset = 0;
  now() {
    return Date.now() + this.offset;
  }
}

const sessionCookie = (res: { headers: Headers }) => res.headers.getSetCookie().find((c) => c.startsWith('palier_session='));
const cookieValue = (setCookie: string) => setCookie.split(';')[0]!.split('=')[1]!;

describe.each(ENGINES)('sessions and tokens on %s', (engine: EngineName) => {
  let t: TestServer;
  let admin: TestUser;
  const clock = new ShiftableClock();
  const logs: Json[] = [];

  beforeAll(async () => {
    t = await startServer(engine, {
      clock,
      config: { logLevel: 'info', loginRateLimit: 10, logStream: { write: (line: string) => void logs.push(JSON.parse(line)) } },
    });
    admin = await t.user('admin');
  });
  afterAll(async () => t?.close());

  const me = (token: string) => t.api('GET', '/api/v1/users/me', { headers: { authorization: `Bearer ${token}` } });
  const meByCookie = (cookie: string) => t.api('GET', '/api/v1/users/me', { headers: { cookie: `palier_session=${cookie}` } });
  const signIn = (email: string, password = PASSWORD) => t.api('POST', '/api/v1/auth/token', { body: { email, password } });
  const securityEvents = (event: string) => logs.filter((l) => l.security?.event === event).map((l) => l.security);

  it('issues a new random token on every sign-in, and stores only its hash', async () => {
    const user = await t.user('requester');
    const a = await signIn(user.email);
    const b = await signIn(user.email);
    expect(a.body.token).toMatch(/^plr_[A-Za-z0-9_-]{43}$/); // 256 random bits
    expect(new Set([user.token, a.body.token, b.body.token]).size).toBe(3);
    const stored = await t.palier.services.store.db
      .selectFrom('api_tokens')
      .select('token_hash')
      .where('user_id', '=', user.id)
      .execute();
    expect(stored.map((r) => r.token_hash).sort()).toEqual([user.token, a.body.token, b.body.token].map(hashToken).sort());
  });

  it('sets the session cookie HttpOnly, SameSite=Strict, not Secure over plain http, with a new id each sign-in', async () => {
    const user = await t.user('requester');
    const first = await t.api('POST', '/api/v1/auth/session', { body: { email: user.email, password: PASSWORD } });
    expect(first.status).toBe(200);
    const cookie = sessionCookie(first)!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/);
    // Signing in again with the old cookie: a new id, and the old one is dead (no session fixation).
    const old = cookieValue(cookie);
    expect((await meByCookie(old)).status).toBe(200);
    const second = await t.api('POST', '/api/v1/auth/session', {
      body: { email: user.email, password: PASSWORD },
      headers: { cookie: `palier_session=${old}` },
    });
    const fresh = cookieValue(sessionCookie(second)!);
    expect(fresh).not.toBe(old);
    expectError(await meByCookie(old), 401, 'invalid_token');
    expect((await meByCookie(fresh)).status).toBe(200);
  });

  it('ends a session at once on sign-out, even one just remembered', async () => {
    const user = await t.user('requester');
    const res = await t.api('POST', '/api/v1/auth/session', { body: { email: user.email, password: PASSWORD } });
    const cookie = cookieValue(sessionCookie(res)!);
    expect((await meByCookie(cookie)).status).toBe(200); // now in the token cache
    const out = await t.api('DELETE', '/api/v1/auth/token', {
      headers: { cookie: `palier_session=${cookie}`, 'x-requested-with': 'palier' },
    });
    expect(out.status).toBe(204);
    expect(sessionCookie(out)).toMatch(/palier_session=;/);
    expectError(await meByCookie(cookie), 401, 'invalid_token');
    // Bearer tokens too.
    expect((await me(user.token)).status).toBe(200);
    expect((await t.api('DELETE', '/api/v1/auth/token', { as: user })).status).toBe(204);
    expectError(await me(user.token), 401, 'invalid_token');
  });

  it('lists your tokens without their secrets, and revokes one by id at once', async () => {
    const user = await t.user('agent');
    const created = await t.api('POST', '/api/v1/auth/tokens', { as: user, body: { name: 'CI pipeline', expiresInDays: 30 } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'api', name: 'CI pipeline' });
    expect(Date.parse(created.body.expiresAt) - clock.now()).toBeGreaterThan(29 * DAY);
    const secret: string = created.body.token;
    expect((await me(secret)).status).toBe(200);

    const list = await t.api('GET', '/api/v1/auth/tokens', { as: user });
    expect(list.status).toBe(200);
    expect(list.body.items.map((i: Json) => i.name)).toEqual([null, 'CI pipeline']);
    expect(list.body.items.find((i: Json) => i.current).id).not.toBe(created.body.id);
    const text = JSON.stringify(list.body);
    for (const s of [secret, user.token, hashToken(secret), hashToken(user.token)]) expect(text).not.toContain(s);

    // Someone else's token id is unknown to you; theirs keeps working.
    const other = await t.user('requester');
    expectError(await t.api('DELETE', `/api/v1/auth/tokens/${created.body.id}`, { as: other }), 404, 'not_found');
    expect((await me(secret)).status).toBe(200);

    expect((await t.api('DELETE', `/api/v1/auth/tokens/${created.body.id}`, { as: user })).status).toBe(204);
    expectError(await me(secret), 401, 'invalid_token');
    expectError(await t.api('DELETE', `/api/v1/auth/tokens/${created.body.id}`, { as: user }), 404, 'not_found');
    expect((await t.api('GET', '/api/v1/auth/tokens', { as: user })).body.items.map((i: Json) => i.name)).toEqual([null]);
  });

  it('refuses forged, malformed and expired tokens', async () => {
    const user = await t.user('requester');
    const flipped = user.token.slice(0, -1) + (user.token.endsWith('A') ? 'B' : 'A');
    for (const header of [
      `Bearer plr_${'A'.repeat(43)}`,
      `Bearer ${flipped}`,
      `Bearer ${hashToken(user.token)}`, // the stored hash is not a credential
      `Bearer ${user.token.toUpperCase()}`,
    ])
      expectError(await t.api('GET', '/api/v1/users/me', { headers: { authorization: header } }), 401, 'invalid_token');
    for (const header of [
      'Bearer',
      `Basic ${Buffer.from(`${user.email}:${PASSWORD}`).toString('base64')}`,
      `Token ${user.token}`,
      `Bearer ${user.token} extra`,
    ])
      expectError(await t.api('GET', '/api/v1/users/me', { headers: { authorization: header } }), 401, 'unauthorized');
    expectError(await t.api('GET', '/api/v1/users/me', { headers: { cookie: 'palier_session=forged' } }), 401, 'invalid_token');

    const short = await t.api('POST', '/api/v1/auth/tokens', { as: user, body: { name: 'one day', expiresInDays: 1 } });
    expect((await me(short.body.token)).status).toBe(200); // remembered now
    clock.offset = DAY + 1;
    try {
      expectError(await me(short.body.token), 401, 'invalid_token');
      expect((await me(user.token)).status).toBe(200); // the 30-day one still works
      expect((await t.api('GET', '/api/v1/auth/tokens', { as: user })).body.items.map((i: Json) => i.name)).toEqual([null]);
    } finally {
      clock.offset = 0;
    }
  });

  it('ends every session and token of a disabled user at once; enabling does not revive them', async () => {
    const user = await t.user('agent');
    const extra = await t.api('POST', '/api/v1/auth/tokens', { as: user, body: { name: 'script' } });
    const session = cookieValue(
      sessionCookie(await t.api('POST', '/api/v1/auth/session', { body: { email: user.email, password: PASSWORD } }))!,
    );
    for (const check of [me(user.token), me(extra.body.token), meByCookie(session)]) expect((await check).status).toBe(200);

    const res = await t.api('PATCH', `/api/v1/users/${user.id}`, { as: admin, body: { disabled: true } });
    expect(res.status).toBe(200);
    expect(res.body.disabled).toBe(true);
    expectError(await me(user.token), 401, 'invalid_token');
    expectError(await me(extra.body.token), 401, 'invalid_token');
    expectError(await meByCookie(session), 401, 'invalid_token');
    expectError(await signIn(user.email), 401, 'invalid_credentials');
    const live = await t.palier.services.store.db
      .selectFrom('api_tokens')
      .select('id')
      .where('user_id', '=', user.id)
      .where('revoked_at', 'is', null)
      .execute();
    expect(live).toEqual([]);

    expect((await t.api('PATCH', `/api/v1/users/${user.id}`, { as: admin, body: { disabled: false } })).status).toBe(200);
    expectError(await me(user.token), 401, 'invalid_token');
    expect((await signIn(user.email)).status).toBe(200);
  });

  it('applies a role change from the next request, and only admins change users', async () => {
    const agent = await t.user('agent');
    const requester = await t.user('requester');
    expect((await t.api('GET', '/api/v1/escalations/upcoming', { as: agent })).status).toBe(200);
    expectError(await t.api('PATCH', `/api/v1/users/${requester.id}`, { as: agent, body: { role: 'admin' } }), 403, 'forbidden');
    expectError(
      await t.api('PATCH', `/api/v1/users/${agent.id}`, { as: agent, body: { tiers: ['L1', 'L2', 'L3'] } }),
      403,
      'forbidden',
    );
    const demoted = await t.api('PATCH', `/api/v1/users/${agent.id}`, { as: admin, body: { role: 'requester' } });
    expect(demoted.body).toMatchObject({ role: 'requester', tiers: [] });
    expectError(await t.api('GET', '/api/v1/escalations/upcoming', { as: agent }), 403, 'forbidden');
    expectError(await t.api('PATCH', `/api/v1/users/${admin.id}`, { as: admin, body: { disabled: true } }), 409, 'own_account');
    expectError(await t.api('PATCH', `/api/v1/users/${admin.id}`, { as: admin, body: { role: 'manager' } }), 409, 'own_account');
    expectError(
      await t.api('PATCH', `/api/v1/users/${requester.id}`, { as: admin, body: { role: 'agent' } }),
      400,
      'tier_required',
    );
    expectError(await t.api('PATCH', `/api/v1/users/${requester.id}`, { as: admin, body: {} }), 400, 'validation_failed');
  });

  it('limits sign-in attempts per address and e-mail: 429 with Retry-After', async () => {
    const user = await t.user('requester'); // one successful sign-in already counted
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push((await signIn(user.email, 'wrong password')).status);
    expect(statuses).toEqual(Array(9).fill(401));
    const limited = await signIn(user.email); // even the right password
    const error = expectError(limited, 429, 'rate_limited');
    expect(error.message).toMatch(/Too many sign-in attempts/);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expectError(
      await t.api('POST', '/api/v1/auth/session', { body: { email: user.email.toUpperCase(), password: PASSWORD } }),
      429,
      'rate_limited',
    );
    // Another account from the same address is not locked out by this one.
    const other = await t.user('requester');
    expect((await signIn(other.email)).status).toBe(200);
  });

  it('logs security events as structured lines, without secrets', async () => {
    const user = await t.user('requester');
    await signIn(user.email, 'not the password');
    await t.api('PUT', '/api/v1/matrix', { as: user, body: {} });
    const made = await t.api('POST', '/api/v1/auth/tokens', { as: user, body: { name: 'x' } });
    await t.api('DELETE', `/api/v1/auth/tokens/${made.body.id}`, { as: user });
    await t.api('PATCH', `/api/v1/users/${user.id}`, { as: admin, body: { role: 'manager' } });
    await t.api('PATCH', `/api/v1/users/${user.id}`, { as: admin, body: { disabled: true } });
    await me(user.token);

    expect(securityEvents('sign_in').map((e) => e.userId)).toContain(user.id);
    expect(securityEvents('sign_in_failed')).toContainEqual(
      expect.objectContaining({ email: user.email, ip: '127.0.0.1', kind: 'api' }),
    );
    expect(securityEvents('access_refused')).toContainEqual(
      expect.objectContaining({ userId: user.id, role: 'requester', method: 'PUT', url: '/api/v1/matrix' }),
    );
    expect(securityEvents('token_created')).toContainEqual(expect.objectContaining({ userId: user.id, tokenId: made.body.id }));
    expect(securityEvents('token_revoked')).toContainEqual(expect.objectContaining({ userId: user.id, tokenId: made.body.id }));
    expect(securityEvents('role_changed')).toContainEqual(
      expect.objectContaining({
        userId: admin.id,
        targetId: user.id,
        from: { role: 'requester', tiers: [] },
        to: { role: 'manager', tiers: [] },
      }),
    );
    expect(securityEvents('user_disabled')).toContainEqual(expect.objectContaining({ targetId: user.id, tokensRevoked: 1 }));
    expect(securityEvents('invalid_token').length).toBeGreaterThan(0);
    expect(securityEvents('sign_in_rate_limited').length).toBeGreaterThan(0);
    const all = JSON.stringify(logs);
    for (const secret of [PASSWORD, 'not the password', user.token, made.body.token]) expect(all).not.toContain(secret);
  });
});

describe('cookies behind https', () => {
  it('marks the session cookie Secure when PALIER_HTTPS is on', async () => {
    const t = await startServer('sqlite', { config: { https: true } });
    try {
      const user = await t.user('requester');
      const res = await t.api('POST', '/api/v1/auth/session', { body: { email: user.email, password: PASSWORD } });
      expect(sessionCookie(res)).toMatch(/; Secure/);
    } finally {
      await t.close();
    }
  });
});
