import '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError, forbidden } from '../domain/errors.js';
import { can, type Actor, type Permission } from '../domain/policy.js';
import { actorForToken } from '../services/auth.service.js';
import type { Services } from '../services/context.js';
import { logSecurity } from './security-log.js';

export const SESSION_COOKIE = 'palier_session';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
  }
  interface FastifyContextConfig {
    /** Reachable without signing in. */
    public?: boolean;
    /** The permission a route needs before it looks at any particular incident. */
    permission?: Permission;
  }
}

const unauthorized = () => new DomainError('unauthorized', 'unauthorized', 'Sign in, or send Authorization: Bearer <token>');

/**
 * Every /api/v1 route is authenticated unless it says `public`; a route's `permission` is checked
 * here, before its handler runs. Checks on a particular incident happen in the use case.
 */
export function registerAuth(app: FastifyInstance, services: Services) {
  app.decorateRequest('actor', null);
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (config.public || !request.routeOptions.url?.startsWith('/api/v1/')) return;
    const { token, viaCookie } = credentials(request);
    if (!token) throw unauthorized();
    const actor = await actorForToken(services, token);
    if (!actor) {
      logSecurity(request, 'invalid_token', { via: viaCookie ? 'cookie' : 'bearer' });
      throw new DomainError('unauthorized', 'invalid_token', 'The token is unknown, expired or revoked');
    }
    if (viaCookie && !['GET', 'HEAD'].includes(request.method)) checkSameOrigin(request);
    request.actor = actor;
    if (config.permission && !can(actor, config.permission)) throw forbidden();
  });
}

function credentials(request: FastifyRequest): { token?: string; viaCookie: boolean } {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthorized();
    return { token: match[1], viaCookie: false };
  }
  const cookie = request.cookies?.[SESSION_COOKIE];
  return cookie ? { token: cookie, viaCookie: true } : { viaCookie: false };
}

/**
 * Cookie-authenticated writes must come from Palier's own pages: the browser always sends Origin
 * on cross-site writes, and JSON bodies need a preflight that Palier never grants.
 */
function checkSameOrigin(request: FastifyRequest) {
  const origin = request.headers.origin;
  const host = request.headers.host;
  if (origin !== undefined && (!host || new URL(origin).host !== host))
    throw forbidden('Cross-site request refused');
  if (request.headers['x-requested-with'] !== 'palier')
    throw forbidden('Browser requests must carry X-Requested-With: palier');
}

export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw unauthorized();
  return request.actor;
}
