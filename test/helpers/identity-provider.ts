/**
 * A real OpenID Connect provider (oidc-provider) on 127.0.0.1 for single sign-on tests, with its own
 * login and consent steps. Its interaction pages answer JSON to scripted clients and a small HTML
 * form to browsers (Accept: text/html).
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import Provider from 'oidc-provider';

export const CLIENT_ID = 'palier';
export const CLIENT_SECRET = 'a-client-secret-of-the-palier-instance-0123456789';

export interface ProviderAccount {
  email: string;
  email_verified: boolean;
  name: string;
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

/**
 * An identity provider with a client registered for Palier's callback. Its login page takes the
 * account id the "browser" posts; its consent page grants what the client asked for.
 */
export async function startIdentityProvider(redirectUri: string, opts: { claimsInIdToken?: boolean } = {}): Promise<IdentityProvider> {
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
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    findAccount: async (_ctx, sub) => {
      const account = accounts.get(sub);
      return account ? { accountId: sub, claims: () => ({ sub, ...account }) } : undefined;
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: false } },
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

