import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../../domain/errors.js';
import type { Services } from '../../services/context.js';
import { actorOf } from '../auth.js';
import { errorResponses } from '../schemas.js';

/** What signed-in users may change about themselves. */
export function profileRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.patch(
      '/api/v1/users/me',
      {
        schema: {
          tags: ['users'],
          summary: 'Change the signed-in user’s language',
          body: z.object({ locale: z.enum(['fr', 'en']) }).strict(),
          response: { 200: z.object({ id: z.number(), locale: z.enum(['fr', 'en']) }), ...errorResponses },
        },
      },
      async (request) => {
        const { id } = actorOf(request);
        await services.users.setLocale(id, request.body.locale);
        const user = await services.users.byId(id);
        if (!user) throw notFound('User');
        return { id, locale: user.locale };
      },
    );
  };
}
