import type { FastifyInstance } from 'fastify';
import { invalid } from '../domain/errors.js';

const NUL_ESCAPE = /\\u0000/i;

/**
 * Text with a NUL character cannot be stored by PostgreSQL and is never meaningful in Palier: it is
 * refused at the edge, for both engines alike, in JSON bodies and in query strings.
 */
export function registerInputGuards(app: FastifyInstance) {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (typeof body === 'string' && NUL_ESCAPE.test(body))
      return done(invalid('invalid_character', 'Text may not contain the NUL character (\\u0000)'), undefined);
    parseJson(request, body as string, done);
  });
  app.addHook('onRequest', (request, _reply, done) => {
    const query = request.url.indexOf('?');
    if (query !== -1 && request.url.includes('%00', query))
      done(invalid('invalid_character', 'Text may not contain the NUL character (%00)'));
    else done();
  });
}
