/**
 * A real OpenID Connect provider (oidc-provider) on 127.0.0.1 for single sign-on tests, with its own
 * login and consent steps. Its interaction pages answer JSON to scripted clients and a small HTML
 * form to browsers (Accept: text/html).
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import Provider from 'oidc-provider';
import { expect } from 'vitest';
import type { OidcConfig } from '../../src/config.js';

export const CLIENT_ID = 'palier';
export const CLIENT_SECRET = 'a-client-secret-of-the-palier-instance-0123456789';

export interface ProviderAccount {
  email: string;
  email_verified: boolean;
  name: string;
  /** Given with the profile scope, as a list or, as some providers do, one string. */
  groups?: string[] | string;
  /** Distributed claims: what Entra ID sends instead of the groups of someone in too many. */
  _claim_names?: Record<string, string>;
  _claim_sources?: Record<string, { endpoint: string }>;
}

/** A free TCP port on 127.0.0.1, for a server whose address must be known before it starts. */
export async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export interface IdentityProvider {
  issuer: string;
  accounts: Map<string, ProviderAccount>;
  close(): Promise<void>;
}

/** Palier's single sign-on settings for this provider's registered client. */
export function oidcSettings(idp: IdentityProvider, more: Partial<OidcConfig> = {}): OidcConfig {
  return {
    issuer: idp.issuer,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    scopes: 'openid email profile',
    autoCreate: 'off',
    ...more,
  };
}

/**
 * An identity provider with a client registered for Palier's callback. Its login page takes the
 * account id the "browser" posts; its consent page grants what the client asked for.
 */
export async function startIdentityProvider(
  redirectUri: string,
  opts: { claimsInIdToken?: boolean; /** No end_session_endpoint, as some providers. */ noSignOut?: boolean } = {},
): Promise<IdentityProvider> {
  const accounts = new Map<string, ProviderAccount>();
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const signingKey = {
    ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
    kid: 'test-1',
    use: 'sig',
  };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [redirectUri],
        // Palier's sign-in page, where the provider's sign-out sends people back.
        post_logout_redirect_uris: [new URL('/signin', redirectUri).href],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    findAccount: async (_ctx, sub) => {
      const account = accounts.get(sub);
      return account ? { accountId: sub, claims: () => ({ sub, ...account }) } : undefined;
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'] },
    features: {
      devInteractions: { enabled: false },
      // The end_session_endpoint (RP-Initiated Logout), its confirmation page as small as the login one.
      rpInitiatedLogout: opts.noSignOut
        ? { enabled: false }
        : {
            enabled: true,
            logoutSource: (ctx, form) => {
              ctx.body =
                '<!doctype html><html><head><title>Identity provider</title></head><body>' +
                `<h1>Sign out of the test identity provider?</h1>${form}` +
                '<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button></body></html>';
            },
          },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['cookie-signing-key-of-the-test-provider'] },
    jwks: { keys: [signingKey] },
    pkce: { required: () => true },
    // By default the e-mail claims come from UserInfo; some providers put them in the ID token.
    conformIdTokenClaims: !opts.claimsInIdToken,
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
  });
  const oidc = provider.callback();

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const m = /^\/interaction\/([\w-]+)(\/(login|confirm))?$/.exec(req.url?.split('?')[0] ?? '');
    if (!m) return oidc(req, res);
    void (async () => {
      const details = await provider.interactionDetails(req, res);
      if (req.method === 'GET' && req.headers.accept?.includes('text/html')) {
        res.setHeader('content-type', 'text/html; charset=utf-8');
        return res.end(interactionPage(details.uid, details.prompt.name));
      }
      if (req.method === 'GET') {
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ uid: details.uid, prompt: details.prompt.name }));
      }
      if (m[3] === 'login') {
        const accountId = (await readForm(req)).get('account') ?? '';
        return provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
      }
      const accountId = details.session!.accountId!;
      const grant = details.grantId
        ? (await provider.Grant.find(details.grantId))!
        : new provider.Grant({ accountId, clientId: details.params.client_id! });
      const asked = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      if (asked.missingOIDCScope) grant.addOIDCScope(asked.missingOIDCScope.join(' '));
      if (asked.missingOIDCClaims) grant.addOIDCClaims(asked.missingOIDCClaims);
      const grantId = await grant.save();
      return provider.interactionFinished(
        req,
        res,
        { consent: details.grantId ? {} : { grantId } },
        { mergeWithLastSubmission: true },
      );
    })().catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });

  return {
    issuer,
    accounts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The provider's login page (an account id) or consent page, as a browser sees it. */
function interactionPage(uid: string, prompt: string): string {
  const form =
    prompt === 'login'
      ? `<form method="post" action="/interaction/${uid}/login"><h1>Test identity provider</h1>` +
        '<label>Account <input name="account" autocomplete="username"></label><button type="submit">Log in</button></form>'
      : `<form method="post" action="/interaction/${uid}/confirm"><h1>Allow Palier?</h1><button type="submit">Allow</button></form>`;
  return `<!doctype html><html><head><title>Identity provider</title></head><body>${form}</body></html>`;
}

// Driving the sign-in like a browser: fetch without following redirects, and a cookie jar shared by
// host as browsers do.

/** Cookies as a browser keeps them: by host (not port), name and path. */
export class CookieJar {
  private cookies: Array<{ host: string; name: string; value: string; path: string }> = [];

  store(url: URL, response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      const attr = new Map(attributes.map((a) => [a.split('=')[0]!.toLowerCase(), a.split('=').slice(1).join('=')]));
      const path = attr.get('path') || '/';
      const expired =
        attr.get('max-age') === '0' ||
        (attr.has('expires') && new Date(attr.get('expires')!).getTime() <= Date.now()) ||
        value === '';
      this.cookies = this.cookies.filter((c) => !(c.host === url.hostname && c.name === name && c.path === path));
      if (!expired) this.cookies.push({ host: url.hostname, name, value, path });
    }
  }

  header(url: URL): string {
    return this.cookies
      .filter(
        (c) =>
          c.host === url.hostname &&
          (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)),
      )
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  get(name: string): string | undefined {
    return this.cookies.find((c) => c.name === name)?.value;
  }

  set(name: string, value: string) {
    for (const c of this.cookies) if (c.name === name) c.value = value;
  }
}

