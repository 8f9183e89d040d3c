import { timingSafeEqual } from 'node:crypto';
import * as oidc from 'openid-client';
import { LOOPBACK, type OidcConfig } from '../config.js';
import type { User } from '../store/user.repository.js';
import { addUser } from './auth.service.js';
import type { Services } from './context.js';

/** Why a single sign-on attempt was refused; the sign-in page shows each in both languages. */
export type OidcRefusal =
  | 'sso_state' // no, expired or forged sign-in in progress, or a response that does not match it
  | 'sso_cancelled' // the person declined, or the identity provider refused, at the provider
  | 'sso_failed' // the provider's answer did not check out (code, tokens, signatures)
  | 'sso_unavailable' // the provider could not be reached
  | 'sso_email_unverified'
  | 'sso_unknown_user'
  | 'sso_user_disabled';

export class OidcSignInError extends Error {
  constructor(
    readonly code: OidcRefusal,
    message: string,
    /** What the logs may add (never a token). */
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'OidcSignInError';
  }
}

/** What the browser keeps between leaving for the provider and coming back. */
export interface OidcTransaction {
  state: string;
  nonce: string;
  verifier: string;
  /** Epoch milliseconds after which the transaction is refused. */
  expiresAt: number;
}

/** A sign-in started at the provider has this long to come back. */
export const TRANSACTION_TTL_MS = 10 * 60_000;
const DISCOVERY_TTL_MS = 60 * 60_000;
const PROVIDER_TIMEOUT_S = 10;

/**
 * OpenID Connect sign-in (authorization code flow, PKCE S256, state and nonce). The provider's
 * metadata is discovered on first use and again every hour; a failed discovery is retried on the
 * next attempt rather than remembered.
 */
export class OidcSignIn {
  private discovered: { at: number; config: Promise<oidc.Configuration> } | undefined;

  constructor(
    private readonly services: Services,
    readonly settings: OidcConfig,
    /** Registered at the provider: where it sends people back. */
    readonly redirectUri: string,
  ) {}

