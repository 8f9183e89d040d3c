import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { DomainError } from '../../domain/errors.js';
import type { Services } from '../../services/context.js';
import type { OidcSignIn } from '../../services/oidc.service.js';
import { createApiToken, hashToken, issueToken, listTokens, revokeToken, revokeTokenById } from '../../services/auth.service.js';
import { actorOf, SESSION_COOKIE } from '../auth.js';
import { errorResponses, idParams } from '../schemas.js';
import { logSecurity } from '../security-log.js';

const credentials = z.object({ email: z.string().trim().min(3).max(320), password: z.string().min(1).max(1024) }).strict();
const userSummary = z.object({
  id: z.number(),
  email: z.string(),
  role: z.string(),
  displayName: z.string(),
  locale: z.string(),
  tiers: z.array(z.string()),
});
const tokenSchema = z
  .object({
    id: z.number(),
    kind: z.enum(['api', 'session']),
    name: z.string().nullable(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    current: z.boolean().describe('The token this request was made with'),
  })
  .meta({ id: 'ApiToken' });

export const SESSION_TTL_MS = 12 * 3_600_000;

/**
 * Hands the browser its new session cookie. A session id planted before sign-in never becomes a
 * signed-in one (session fixation): the one presented, if any, is revoked.
 */
export async function startBrowserSession(
  services: Services,
  config: Config,
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
  expiresAt: number | null,
): Promise<void> {
  const previous = request.cookies[SESSION_COOKIE];
  if (previous) await revokeToken(services, previous);
  reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: config.https || request.protocol === 'https',
    ...(expiresAt ? { expires: new Date(expiresAt) } : {}),
  });
}
const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString());
const tooMany = { 429: errorResponses[400] };

/** The token a request carries, from its Authorization header or its session cookie. */
function presentedToken(request: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? request.cookies[SESSION_COOKIE];
}

/** Where the provider sends people back after its own sign-out: Palier's sign-in page. */
export const SIGN_IN_PAGE = '/signin';

