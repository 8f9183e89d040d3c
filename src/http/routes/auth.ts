import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config.js';
import type { Services } from '../../services/context.js';
import { issueToken, revokeToken } from '../../services/auth.service.js';
import { SESSION_COOKIE } from '../auth.js';
import { errorResponses } from '../schemas.js';

const credentials = z.object({ email: z.string().trim().min(3).max(320), password: z.string().min(1).max(1024) }).strict();
const userSummary = z.object({ id: z.number(), email: z.string(), role: z.string(), displayName: z.string(), locale: z.string(), tiers: z.array(z.string()) });

export function authRoutes(services: Services, config: Config): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/api/v1/auth/token',
      {
        config: { public: true },
        schema: {
          tags: ['auth'],
          summary: 'Exchange e-mail and password for an API token (shown once)',
          body: credentials,
          response: { 200: z.object({ token: z.string(), expiresAt: z.string().nullable(), user: userSummary }), ...errorResponses },
        },
      },
      async (request) => {
        const { token, user, expiresAt } = await issueToken(services, request.body.email, request.body.password, 'api', config.tokenTtlMs);
        return { token, expiresAt: expiresAt ? new Date(expiresAt).toISOString() : null, user };
      },
    );

    app.delete(
      '/api/v1/auth/token',
      { schema: { tags: ['auth'], summary: 'Revoke the token this request carries', response: { 204: z.null(), ...errorResponses } } },
      async (request, reply) => {
        const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? request.cookies[SESSION_COOKIE];
        if (token) await revokeToken(services, token);
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/api/v1/auth/session',
      {
        config: { public: true },
        schema: {
          tags: ['auth'],
          summary: 'Sign in the browser app: sets an HttpOnly session cookie',
          body: credentials,
          response: { 200: z.object({ user: userSummary }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const { token, user, expiresAt } = await issueToken(services, request.body.email, request.body.password, 'session', 12 * 3_600_000);
        reply.setCookie(SESSION_COOKIE, token, {
          path: '/',
          httpOnly: true,
          sameSite: 'strict',
          secure: request.protocol === 'https',
          ...(expiresAt ? { expires: new Date(expiresAt) } : {}),
        });
        return { user };
      },
    );
  };
}