  private configuration(): Promise<oidc.Configuration> {
    const now = this.services.clock.now();
    if (!this.discovered || now - this.discovered.at > DISCOVERY_TTL_MS) {
      const issuer = new URL(this.settings.issuer);
      const config = oidc
        .discovery(
          issuer,
          this.settings.clientId,
          this.settings.clientSecret,
          this.settings.clientSecret ? oidc.ClientSecretBasic(this.settings.clientSecret) : oidc.None(),
          {
            timeout: PROVIDER_TIMEOUT_S,
            // Plain http is accepted only for a provider on this machine (checked in config.ts).
            ...(issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname) ? { execute: [oidc.allowInsecureRequests] } : {}),
          },
        )
        .then((c) => {
          c.timeout = PROVIDER_TIMEOUT_S;
          return c;
        });
      const entry = { at: now, config };
      this.discovered = entry;
      config.catch(() => {
        if (this.discovered === entry) this.discovered = undefined;
      });
    }
    return this.discovered.config;
  }

  /** The provider's authorization URL, and what must come back with the person. */
  async begin(): Promise<{ url: string; transaction: OidcTransaction }> {
    let config: oidc.Configuration;
    try {
      config = await this.configuration();
    } catch (error) {
      throw new OidcSignInError('sso_unavailable', 'The identity provider cannot be reached', { cause: describe(error) });
    }
    const verifier = oidc.randomPKCECodeVerifier();
    const transaction: OidcTransaction = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier,
      expiresAt: this.services.clock.now() + TRANSACTION_TTL_MS,
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: this.settings.scopes,
      response_type: 'code',
      state: transaction.state,
      nonce: transaction.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, transaction };
  }

  /**
   * Checks the provider's answer against the transaction (state, then the code exchange with the
   * PKCE verifier, then the ID token's signature, issuer, audience and nonce), and finds the
   * Palier user of its verified e-mail.
   */
  async finish(
    query: URLSearchParams,
    transaction: OidcTransaction | undefined,
  ): Promise<{ user: User; created: boolean; subject: string }> {
    if (!transaction || transaction.expiresAt <= this.services.clock.now())
      throw new OidcSignInError('sso_state', 'No sign-in in progress, or it has expired');
    // Checked here as well as by the library: a forged state never reaches the provider's token endpoint.
    const state = query.get('state');
    if (state === null || !sameText(state, transaction.state)) throw new OidcSignInError('sso_state', 'The state does not match');
    if (query.has('error')) {
      throw new OidcSignInError('sso_cancelled', 'The identity provider refused the sign-in', {
        providerError: query.get('error')?.slice(0, 100),
      });
    }
    let config: oidc.Configuration;
    try {
      config = await this.configuration();
    } catch (error) {
      throw new OidcSignInError('sso_unavailable', 'The identity provider cannot be reached', { cause: describe(error) });
    }
    let claims: Record<string, unknown>;
    try {
      const callback = new URL(this.redirectUri);
      callback.search = query.toString();
      const tokens = await oidc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: transaction.verifier,
        expectedState: transaction.state,
        expectedNonce: transaction.nonce,
        idTokenExpected: true,
      });
      const idToken = tokens.claims()!;
      claims = { ...idToken };
      // Providers that follow the OpenID Connect rules strictly give e-mail claims only at UserInfo.
      if (typeof idToken.email !== 'string' || idToken.email_verified === undefined) {
        const info = await oidc.fetchUserInfo(config, tokens.access_token, idToken.sub);
        // The address and its verification flag always come as a pair from one source.
        const source = typeof info.email === 'string' ? info : idToken;
        claims = { ...info, ...idToken, email: source.email, email_verified: source.email_verified };
      }
    } catch (error) {
      if (isUnreachable(error))
        throw new OidcSignInError('sso_unavailable', 'The identity provider cannot be reached', { cause: describe(error) });
      if (error instanceof oidc.AuthorizationResponseError)
        throw new OidcSignInError('sso_cancelled', 'The identity provider refused the sign-in', { providerError: error.error });
      throw new OidcSignInError('sso_failed', "The identity provider's answer could not be verified", { cause: describe(error) });
    }
    const subject = String(claims.sub);
    const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
    if (!email) throw new OidcSignInError('sso_email_unverified', 'The identity provider gave no e-mail address', { subject });
    // Only a strict `true`: an address the provider has not verified could be anyone's.
    if (claims.email_verified !== true)
      throw new OidcSignInError('sso_email_unverified', 'The identity provider has not verified this e-mail address', {
        subject,
        email,
      });
    const found = await this.services.users.byEmail(email);
    if (found) {
      if (found.disabled)
        throw new OidcSignInError('sso_user_disabled', 'This Palier account is disabled', { subject, email, userId: found.id });
      const { passwordHash: _omit, ...user } = found;
      return { user, created: false, subject };
    }
    if (this.settings.autoCreate !== 'requester')
      throw new OidcSignInError('sso_unknown_user', 'No Palier account has this e-mail address', { subject, email });
    // Requester only, whatever the provider says about the person: roles are given in Palier.
    const name = typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim().slice(0, 200) : undefined;
    const locale = typeof claims.locale === 'string' && /^en\b/i.test(claims.locale) ? 'en' : 'fr';
    try {
      const user = await addUser(this.services, { email, role: 'requester', displayName: name, locale });
      return { user, created: true, subject };
    } catch (error) {
      // Two first sign-ins at once: the other one made the account.
      const again = await this.services.users.byEmail(email);
      if (!again) throw error;
      if (again.disabled)
        throw new OidcSignInError('sso_user_disabled', 'This Palier account is disabled', { subject, email, userId: again.id });
      const { passwordHash: _omit, ...user } = again;
      return { user, created: false, subject };
    }
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function isUnreachable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
    if (e instanceof TypeError && e.message === 'fetch failed') return true;
  }
  return false;
}

/** A short, token-free description of a failure for the security log. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error).slice(0, 200);
  const code = (error as { code?: unknown }).code;
  return `${error.name}${typeof code === 'string' ? ` ${code}` : ''}: ${error.message}`.slice(0, 200);
}
