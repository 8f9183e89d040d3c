import fastifyHelmet from '@fastify/helmet';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from '../config.js';

/**
 * The Content-Security-Policy of the app: the built browser app is plain files from this origin
 * (no inline script or style), talks only to this origin, and is never framed.
 */
export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/**
 * @fastify/helmet decides the headers; but it rebuilds its middleware on every request, which cost
 * about a fifth of a creation's CPU time. Its headers do not depend on the request (no CSP nonces),
 * so they are taken once from a probe instance and set as they are on every response.
 */
export async function registerSecurityHeaders(app: FastifyInstance, config: Config) {
  const headers = await helmetHeaders(config);
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
}

async function helmetHeaders(config: Config): Promise<Record<string, string>> {
  const probe = Fastify({ logger: false });
  await probe.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: config.https ? { ...CONTENT_SECURITY_POLICY, 'upgrade-insecure-requests': [] } : CONTENT_SECURITY_POLICY,
    },
    // HSTS over plain http would be ignored by browsers at best, and lock out a test setup at worst.
    strictTransportSecurity: config.https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    frameguard: { action: 'deny' },
  });
  probe.get('/', (_request, reply) => reply.send(''));
  const bare = Fastify({ logger: false });
  bare.get('/', (_request, reply) => reply.send(''));
  try {
    const [withHelmet, without] = await Promise.all([probe.inject('/'), bare.inject('/')]);
    const own = new Set(Object.keys(without.headers));
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(withHelmet.headers))
      if (!own.has(name) && typeof value === 'string') headers[name] = value;
    return headers;
  } finally {
    await Promise.all([probe.close(), bare.close()]);
  }
}
