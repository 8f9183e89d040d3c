/**
 * Single sign-on against a real OpenID Connect provider (oidc-provider) listening on 127.0.0.1,
 * with its own login and consent steps, driven like a browser: fetch without following redirects,
 * and a cookie jar shared by host as browsers do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { changeUser } from '../../src/services/auth.service.js';
import { ENGINES, type EngineName } from '../helpers/engines.js';
import {
  CLIENT_ID,
  CookieJar,
  freePort,
  oidcSettings,
  signInThrough,
  startIdentityProvider,
  type IdentityProvider,
  type Journey,
} from '../helpers/identity-provider.js';
import { startServer, type TestServer } from '../helpers/server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe.each(ENGINES)('OpenID Connect sign-in on %s', (engine: EngineName) => {
  let idp: IdentityProvider;
  let t: TestServer;
  const logs: Json[] = [];

  beforeAll(async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    idp = await startIdentityProvider(`${publicUrl}/api/v1/auth/oidc/callback`);
    t = await startServer(engine, {
      config: {
        port,
        publicUrl,
        logLevel: 'info',
        logStream: { write: (line: string) => void logs.push(JSON.parse(line)) },
        oidc: oidcSettings(idp),
      },
    });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  const signInAs = (account: string, beforeCallback?: (url: URL, jar: CookieJar) => URL | 'stop') =>
    signInThrough(t.url, idp, account, beforeCallback);

  const me = (jar: CookieJar) =>
    fetch(`${t.url}/api/v1/users/me`, { headers: { cookie: jar.header(new URL('/api/v1/users/me', t.url)) } });

  const securityLines = () => logs.filter((l) => l.security).map((l) => l.security);

  it('says single sign-on is offered', async () => {
    const res = await t.api('GET', '/api/v1/auth/oidc');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ enabled: true, roleSync: false });
  });

  it('sends the browser to the provider with state, nonce and PKCE (S256) in a signed, short-lived cookie', async () => {
    const res = await fetch(`${t.url}/api/v1/auth/oidc/login`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(location.origin).toBe(idp.issuer);
    const q = location.searchParams;
    expect(q.get('client_id')).toBe(CLIENT_ID);
    expect(q.get('redirect_uri')).toBe(`${t.url}/api/v1/auth/oidc/callback`);
    expect(q.get('response_type')).toBe('code');
    expect(q.get('scope')).toBe('openid email profile');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(q.get('state')!.length).toBeGreaterThanOrEqual(32);
    expect(q.get('nonce')!.length).toBeGreaterThanOrEqual(32);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('palier_oidc='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\/api\/v1\/auth\/oidc\/callback/);
    expect(cookie).toMatch(/Max-Age=600/);
    // Neither the verifier nor the cookie's secret parts are in the URL.
    const payload = JSON.parse(Buffer.from(cookie.split('=')[1]!.split('.')[0]!, 'base64url').toString());
    expect(payload.state).toBe(q.get('state'));
    expect(location.href).not.toContain(payload.verifier);
  });

  it('signs a known user in: a new session cookie that the API accepts, and a security log line', async () => {
    const user = await t.user('agent', { email: 'alice@example.test' });
    idp.accounts.set('alice-sub', { email: 'Alice@Example.test', email_verified: true, name: 'Alice' });
    const before = await t.count('api_tokens');
    const { final, location, jar, visited } = await signInAs('alice-sub');
    expect(final.status, visited.join('\n')).toBe(302);
    expect(location).toBe('/');
    const session = final.headers.getSetCookie().find((c) => c.startsWith('palier_session='))!;
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/SameSite=Strict/i);
    expect(session).toMatch(/Path=\//);
    expect(jar.get('palier_oidc')).toBeUndefined();
    expect(await t.count('api_tokens')).toBe(before + 1);

    const res = await me(jar);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: user.id, email: 'alice@example.test', role: 'agent' });
    expect(securityLines()).toContainEqual(
      expect.objectContaining({ event: 'sign_in', userId: user.id, via: 'oidc', subject: 'alice-sub' }),
    );

    // A second sign-in makes another session id.
    const again = await signInAs('alice-sub');
    expect(again.location).toBe('/');
    expect(again.jar.get('palier_session')).toBeDefined();
    expect(again.jar.get('palier_session')).not.toBe(jar.get('palier_session'));
  }, 30_000);

  it('does not accept the same answer twice', async () => {
    idp.accounts.set('bob-sub', { email: 'bob@example.test', email_verified: true, name: 'Bob' });
    await t.user('requester', { email: 'bob@example.test' });
    let replay: { url: URL; cookie: string } | undefined;
    const first = await signInAs('bob-sub', (url, jar) => {
      replay = { url, cookie: jar.header(url) };
      return url;
    });
    expect(first.location).toBe('/');
    // The browser dropped the transaction cookie as told.
    const again = await fetch(replay!.url, { headers: { cookie: first.jar.header(replay!.url) }, redirect: 'manual' });
    expect(again.headers.get('location')).toBe('/signin?error=sso_state');
    // Someone who copied the cookie and the URL: the provider takes a code once.
    const copied = await fetch(replay!.url, { headers: { cookie: replay!.cookie }, redirect: 'manual' });
    expect(copied.status).toBe(302);
    expect(copied.headers.get('location')).toBe('/signin?error=sso_failed');
    for (const res of [again, copied])
      expect(res.headers.getSetCookie().some((c) => c.startsWith('palier_session='))).toBe(false);
  }, 30_000);

  /** A refused sign-in: back to the sign-in page with its reason, no session, nothing written, a log line. */
  async function expectRefused(journey: Journey, code: string) {
    expect(journey.final.status, journey.visited.join('\n')).toBe(302);
    expect(journey.location).toBe(`/signin?error=${code}`);
    expect(journey.jar.get('palier_session')).toBeUndefined();
    expect((await me(journey.jar)).status).toBe(401);
    expect(securityLines()).toContainEqual(expect.objectContaining({ event: 'sign_in_failed', via: 'oidc', reason: code }));
  }

  it('refuses an e-mail address no Palier user has, and creates no account', async () => {
    idp.accounts.set('carol-sub', { email: 'carol@example.test', email_verified: true, name: 'Carol' });
    const users = await t.count('users');
    const tokens = await t.count('api_tokens');
    await expectRefused(await signInAs('carol-sub'), 'sso_unknown_user');
    expect(await t.count('users')).toBe(users);
    expect(await t.count('api_tokens')).toBe(tokens);
  }, 30_000);

  it('refuses a disabled user', async () => {
    const admin = await t.user('admin');
    const dave = await t.user('manager', { email: 'dave@example.test' });
    await changeUser(t.palier.services, { id: admin.id, role: 'admin', tiers: [] }, dave.id, { disabled: true });
    idp.accounts.set('dave-sub', { email: 'dave@example.test', email_verified: true, name: 'Dave' });
    const tokens = await t.count('api_tokens');
    await expectRefused(await signInAs('dave-sub'), 'sso_user_disabled');
    expect(await t.count('api_tokens')).toBe(tokens);
  }, 30_000);

  it('refuses an e-mail address the provider has not verified', async () => {
    await t.user('admin', { email: 'erin@example.test' });
    idp.accounts.set('erin-sub', { email: 'erin@example.test', email_verified: false, name: 'Erin' });
    await expectRefused(await signInAs('erin-sub'), 'sso_email_unverified');
  }, 30_000);

  it('refuses a tampered state, a forged transaction cookie, and a missing one', async () => {
    await t.user('agent', { email: 'frank@example.test' });
    idp.accounts.set('frank-sub', { email: 'frank@example.test', email_verified: true, name: 'Frank' });
    const tokens = await t.count('api_tokens');

    await expectRefused(
      await signInAs('frank-sub', (url) => {
        const state = url.searchParams.get('state')!;
        url.searchParams.set('state', `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`);
        return url;
      }),
      'sso_state',
    );
    // Another transaction's content under the old signature.
    await expectRefused(
      await signInAs('frank-sub', (url, jar) => {
        const [payload, signature] = jar.get('palier_oidc')!.split('.');
        const data = JSON.parse(Buffer.from(payload!, 'base64url').toString());
        data.expiresAt += 3_600_000;
        jar.set('palier_oidc', `${Buffer.from(JSON.stringify(data)).toString('base64url')}.${signature}`);
        return url;
      }),
      'sso_state',
    );
    // The answer arrives in a browser that never started this sign-in (login cross-site request forgery).
    await expectRefused(
      await signInAs('frank-sub', (url, jar) => {
        jar.set('palier_oidc', 'x');
        return url;
      }),
      'sso_state',
    );
    expect(await t.count('api_tokens')).toBe(tokens);
  }, 60_000);

  it('refuses a code sent with another transaction (PKCE and nonce checked by the provider exchange)', async () => {
    await t.user('agent', { email: 'gina@example.test' });
    idp.accounts.set('gina-sub', { email: 'gina@example.test', email_verified: true, name: 'Gina' });
    // A code issued to another browser's sign-in, slipped into this one: its PKCE verifier and nonce do not match.
    const other = await signInAs('gina-sub', () => 'stop');
    const stolen = new URL(other.visited.at(-1)!.split(' ')[1]!).searchParams.get('code')!;
    const victim = await signInAs('gina-sub', (url) => {
      url.searchParams.set('code', stolen);
      return url;
    });
    await expectRefused(victim, 'sso_failed');
  }, 60_000);

  it('reports an error the provider returns', async () => {
    const start = await fetch(`${t.url}/api/v1/auth/oidc/login`, { redirect: 'manual' });
    const jar = new CookieJar();
    jar.store(new URL(t.url), start);
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const callback = new URL(`/api/v1/auth/oidc/callback?error=access_denied&state=${state}`, t.url);
    const res = await fetch(callback, { headers: { cookie: jar.header(callback) }, redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/signin?error=sso_cancelled');
  });

  it('never answers 500 to a callback with no sign-in in progress', async () => {
    for (const query of ['', '?code=abc', '?state=x&code=y', '?error=server_error']) {
      const res = await fetch(`${t.url}/api/v1/auth/oidc/callback${query}`, { redirect: 'manual' });
      expect(res.status, query).toBe(302);
      expect(res.headers.get('location')).toBe('/signin?error=sso_state');
    }
    const res = await t.api('GET', '/api/v1/auth/oidc/callback?code=a&role=admin');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
  });
});