export interface Journey {
  /** Palier's answer to the provider's redirect back (or to the login start, if it went no further). */
  final: Response;
  location: string | null;
  jar: CookieJar;
  /** Every URL visited, in order. */
  visited: string[];
}

/**
 * Starts at Palier's login route and follows every redirect, signing in at the provider as
 * `account` and consenting, until the provider sends the browser back to Palier; `beforeCallback`
 * may alter that last request (its URL, or the browser's cookies).
 */
export async function signInThrough(
  palierUrl: string,
  idp: IdentityProvider,
  account: string,
  beforeCallback?: (url: URL, jar: CookieJar) => URL | 'stop',
): Promise<Journey> {
  const jar = new CookieJar();
  const visited: string[] = [];
  let url = new URL('/api/v1/auth/oidc/login', palierUrl);
  let method = 'GET';
  let body: URLSearchParams | undefined;
  for (let step = 0; step < 20; step++) {
    const isCallback = url.pathname === '/api/v1/auth/oidc/callback';
    if (isCallback && beforeCallback) {
      const altered = beforeCallback(url, jar);
      if (altered === 'stop') return { final: new Response(null), location: null, jar, visited: [...visited, `GET ${url.href}`] };
      url = altered;
    }
    visited.push(`${method} ${url.href}`);
    const headers: Record<string, string> = { cookie: jar.header(url) };
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    jar.store(url, res);
    const location = res.headers.get('location');
    if (isCallback || (url.origin === palierUrl && !location?.startsWith(idp.issuer) && res.status !== 200))
      return { final: res, location, jar, visited };
    if (location) {
      url = new URL(location, url);
      method = 'GET';
      body = undefined;
      continue;
    }
    // A page of the provider's own: the login form, then the consent form.
    const page = (await res.json()) as { uid: string; prompt: string };
    expect(res.status, JSON.stringify(page)).toBe(200);
    method = 'POST';
    if (page.prompt === 'login') {
      url = new URL(`/interaction/${page.uid}/login`, idp.issuer);
      body = new URLSearchParams({ account });
    } else {
      expect(page.prompt).toBe('consent');
      url = new URL(`/interaction/${page.uid}/confirm`, idp.issuer);
      body = new URLSearchParams();
    }
  }
  throw new Error(`too many redirects: ${visited.join('\n')}`);
}
