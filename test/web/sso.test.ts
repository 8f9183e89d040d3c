import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/services/auth.service.js';
import { CLIENT_ID, freePort, oidcSettings, startIdentityProvider, type IdentityProvider } from '../helpers/identity-provider.js';
import { PASSWORD, startServer, type TestServer } from '../helpers/server.js';
import { browserAvailable, ensureWebBuilt, launchBrowser, personContext, screenshot, signIn, watchPage } from './browser.js';

/** The sign-in page's single sign-on button, clicked in Chromium against a real OpenID Connect provider. */
describe.skipIf(!browserAvailable)('web app: single sign-on button', { timeout: 60_000 }, () => {
  let browser: Browser;
  let idp: IdentityProvider;
  let t: TestServer;
  let plain: TestServer;

  beforeAll(async () => {
    ensureWebBuilt();
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    idp = await startIdentityProvider(`${publicUrl}/api/v1/auth/oidc/callback`);
    t = await startServer('sqlite', {
      config: {
        port,
        publicUrl,
        oidc: oidcSettings(idp),
      },
    });
    plain = await startServer('sqlite');
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await plain?.close();
    await idp?.close();
  });

  async function newPage(): Promise<{ page: Page; seen: { errors: string[]; dialogs: string[] } }> {
    const page = await (await personContext(browser)).newPage();
    page.setDefaultTimeout(10_000);
    return { page, seen: watchPage(page) };
  }

  it('signs a person in at the identity provider and lands them signed in on Palier', async () => {
    const email = 'sophie.martin@example.test';
    await addUser(t.palier.services, { email, role: 'agent', tiers: ['L1'], displayName: 'Sophie Martin', locale: 'fr' });
    idp.accounts.set('sophie', { email, email_verified: true, name: 'Sophie M.' });

    const { page, seen } = await newPage();
    const toProvider: string[] = [];
    page.on('request', (r) => {
      if (r.url().startsWith(idp.issuer) && r.isNavigationRequest()) toProvider.push(r.url());
    });
    await page.goto(t.url);
    const button = page.getByTestId('sso');
    await button.waitFor();
    await button.click();

    // The provider's own pages: log in, then allow Palier.
    await page.getByRole('heading', { name: 'Test identity provider' }).waitFor();
    expect(new URL(page.url()).origin).toBe(idp.issuer);
    await page.getByLabel('Account').fill('sophie');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();

    // Back on Palier, signed in: the app shell with the person's name, and the API answers as them.
    await page.locator('header.top').waitFor();
    expect(new URL(page.url()).origin).toBe(t.url);
    expect(await page.getByTestId('user-name').textContent()).toBe('Sophie Martin');
    const me = await page.evaluate(async () => (await fetch('/api/v1/users/me', { credentials: 'same-origin' })).json());
    expect(me).toMatchObject({ email, role: 'agent' });
    await screenshot(page, '33-signed-in-by-sso');

    // The authorization request carried PKCE (S256), a state and a nonce, and asked for Palier's callback.
    const auth = new URL(toProvider[0]!);
    expect(auth.pathname).toBe('/auth');
    const q = auth.searchParams;
    expect(q.get('client_id')).toBe(CLIENT_ID);
    expect(q.get('response_type')).toBe('code');
    expect(q.get('redirect_uri')).toBe(`${t.url}/api/v1/auth/oidc/callback`);
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(q.get('state')!.length).toBeGreaterThanOrEqual(16);
    expect(q.get('nonce')!.length).toBeGreaterThanOrEqual(16);
    expect(seen.errors).toEqual([]);
    expect(seen.dialogs).toEqual([]);
  });

  it('signs out of the identity provider too, and back on the sign-in page the provider asks who you are again', async () => {
    const email = 'hugo.bernard@example.test';
    await addUser(t.palier.services, { email, role: 'agent', tiers: ['L1'], displayName: 'Hugo Bernard', locale: 'fr' });
    idp.accounts.set('hugo', { email, email_verified: true, name: 'Hugo B.' });
    const { page, seen } = await newPage();
    await page.goto(t.url);
    await page.getByTestId('sso').click();
    await page.getByLabel('Account').fill('hugo');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.locator('header.top').waitFor();
    const session = (await page.context().cookies(t.url)).find((c) => c.name === 'palier_session')!.value;

    // Signing out of Palier leads to the provider's own sign-out, then back to Palier's sign-in page.
    const toProvider: string[] = [];
    page.on('request', (r) => {
      if (r.url().startsWith(idp.issuer) && r.isNavigationRequest()) toProvider.push(r.url());
    });
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.getByRole('heading', { name: 'Sign out of the test identity provider?' }).waitFor();
    expect(new URL(toProvider[0]!).pathname).toBe('/session/end');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByTestId('sso').waitFor();
    expect(page.url()).toBe(`${t.url}/signin`);

    // The old session cookie no longer opens the API.
    const old = await fetch(`${t.url}/api/v1/users/me`, { headers: { cookie: `palier_session=${session}` } });
    expect(old.status).toBe(401);

    // The provider's session is gone too: it asks for the account again.
    await page.getByTestId('sso').click();
    await page.getByRole('heading', { name: 'Test identity provider' }).waitFor();
    await page.getByLabel('Account').fill('hugo');
    await page.getByRole('button', { name: 'Log in' }).click();
    // Its sign-out also dropped what Palier had been allowed.
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.locator('header.top').waitFor();
    expect(await page.getByTestId('user-name').textContent()).toBe('Hugo Bernard');
    expect(seen.errors).toEqual([]);
    expect(seen.dialogs).toEqual([]);
  });

  it('keeps the sign-out of a password session in Palier', async () => {
    const email = 'ines.petit@example.test';
    await addUser(t.palier.services, { email, role: 'agent', tiers: ['L1'], password: PASSWORD, locale: 'fr' });
    const { page, seen } = await newPage();
    const toProvider: string[] = [];
    page.on('request', (r) => {
      if (r.url().startsWith(idp.issuer)) toProvider.push(r.url());
    });
    await signIn(page, t.url, email);
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.locator('input[type=password]').waitFor();
    expect(new URL(page.url()).origin).toBe(t.url);
    expect(toProvider).toEqual([]);
    expect(seen.errors).toEqual([]);
  });

  it('says why when the provider signs in someone Palier does not know, and keeps the password form', async () => {
    idp.accounts.set('stranger', { email: 'stranger@example.test', email_verified: true, name: 'Stranger' });
    const { page, seen } = await newPage();
    await page.goto(t.url);
    await page.getByTestId('sso').click();
    await page.getByLabel('Account').fill('stranger');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe(
      'Aucun compte Palier n’a votre adresse e-mail. Demandez-en un à votre administrateur.',
    );
    expect(new URL(page.url()).pathname).toBe('/signin');
    expect(await page.locator('header.top').count()).toBe(0);
    await page.locator('input[type=password]').waitFor();
    expect(seen.errors).toEqual([]);
  });

  it('says in both languages when the provider groups give no access to Palier', async () => {
    const { page, seen } = await newPage();
    await page.goto(`${t.url}/signin?error=sso_no_role`);
    await expect(page.getByRole('alert').textContent()).resolves.toBe(
      'Aucun de vos groupes chez le fournisseur d’identité ne donne accès à Palier. Contactez votre administrateur.',
    );
    await page.getByRole('button', { name: 'English' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe(
      'None of your groups at the identity provider gives access to Palier. Ask your administrator.',
    );
    expect(seen.errors).toEqual([]);
  });

  it("tells administrators on the users page when roles follow the provider's groups, and only then", async () => {
    const synced = await startServer('sqlite', {
      config: {
        oidc: oidcSettings(idp, {
          roleSync: { groupsClaim: 'groups', map: [{ group: 'palier-admins', role: 'admin', tiers: [] }], fallback: 'requester' },
        }),
      },
    });
    try {
      for (const [server, shown] of [
        [synced, true],
        [t, false],
      ] as const) {
        const admin = await server.user('admin');
        const { page, seen } = await newPage();
        await signIn(page, server.url, admin.email);
        await page.goto(`${server.url}/users`);
        await page.getByTestId(`user-${admin.id}`).waitFor();
        const note = page.getByTestId('role-sync-note');
        if (shown) {
          await expect(note.textContent()).resolves.toMatch(
            /^Les rôles et niveaux suivent les groupes du fournisseur d’identité/,
          );
          await page.locator('label.lang select').selectOption('en');
          await expect(note.textContent()).resolves.toMatch(/^Roles and tiers follow the groups at the identity provider/);
        } else {
          expect(await note.count()).toBe(0);
        }
        expect(seen.errors).toEqual([]);
      }
    } finally {
      await synced.close();
    }
  });

  it('shows no single sign-on button where no identity provider is configured', async () => {
    const { page } = await newPage();
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/oidc'));
    await page.goto(plain.url);
    expect(await (await answered).json()).toEqual({ enabled: false, roleSync: false });
    await page.locator('input[type=password]').waitFor();
    expect(await page.getByTestId('sso').count()).toBe(0);
    expect((await plain.api('GET', '/api/v1/auth/oidc/login')).status).toBe(404);
  });
});
