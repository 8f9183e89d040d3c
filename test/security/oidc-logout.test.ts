/**
 * Single logout (OpenID Connect RP-Initiated Logout 1.0) against a real oidc-provider on 127.0.0.1:
 * signing out of a single sign-on session ends it in Palier and hands back the provider's
 * end_session_endpoint, which then ends the provider's session too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { OidcSignIn } from '../../src/services/oidc.service.js';
import { ENGINES, type EngineName } from '../helpers/engines.js';
import {
  CLIENT_ID,
  freePort,
  oidcSettings,
  signInThrough,
  startIdentityProvider,
  type CookieJar,
  type IdentityProvider,
} from '../helpers/identity-provider.js';
import { PASSWORD, startServer, type TestServer } from '../helpers/server.js';

describe.each(ENGINES)('single logout on %s', (engine: EngineName) => {
  let idp: IdentityProvider;
  let t: TestServer;

  beforeAll(async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    idp = await startIdentityProvider(`${publicUrl}/api/v1/auth/oidc/callback`);
    t = await startServer(engine, { config: { port, publicUrl, oidc: oidcSettings(idp) } });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  const withCookies = (jar: CookieJar, url: URL, init: RequestInit = {}) =>
    fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers, cookie: jar.header(url) } });
  const signOut = (cookie: string) =>
    fetch(`${t.url}/api/v1/auth/session`, { method: 'DELETE', headers: { cookie, 'x-requested-with': 'palier' } });
  const me = (cookie: string) => fetch(`${t.url}/api/v1/users/me`, { headers: { cookie } });

  it('ends a single sign-on session in Palier and sends the browser to end it at the provider', async () => {
    await t.user('agent', { email: 'claire@example.test' });
    idp.accounts.set('claire-sub', { email: 'claire@example.test', email_verified: true, name: 'Claire' });
    const { location, jar } = await signInThrough(t.url, idp, 'claire-sub');
    expect(location).toBe('/');
    const cookie = `palier_session=${jar.get('palier_session')}`;
    expect((await me(cookie)).status).toBe(200);

    const res = await signOut(cookie);
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie().some((c) => /^palier_session=;/.test(c))).toBe(true);
    const { providerSignOutUrl } = (await res.json()) as { providerSignOutUrl: string };
    const end = new URL(providerSignOutUrl);
    expect(`${end.origin}${end.pathname}`).toBe(`${idp.issuer}/session/end`);
    expect(end.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${t.url}/signin`);
    // The hint is the provider's ID token of this sign-in; the browser never held it in a cookie.
    const hint = end.searchParams.get('id_token_hint')!;
    const claims = JSON.parse(Buffer.from(hint.split('.')[1]!, 'base64url').toString()) as { sub: string; aud: string };
    expect(claims).toMatchObject({ sub: 'claire-sub', aud: CLIENT_ID, iss: idp.issuer });
    expect(res.headers.getSetCookie().join()).not.toContain(hint);
    expect(jar.header(new URL('/', t.url))).not.toContain(hint);

    // Palier's session is over, and the ID token is no longer kept.
    expect((await me(cookie)).status).toBe(401);
    const kept = await t.palier.services.store.db
      .selectFrom('api_tokens')
      .select('id')
      .where('id_token', 'is not', null)
      .execute();
    expect(kept).toEqual([]);

    // The provider accepts the request, asks to confirm, ends its session and sends the browser to Palier's sign-in page.
    const page = await withCookies(jar, end);
    expect(page.status).toBe(200);
    const html = await page.text();
    const action = /action="([^"]+)"/.exec(html)![1]!;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    const confirm = new URL(action, idp.issuer);
    const done = await withCookies(jar, confirm, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }),
    });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(`${t.url}/signin`);
    jar.store(confirm, done);

    // Signing in again: the provider asks who you are again.
    const start = await fetch(`${t.url}/api/v1/auth/oidc/login`, { redirect: 'manual' });
    const auth = new URL(start.headers.get('location')!);
    const interaction = await withCookies(jar, auth);
    expect(interaction.status).toBe(303);
    jar.store(auth, interaction);
    const prompt = await withCookies(jar, new URL(interaction.headers.get('location')!, idp.issuer));
    expect(await prompt.json()).toMatchObject({ prompt: 'login' });
  }, 30_000);

  it('forgets the ID token of a single sign-on session revoked from the sessions list', async () => {
    const user = await t.user('agent', { email: 'emma@example.test' });
    idp.accounts.set('emma-sub', { email: 'emma@example.test', email_verified: true, name: 'Emma' });
    await signInThrough(t.url, idp, 'emma-sub');
    const kept = () =>
      t.palier.services.store.db.selectFrom('api_tokens').select('id').where('user_id', '=', user.id).where('id_token', 'is not', null).execute();
    const [session] = await kept();
    expect(session).toBeDefined();
    expect((await t.api('DELETE', `/api/v1/auth/tokens/${session!.id}`, { as: user })).status).toBe(204);
    expect(await kept()).toEqual([]);
  }, 30_000);

  it('keeps a password session sign-out local', async () => {
    const user = await t.user('agent', { email: 'denis@example.test' });
    const signIn = await fetch(`${t.url}/api/v1/auth/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: user.email, password: PASSWORD }),
    });
    const cookie = signIn.headers.getSetCookie()[0]!.split(';')[0]!;
    expect((await me(cookie)).status).toBe(200);
    const res = await signOut(cookie);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ providerSignOutUrl: null });
    expect((await me(cookie)).status).toBe(401);
  });

  it('still signs API tokens out with 204 and no provider round trip', async () => {
    const user = await t.user('agent');
    const res = await t.api('DELETE', '/api/v1/auth/token', { as: user });
    expect(res.status).toBe(204);
    expect((await t.api('GET', '/api/v1/users/me', { as: user })).status).toBe(401);
  });
});

describe('single logout settings', () => {
  let idp: IdentityProvider;
  let plain: IdentityProvider;
  let t: TestServer;

  beforeAll(async () => {
    idp = await startIdentityProvider('http://127.0.0.1:1/api/v1/auth/oidc/callback');
    plain = await startIdentityProvider('http://127.0.0.1:1/api/v1/auth/oidc/callback', { noSignOut: true });
    t = await startServer('sqlite');
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await idp?.close();
    await plain?.close();
  });

  const endSession = (provider: IdentityProvider, more: Parameters<typeof oidcSettings>[1] = {}) =>
    new OidcSignIn(t.palier.services, oidcSettings(provider, more), 'http://127.0.0.1:1/cb').endSessionUrl(
      'an.id.token',
      'http://127.0.0.1:1/signin',
    );

  it('signs out locally only when the provider has no end_session_endpoint, or when turned off', async () => {
    await expect(endSession(idp)).resolves.toMatch(new RegExp(`^${idp.issuer}/session/end\\?`));
    await expect(endSession(plain)).resolves.toBeUndefined();
    await expect(endSession(idp, { singleLogout: false })).resolves.toBeUndefined();
  });

  it('reads PALIER_OIDC_SINGLE_LOGOUT (on by default)', () => {
    const env = { PALIER_OIDC_ISSUER: 'https://idp.example.test', PALIER_OIDC_CLIENT_ID: 'palier' };
    expect(loadConfig(env).oidc?.singleLogout).toBe(true);
    expect(loadConfig({ ...env, PALIER_OIDC_SINGLE_LOGOUT: 'off' }).oidc?.singleLogout).toBe(false);
    expect(() => loadConfig({ ...env, PALIER_OIDC_SINGLE_LOGOUT: 'maybe' })).toThrow(/PALIER_OIDC_SINGLE_LOGOUT/);
  });
});
