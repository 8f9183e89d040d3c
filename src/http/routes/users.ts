import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ROLES } from '../../domain/policy.js';
import { notFound } from '../../domain/errors.js';
import type { Services } from '../../services/context.js';
import { addUser } from '../../services/auth.service.js';
import type { User } from '../../store/user.repository.js';
import { actorOf } from '../auth.js';
import { errorResponses, idParams } from '../schemas.js';

const userSchema = z
  .object({
    id: z.number(),
    email: z.string(),
    role: z.enum(ROLES),
    displayName: z.string(),
    locale: z.enum(['fr', 'en']),
    tiers: z.array(z.string()),
    disabled: z.boolean(),
    createdAt: z.string(),
  })
  .meta({ id: 'User' });

const out = (u: User) => ({ ...u, createdAt: new Date(u.createdAt).toISOString() });

export function userRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/api/v1/users/me', { schema: { tags: ['users'], summary: 'The signed-in user', response: { 200: userSchema, ...errorResponses } } }, async (request) => {
      const user = await services.users.byId(actorOf(request).id);
      if (!user) throw notFound('User');
      return out(user);
    });

    app.get(
      '/api/v1/users',
      {
        config: { permission: 'user.read' },
        schema: {
          tags: ['users'],
          summary: 'List users (administrators and managers)',
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100), offset: z.coerce.number().int().min(0).default(0) }).strict(),
          response: { 200: z.object({ items: z.array(userSchema) }), ...errorResponses },
        },
      },
      async (request) => ({ items: (await services.users.list(request.query.limit, request.query.offset)).map(out) }),
    );

    app.get(
      '/api/v1/users/:id',
      { config: { permission: 'user.read' }, schema: { tags: ['users'], summary: 'One user', params: idParams, response: { 200: userSchema, ...errorResponses } } },
      async (request) => {
        const user = await services.users.byId(request.params.id);
        if (!user) throw notFound(`User ${request.params.id}`);
        return out(user);
      },
    );

    app.post(
      '/api/v1/users',
      {
        config: { permission: 'user.manage' },
        schema: {
          tags: ['users'],
          summary: 'Create a user (administrators)',
          body: z
            .object({
              email: z.email().max(320),
              password: z.string().min(10).max(1024).optional(),
              role: z.enum(ROLES),
              displayName: z.string().trim().min(1).max(200).optional(),
              locale: z.enum(['fr', 'en']).optional(),
              tiers: z.array(z.string().min(1).max(64)).max(20).optional(),
            })
            .strict(),
          response: { 201: userSchema, ...errorResponses },
        },
      },
      async (request, reply) => reply.status(201).send(out(await addUser(services, request.body))),
    );
  };
}
