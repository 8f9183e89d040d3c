import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { DomainError } from '../../domain/errors.js';
import { issueTokenFor } from '../../services/auth.service.js';
import type { Services } from '../../services/context.js';
import { unknownMappedTiers } from '../../services/oidc-roles.js';
import {
  OidcSignInError,
  type OidcSignIn,
  TRANSACTION_TTL_MS,
  type OidcTransaction,
  type RoleSyncOutcome,
} from '../../services/oidc.service.js';
import { errorResponses } from '../schemas.js';
import { logSecurity } from '../security-log.js';
import { SESSION_TTL_MS, startBrowserSession } from './auth.js';

export const OIDC_CALLBACK_PATH = '/api/v1/auth/oidc/callback';
/** Holds state, nonce and PKCE verifier while the person is at the provider; sent back only to the callback. */
export const OIDC_COOKIE = 'palier_oidc';
const SIGNING_PURPOSE = 'oidc-transaction';

const text = (max: number) => z.string().max(max);
/** What a provider may add to the callback (OpenID Connect Core, RFC 9207 `iss`, session management). */
const callbackQuery = z
  .object({
    code: text(2048).optional(),
    state: text(512).optional(),
    iss: text(2048).optional(),
    session_state: text(2048).optional(),
    error: text(200).optional(),
    error_description: text(2048).optional(),
    error_uri: text(2048).optional(),
  })
  .strict();

const redirectResponse = z.null().describe('Redirect (Location header)');

const disabled = () => new DomainError('not_found', 'oidc_disabled', 'OpenID Connect sign-in is not configured');

/** The transaction, signed with the instance secret so that the browser cannot alter it. */
function sealTransaction(services: Services, transaction: OidcTransaction): string {
  const payload = Buffer.from(JSON.stringify(transaction)).toString('base64url');
  return `${payload}.${services.signer.sign(SIGNING_PURPOSE, payload)}`;
}