describe('OpenID Connect with automatic requester accounts', () => {
  let idp: IdentityProvider;
  let t: TestServer;

  beforeAll(async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    idp = await startIdentityProvider(`${publicUrl}/api/v1/auth/oidc/callback`, { claimsInIdToken: true });
    t = await startServer('sqlite', {
      config: {
        port,
        publicUrl,
        oidc: oidcSettings(idp, { autoCreate: 'requester' }),
      },
    });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  it('gives a verified e-mail Palier does not know a requester account, never more', async () => {
    // Role sync is off (the default): groups the provider gives are not looked at.
    idp.accounts.set('hugo-sub', {
      email: 'hugo@example.test',
      email_verified: true,
      name: 'Hugo Admin',
      groups: ['palier-admins'],
    });
    const jar = new CookieJar();
    let url = new URL('/api/v1/auth/oidc/login', t.url);
    let method = 'GET';
    let body: URLSearchParams | undefined;
    let res: Response;
    for (;;) {
      res = await fetch(url, {
        method,
        body,
        redirect: 'manual',
        headers: { cookie: jar.header(url), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      });
      jar.store(url, res);
      if (url.pathname === '/api/v1/auth/oidc/callback') break;
      const location = res.headers.get('location');
      if (location) {
        [url, method, body] = [new URL(location, url), 'GET', undefined];
        continue;
      }
      const page = (await res.json()) as { uid: string; prompt: string };
      [url, method] = [new URL(`/interaction/${page.uid}/${page.prompt === 'login' ? 'login' : 'confirm'}`, idp.issuer), 'POST'];
      body = new URLSearchParams(page.prompt === 'login' ? { account: 'hugo-sub' } : {});
    }
    expect(res.headers.get('location')).toBe('/');
    const me = await fetch(`${t.url}/api/v1/users/me`, { headers: { cookie: jar.header(new URL('/api/v1/users/me', t.url)) } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({
      email: 'hugo@example.test',
      role: 'requester',
      displayName: 'Hugo Admin',
      tiers: [],
    });
  }, 30_000);
});

describe('OpenID Connect not configured', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer('sqlite');
  });
  afterAll(async () => t?.close());

  it('says so, and its routes answer 404', async () => {
    expect((await t.api('GET', '/api/v1/auth/oidc')).body).toEqual({ enabled: false, roleSync: false });
    for (const path of [
      '/api/v1/auth/oidc/login',
      '/api/v1/auth/oidc/callback?code=a&state=b',
      '/api/v1/auth/oidc/callback?other=1',
    ]) {
      const res = await t.api('GET', path);
      expect(res.status, path).toBe(404);
      expect(res.body.error.code).toBe('oidc_disabled');
    }
  });
});

describe('OpenID Connect with the identity provider down', () => {
  let t: TestServer;
  beforeAll(async () => {
    const closed = await freePort();
    t = await startServer('sqlite', {
      config: {
        oidc: {
          issuer: `http://127.0.0.1:${closed}`,
          clientId: CLIENT_ID,
          clientSecret: undefined,
          scopes: 'openid email',
          autoCreate: 'off',
        },
      },
    });
  });
  afterAll(async () => t?.close());

  it('sends the browser back to the sign-in page, not a server error', async () => {
    const res = await fetch(`${t.url}/api/v1/auth/oidc/login`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/signin?error=sso_unavailable');
    expect(res.headers.getSetCookie().some((c) => c.startsWith('palier_oidc='))).toBe(false);
  });
});

describe('OpenID Connect configuration', () => {
  const base = { PALIER_OIDC_CLIENT_ID: 'palier' };
  it('is off without an issuer, and on with one', () => {
    expect(loadConfig({}).oidc).toBeNull();
    expect(loadConfig({ ...base, PALIER_OIDC_ISSUER: 'https://id.example.org/realms/it' }).oidc).toEqual({
      issuer: 'https://id.example.org/realms/it',
      clientId: 'palier',
      clientSecret: undefined,
      scopes: 'openid email profile',
      autoCreate: 'off',
      singleLogout: true,
    });
  });

  it('takes plain http only for a provider on this machine', () => {
    expect(() => loadConfig({ ...base, PALIER_OIDC_ISSUER: 'http://id.example.org' })).toThrow(/PALIER_OIDC_ISSUER/);
    for (const host of ['127.0.0.1:8080', 'localhost:8080', '[::1]:8080'])
      expect(loadConfig({ ...base, PALIER_OIDC_ISSUER: `http://${host}` }).oidc?.issuer).toBe(`http://${host}`);
  });

  it('refuses a missing client id, scopes without openid, and an unknown auto-create role', () => {
    const issuer = { PALIER_OIDC_ISSUER: 'https://id.example.org' };
    expect(() => loadConfig(issuer)).toThrow(/PALIER_OIDC_CLIENT_ID/);
    expect(() => loadConfig({ ...base, ...issuer, PALIER_OIDC_SCOPES: 'email profile' })).toThrow(/openid/);
    expect(() => loadConfig({ ...base, ...issuer, PALIER_OIDC_AUTO_CREATE: 'admin' })).toThrow(/PALIER_OIDC_AUTO_CREATE/);
    expect(loadConfig({ ...base, ...issuer, PALIER_OIDC_AUTO_CREATE: 'requester' }).oidc?.autoCreate).toBe('requester');
  });
});
