import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Where `npm run build` puts the browser app: web/dist beside src/ and dist/. */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const isApiPath = (path: string) => /^\/(api|healthz)(\/|$)/.test(path);

/**
 * Serves the built browser app. Unknown GET paths outside the API get index.html, so that links
 * into the app (e.g. /incidents/42) load it; the API keeps its JSON 404s.
 */
export async function registerWebApp(app: FastifyInstance, root = WEB_DIST): Promise<boolean> {
  if (!existsSync(`${root}/index.html`)) {
    app.log.warn(`No browser app in ${root}: serving the API only (run npm run build)`);
    return false;
  }
  await app.register(fastifyStatic, {
    root,
    wildcard: false,
    index: false,
    // Hashed asset names never change content; index.html must always be asked again.
    setHeaders(reply, path) {
      reply.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  const sendIndex = (reply: { header(k: string, v: string): unknown; sendFile(f: string): unknown }) => {
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html');
  };
  app.get('/', { schema: { hide: true }, config: { public: true } }, (_request, reply) => sendIndex(reply));
  app.get('/*', { schema: { hide: true }, config: { public: true } }, async (request, reply) => {
    const path = request.url.split('?')[0]!;
    // API paths keep their JSON 404; a missing file with an extension is a real 404, not a page.
    // A vendor link's token ends in ".<signature>", which is not a file name.
    if (isApiPath(path) || (/\.[a-z0-9]+$/i.test(path) && !path.startsWith('/vendor/'))) return reply.callNotFound();
    return sendIndex(reply);
  });
  return true;
}
