import { timingSafeEqual } from 'node:crypto';
import * as oidc from 'openid-client';
import { LOOPBACK, type OidcConfig, type OidcRoleSync } from '../config.js';
import { DomainError } from '../domain/errors.js';
import type { Actor } from '../domain/policy.js';
import type { User } from '../store/user.repository.js';
import { addUser, changeUser } from './auth.service.js';
import type { Services } from './context.js';
import { accessFromGroups, readGroups, type GroupsClaim, type MappableRole } from './oidc-roles.js';

/** Why a single sign-on attempt was refused; the sign-in page shows each in both languages. */
export type OidcRefusal =
  | 'sso_state' // no, expired or forged sign-in in progress, or a response that does not match it
  | 'sso_cancelled' // the person declined, or the identity provider refused, at the provider
  | 'sso_failed' // the provider's answer did not check out (code, tokens, signatures)
  | 'sso_unavailable' // the provider could not be reached
  | 'sso_email_unverified'
  | 'sso_unknown_user'
  | 'sso_user_disabled'
  | 'sso_no_role'; // role sync refuses people whose groups map to nothing (PALIER_OIDC_ROLE_FALLBACK=refuse)

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

/** What a sign-in did to the person's role and tiers, for the security log. */
export interface RoleSyncOutcome {
  from: { role: User['role']; tiers: string[] };
  to: { role: User['role']; tiers: string[] };
  /** The person's groups that are in the map. */
  groups: string[];
  groupsClaim: GroupsClaim['state'];
  /** Why the role was left as it was although the groups say otherwise. */
  kept?: 'last_admin' | 'vendor_contact' | 'groups_overage' | undefined;
  /** Tiers of the map that the current matrix does not have (ignored). */
  ignoredTiers: string[];
}