/** `oidc`: the identity provider's client, when single sign-on is configured (for its sign-out). */
export function authRoutes(services: Services, config: Config, oidc?: OidcSignIn): FastifyPluginAsyncZod {
  /**
   * Password guessing is slowed per client address and e-mail: `loginRateLimit` attempts a minute,
   * then 429 with Retry-After. Counted after the body is read, so the e-mail is part of the key.
   */
  const signInLimit = {
    max: config.loginRateLimit,
    timeWindow: 60_000,
    groupId: 'sign-in',
    hook: 'preHandler' as const,
    keyGenerator: (request: FastifyRequest) =>
      `${request.ip}|${String((request.body as { email?: unknown } | undefined)?.email ?? '')
        .trim()
        .toLowerCase()}`,
    errorResponseBuilder: (request: FastifyRequest, context: { after: string }) => {
      logSecurity(request, 'sign_in_rate_limited', { email: (request.body as { email?: string } | undefined)?.email });
      return new DomainError('rate_limited', 'rate_limited', `Too many sign-in attempts; try again in ${context.after}`);
    },
  };

  /** Checks the password and issues a token, logging the outcome either way. */
  async function signIn(request: FastifyRequest, body: z.infer<typeof credentials>, kind: 'api' | 'session', ttlMs: number) {
    try {
      const issued = await issueToken(services, body.email, body.password, kind, ttlMs);
      logSecurity(request, 'sign_in', { userId: issued.user.id, kind, tokenId: issued.tokenId });
      return issued;
    } catch (error) {
      if (error instanceof DomainError && error.code === 'invalid_credentials')
        logSecurity(request, 'sign_in_failed', { email: body.email, kind });
      throw error;
    }
  }

  /** Revokes the token or session the request carries and clears the cookie; answers a single sign-on session's ID token. */
  async function signOut(request: FastifyRequest, reply: FastifyReply): Promise<string | null> {
    const token = presentedToken(request);
    const idToken = token ? await revokeToken(services, token) : null;
    logSecurity(request, 'sign_out', { userId: actorOf(request).id });
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return idToken;
  }

  return async (app) => {
    app.post(
      '/api/v1/auth/token',
      {
        config: { public: true, rateLimit: signInLimit },
        schema: {
          tags: ['auth'],
          summary: 'Exchange e-mail and password for an API token (shown once)',
          security: [],
          body: credentials,
          response: {
            200: z.object({ token: z.string(), expiresAt: z.string().nullable(), user: userSummary }),
            ...errorResponses,
            ...tooMany,
          },
        },
      },
      async (request) => {
        const { token, user, expiresAt } = await signIn(request, request.body, 'api', config.tokenTtlMs);
        return { token, expiresAt: iso(expiresAt), user };
      },
    );

    app.delete(
      '/api/v1/auth/token',
      {
        schema: {
          tags: ['auth'],
          summary: 'Sign out: revoke the token or session this request carries',
          response: { 204: z.null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await signOut(request, reply);
        return reply.status(204).send(null);
      },
    );

    app.delete(
      '/api/v1/auth/session',
      {
        schema: {
          tags: ['auth'],
          summary: 'Sign the browser app out; after single sign-on, also says where to end the session at the identity provider',
          description:
            'Revokes the session (or token) this request carries and clears the cookie. providerSignOutUrl is the provider\'s ' +
            'end_session_endpoint (OpenID Connect RP-Initiated Logout, with id_token_hint, post_logout_redirect_uri = the sign-in page ' +
            'and client_id) when the session came from single sign-on, the provider offers one and PALIER_OIDC_SINGLE_LOGOUT is on; otherwise null.',
          response: { 200: z.object({ providerSignOutUrl: z.string().nullable() }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const idToken = await signOut(request, reply);
        const url = idToken && oidc ? await oidc.endSessionUrl(idToken, `${services.site.publicUrl}${SIGN_IN_PAGE}`) : undefined;
        reply.header('cache-control', 'no-store');
        return { providerSignOutUrl: url ?? null };
      },
    );

    app.post(
      '/api/v1/auth/session',
      {
        config: { public: true, rateLimit: signInLimit },
        schema: {
          tags: ['auth'],
          summary: 'Sign in the browser app: sets an HttpOnly session cookie (a new session id each time)',
          security: [],
          body: credentials,
          response: { 200: z.object({ user: userSummary }), ...errorResponses, ...tooMany },
        },
      },
      async (request, reply) => {
        const { token, user, expiresAt } = await signIn(request, request.body, 'session', SESSION_TTL_MS);
        await startBrowserSession(services, config, request, reply, token, expiresAt);
        return { user };
      },
    );

    app.get(
      '/api/v1/auth/tokens',
      {
        config: { permission: 'token.manage' },
        schema: {
          tags: ['auth'],
          summary: 'Your live tokens and sessions (never their secrets)',
          response: { 200: z.object({ items: z.array(tokenSchema) }), ...errorResponses },
        },
      },
      async (request) => {
        const presented = presentedToken(request);
        const current = presented ? hashToken(presented) : undefined;
        const tokens = await listTokens(services, actorOf(request));
        return {
          items: tokens.map((t) => ({
            id: t.id,
            kind: t.kind,
            name: t.name,
            createdAt: iso(t.createdAt)!,
            expiresAt: iso(t.expiresAt),
            current: t.tokenHash === current,
          })),
        };
      },
    );

    app.post(
      '/api/v1/auth/tokens',
      {
        config: { permission: 'token.manage' },
        schema: {
          tags: ['auth'],
          summary: 'Create a named API token for yourself (its secret is shown once)',
          body: z
            .object({
              name: z.string().trim().min(1).max(100),
              expiresInDays: z
                .number()
                .int()
                .min(1)
                .max(3650)
                .optional()
                .describe('Without it, the server default lifetime applies'),
            })
            .strict(),
          response: { 201: tokenSchema.omit({ current: true }).extend({ token: z.string() }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        const ttl = request.body.expiresInDays ? request.body.expiresInDays * 86_400_000 : config.tokenTtlMs || null;
        const created = await createApiToken(services, actor, request.body.name, ttl);
        logSecurity(request, 'token_created', { userId: actor.id, tokenId: created.id, expiresAt: iso(created.expiresAt) });
        return reply.status(201).send({
          id: created.id,
          kind: 'api' as const,
          name: request.body.name,
          createdAt: iso(created.createdAt)!,
          expiresAt: iso(created.expiresAt),
          token: created.token,
        });
      },
    );

    app.delete(
      '/api/v1/auth/tokens/:id',
      {
        config: { permission: 'token.manage' },
        schema: {
          tags: ['auth'],
          summary: 'Revoke one of your tokens or sessions, at once',
          params: idParams,
          response: { 204: z.null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        await revokeTokenById(services, actor, request.params.id);
        logSecurity(request, 'token_revoked', { userId: actor.id, tokenId: request.params.id });
        return reply.status(204).send(null);
      },
    );
  };
}