function openTransaction(services: Services, sealed: string | undefined): OidcTransaction | undefined {
  if (!sealed || sealed.length > 4096) return undefined;
  const [payload, signature, extra] = sealed.split('.');
  if (!payload || !signature || extra !== undefined) return undefined;
  const expected = Buffer.from(services.signer.sign(SIGNING_PURPOSE, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  try {
    const t = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<OidcTransaction>;
    if (
      typeof t.state !== 'string' ||
      typeof t.nonce !== 'string' ||
      typeof t.verifier !== 'string' ||
      typeof t.expiresAt !== 'number'
    )
      return undefined;
    return { state: t.state, nonce: t.nonce, verifier: t.verifier, expiresAt: t.expiresAt };
  } catch {
    return undefined;
  }
}

/** Security log lines for what a sign-in did to the person's role and tiers (changes are `role_changed`, as from the users page). */
function logRoleSync(request: FastifyRequest, userId: number, subject: string, sync: RoleSyncOutcome, created: boolean) {
  const who = { userId, targetId: userId, via: 'oidc', subject, groups: sync.groups, groupsClaim: sync.groupsClaim };
  if (sync.ignoredTiers.length)
    request.log.warn(
      { oidc: { ...who, ignoredTiers: sync.ignoredTiers } },
      'single sign-on: PALIER_OIDC_ROLE_MAP names tiers the matrix does not have; ignored',
    );
  if (sync.kept)
    logSecurity(request, 'role_sync_kept', { ...who, reason: sync.kept, role: sync.from.role, tiers: sync.from.tiers });
  else if (!created && (sync.from.role !== sync.to.role || sync.from.tiers.join() !== sync.to.tiers.join()))
    logSecurity(request, 'role_changed', { ...who, from: sync.from, to: sync.to });
}

/** `signIn`: the provider's client, when PALIER_OIDC_ISSUER is set. */
export function oidcRoutes(services: Services, config: Config, signIn: OidcSignIn | undefined): FastifyPluginAsyncZod {
  const secure = (request: FastifyRequest) => config.https || request.protocol === 'https';
  const refuseWhenOff = async () => {
    if (!signIn) throw disabled();
  };
  const redirect = (reply: FastifyReply, location: string) => reply.header('cache-control', 'no-store').redirect(location, 302);

  return async (app) => {
    const roleMap = config.oidc?.roleSync?.map;
    if (roleMap) {
      const unknown = unknownMappedTiers(roleMap, (await services.matrices.current())?.tiers.map((t) => t.key) ?? []);
      if (unknown.length)
        app.log.warn(
          { oidc: { unknownTiers: unknown } },
          `PALIER_OIDC_ROLE_MAP names tiers the current matrix does not have (${unknown.join(', ')}): ignored at sign-in`,
        );
    }

    app.get(
      '/api/v1/auth/oidc',
      {
        config: { public: true },
        schema: {
          tags: ['auth'],
          summary:
            'Whether single sign-on (OpenID Connect) is offered, for the sign-in page, and whether it sets roles from provider groups, for the users page',
          security: [],
          response: { 200: z.object({ enabled: z.boolean(), roleSync: z.boolean() }), ...errorResponses },
        },
      },
      async () => ({ enabled: signIn !== undefined, roleSync: signIn?.settings.roleSync !== undefined }),
    );

    app.get(
      '/api/v1/auth/oidc/login',
      {
        config: { public: true },
        // Before the query is read: without an identity provider these routes do not exist.
        onRequest: refuseWhenOff,
        schema: {
          tags: ['auth'],
          summary:
            'Start single sign-on: redirects to the identity provider (state, nonce and PKCE kept in a short-lived signed cookie)',
          security: [],
          response: { 302: redirectResponse, ...errorResponses },
        },
      },
      async (request, reply) => {
        if (!signIn) throw disabled(); // (narrows the type; refuseWhenOff already answered)
        try {
          const { url, transaction } = await signIn.begin();
          reply.setCookie(OIDC_COOKIE, sealTransaction(services, transaction), {
            path: OIDC_CALLBACK_PATH,
            httpOnly: true,
            // Lax: the provider sends the person back with a top-level GET from another site.
            sameSite: 'lax',
            secure: secure(request),
            maxAge: TRANSACTION_TTL_MS / 1000,
          });
          return redirect(reply, url);
        } catch (error) {
          if (!(error instanceof OidcSignInError)) throw error;
          logSecurity(request, 'sign_in_failed', { via: 'oidc', reason: error.code, ...error.fields });
          return redirect(reply, `/signin?error=${error.code}`);
        }
      },
    );

    app.get(
      OIDC_CALLBACK_PATH,
      {
        config: { public: true },
        // Before the query is read: without an identity provider these routes do not exist.
        onRequest: refuseWhenOff,
        schema: {
          tags: ['auth'],
          summary:
            'Where the identity provider sends people back: checks the answer, opens a browser session and redirects to the app',
          description:
            'On success, sets the same session cookie as POST /api/v1/auth/session and redirects to /. On failure, redirects to /signin?error=CODE ' +
            '(sso_state, sso_cancelled, sso_failed, sso_unavailable, sso_email_unverified, sso_unknown_user, sso_user_disabled, sso_no_role).',
          security: [],
          querystring: callbackQuery,
          response: { 302: redirectResponse, ...errorResponses },
        },
      },
      async (request, reply) => {
        if (!signIn) throw disabled(); // (narrows the type; refuseWhenOff already answered)
        const transaction = openTransaction(services, request.cookies[OIDC_COOKIE]);
        // One use only, whatever the outcome.
        reply.clearCookie(OIDC_COOKIE, { path: OIDC_CALLBACK_PATH, httpOnly: true, sameSite: 'lax', secure: secure(request) });
        const query = new URLSearchParams();
        for (const [key, value] of Object.entries(request.query)) if (value !== undefined) query.set(key, value);
        try {
          const { user, created, subject, sync, idToken } = await signIn.finish(query, transaction);
          if (created)
            logSecurity(request, 'user_created', { userId: user.id, role: user.role, tiers: user.tiers, via: 'oidc', subject });
          if (sync) logRoleSync(request, user.id, subject, sync, created);
          const session = await issueTokenFor(services, user, 'session', SESSION_TTL_MS, null, idToken);
          await startBrowserSession(services, config, request, reply, session.token, session.expiresAt);
          logSecurity(request, 'sign_in', { userId: user.id, kind: 'session', tokenId: session.tokenId, via: 'oidc', subject });
          return redirect(reply, '/');
        } catch (error) {
          if (!(error instanceof OidcSignInError)) throw error;
          logSecurity(request, 'sign_in_failed', { via: 'oidc', reason: error.code, ...error.fields });
          return redirect(reply, `/signin?error=${error.code}`);
        }
      },
    );
  };
}
