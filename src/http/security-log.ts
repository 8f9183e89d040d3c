import type { FastifyRequest } from 'fastify';

/** What the security log records; each line carries `security: {event, ip, ...}`. */
export type SecurityEvent =
  | 'sign_in'
  | 'sign_in_failed'
  | 'sign_in_rate_limited'
  | 'sign_out'
  | 'invalid_token'
  | 'access_refused'
  | 'token_created'
  | 'token_revoked'
  | 'user_created'
  | 'user_changed'
  | 'role_changed'
  /** Single sign-on left a role as it was although the provider's groups say otherwise. */
  | 'role_sync_kept'
  | 'user_disabled'
  | 'user_enabled'
  | 'vendor_portal_rate_limited';

/** Vendor links carry their credential in the path: logs keep the route, never the token. */
export const withoutLinkToken = (url: string) => url.replace(/^(\/(?:api\/v1\/vendor-portal|vendor)\/)[^/?#]+/, '$1[token]');

const FAILURES = new Set<SecurityEvent>([
  'sign_in_failed',
  'sign_in_rate_limited',
  'invalid_token',
  'access_refused',
  'role_sync_kept',
  'vendor_portal_rate_limited',
]);

/** One structured line per security-relevant event, for the SIEM or a grep of the logs. */
export function logSecurity(request: FastifyRequest, event: SecurityEvent, fields: Record<string, unknown> = {}) {
  const line = {
    security: { event, ip: request.ip, method: request.method, url: withoutLinkToken(request.url.split('?')[0]!), ...fields },
  };
  if (FAILURES.has(event)) request.log.warn(line, `security: ${event}`);
  else request.log.info(line, `security: ${event}`);
}