/** Who changes a role when the identity provider's groups say so (not a person, so never "themselves"). */
const IDENTITY_PROVIDER: Actor = { id: 0, role: 'admin', tiers: [], vendorId: null };

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
  ): Promise<SignedIn> {
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
    let idTokenText: string | undefined;
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
      idTokenText = tokens.id_token;
      claims = { ...idToken };
      // Providers that follow the OpenID Connect rules strictly give e-mail claims only at UserInfo;
      // some give groups there only.
      const groupsElsewhere =
        this.settings.roleSync && readGroups(idToken, this.settings.roleSync.groupsClaim).state === 'missing';
      if (typeof idToken.email !== 'string' || idToken.email_verified === undefined || groupsElsewhere) {
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
    const found = await this.person(claims);
    return { ...found, idToken: idTokenText };
  }

  /**
   * Where to send the browser so that the provider ends its own session too (RP-Initiated Logout
   * 1.0), then back to `postLogoutRedirectUri`; undefined when single logout is off, the provider
   * offers no end_session_endpoint, or it cannot be reached (the sign-out then stays local).
   */
  async endSessionUrl(idToken: string, postLogoutRedirectUri: string): Promise<string | undefined> {
    if (this.settings.singleLogout === false) return undefined;
    const config = await this.configuration().catch(() => undefined);
    if (!config?.serverMetadata().end_session_endpoint) return undefined;
    return oidc.buildEndSessionUrl(config, {
      id_token_hint: idToken,
      post_logout_redirect_uri: postLogoutRedirectUri,
      client_id: this.settings.clientId,
    }).href;
  }

  /** The Palier user of the provider's verified e-mail (made, or role-synced, as the settings say). */
  private async person(claims: Record<string, unknown>): Promise<Omit<SignedIn, 'idToken'>> {
    const subject = String(claims.sub);
    const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
    if (!email) throw new OidcSignInError('sso_email_unverified', 'The identity provider gave no e-mail address', { subject });
    // Only a strict `true`: an address the provider has not verified could be anyone's.
    if (claims.email_verified !== true)
      throw new OidcSignInError('sso_email_unverified', 'The identity provider has not verified this e-mail address', {
        subject,
        email,
      });
    const access = this.settings.roleSync ? await this.mappedAccess(this.settings.roleSync, claims) : undefined;
    const found = await this.services.users.byEmail(email);
    if (found) {
      if (found.disabled)
        throw new OidcSignInError('sso_user_disabled', 'This Palier account is disabled', { subject, email, userId: found.id });
      const { passwordHash: _omit, ...user } = found;
      if (!access) return { user, created: false, subject };
      return { ...(await this.syncRole(user, access, subject)), created: false, subject };
    }
    if (this.settings.autoCreate !== 'requester')
      throw new OidcSignInError('sso_unknown_user', 'No Palier account has this e-mail address', { subject, email });
    if (access) this.refuseUnmapped(access, subject, email);
    // Without role sync, requester only whatever the provider says: roles are then given in Palier.
    const role = access?.role ?? 'requester';
    const tiers = access?.tiers ?? [];
    const name = typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim().slice(0, 200) : undefined;
    const locale = typeof claims.locale === 'string' && /^en\b/i.test(claims.locale) ? 'en' : 'fr';
    try {
      const user = await addUser(this.services, { email, role, tiers, displayName: name, locale });
      const sync = access && { ...access.outcome, from: { role, tiers }, to: { role, tiers } };
      return { user, created: true, subject, sync };
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

  /** The role and tiers the person's groups give under the current matrix (the fallback when none). */
  private async mappedAccess(sync: OidcRoleSync, claims: Record<string, unknown>): Promise<MappedSignIn> {
    const claim = readGroups(claims, sync.groupsClaim);
    const matrixTiers = (await this.services.matrices.current())?.tiers.map((t) => t.key) ?? [];
    const mapped = accessFromGroups(claim.groups, sync.map, matrixTiers);
    return {
      role: mapped.role ?? (sync.fallback === 'requester' || claim.state === 'overage' ? 'requester' : null),
      tiers: mapped.tiers,
      outcome: { groups: mapped.matched, groupsClaim: claim.state, ignoredTiers: mapped.ignoredTiers },
    };
  }

  private refuseUnmapped(
    access: MappedSignIn,
    subject: string,
    email: string,
  ): asserts access is MappedSignIn & { role: MappableRole } {
    if (access.role === null)
      throw new OidcSignInError('sso_no_role', 'None of the groups the identity provider gives maps to a Palier role', {
        subject,
        email,
        groupsClaim: access.outcome.groupsClaim,
      });
  }

  /**
   * Sets a known user's role and tiers to what their groups give (or refuses them when nothing is
   * mapped and the fallback says so). Vendor contacts are left alone, and so is everyone when the
   * provider left the groups out (Entra ID overage); the last active administrator keeps the role
   * (the same rule as in the users page).
   */
  private async syncRole(user: User, access: MappedSignIn, subject: string): Promise<{ user: User; sync: RoleSyncOutcome }> {
    const from = { role: user.role, tiers: user.tiers };
    const unchanged = (kept?: RoleSyncOutcome['kept']) => ({ user, sync: { ...access.outcome, from, to: from, kept } });
    if (user.role === 'vendor') return unchanged('vendor_contact');
    if (access.outcome.groupsClaim === 'overage') return unchanged('groups_overage');
    this.refuseUnmapped(access, subject, user.email);
    if (user.role === access.role && sameSet(user.tiers, access.tiers)) return unchanged();
    try {
      const { after } = await changeUser(this.services, IDENTITY_PROVIDER, user.id, { role: access.role, tiers: access.tiers });
      return { user: after, sync: { ...access.outcome, from, to: { role: after.role, tiers: after.tiers } } };
    } catch (error) {
      if (error instanceof DomainError && error.code === 'last_admin') return unchanged('last_admin');
      throw error;
    }
  }
}

export interface SignedIn {
  user: User;
  created: boolean;
  subject: string;
  sync?: RoleSyncOutcome | undefined;
  /** Kept with the session (server-side only) as the id_token_hint of the provider's sign-out. */
  idToken?: string | undefined;
}

interface MappedSignIn {
  /** null: the groups give nothing and the fallback is to refuse. */
  role: MappableRole | null;
  tiers: string[];
  outcome: Pick<RoleSyncOutcome, 'groups' | 'groupsClaim' | 'ignoredTiers'>;
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
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
