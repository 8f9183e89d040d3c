import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ROLES } from '../../domain/policy.js';
import { notFound } from '../../domain/errors.js';
import type { Services } from '../../services/context.js';
import { addUser, changeUser } from '../../services/auth.service.js';
import { logSecurity } from '../security-log.js';
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
    vendorId: z.number().int().nullable().describe('the vendor a vendor contact speaks for'),
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
              vendorId: z.number().int().positive().optional().describe('required for role vendor'),
            })
            .strict(),
          response: { 201: userSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const created = await addUser(services, request.body);
        logSecurity(request, 'user_created', { userId: actorOf(request).id, targetId: created.id, role: created.role });
        return reply.status(201).send(out(created));
      },
    );

    app.patch(
      '/api/v1/users/:id',
      {
        config: { permission: 'user.manage' },
        schema: {
          tags: ['users'],
          summary: 'Change a user (administrators): disabling ends all their sessions and tokens at once',
          params: idParams,
          body: z
            .object({
              role: z.enum(ROLES).optional(),
              tiers: z.array(z.string().min(1).max(64)).max(20).optional(),
              displayName: z.string().trim().min(1).max(200).optional(),
              locale: z.enum(['fr', 'en']).optional(),
              disabled: z.boolean().optional(),
              vendorId: z.number().int().positive().optional(),
            })
            .strict()
            .refine((b) => Object.keys(b).length > 0, 'nothing to change'),
          response: { 200: userSchema, ...errorResponses },
        },
      },
      async (request) => {
        const actor = actorOf(request);
        const { before, after, tokensRevoked } = await changeUser(services, actor, request.params.id, request.body);
        const who = { userId: actor.id, targetId: after.id };
        if (before.role !== after.role || before.tiers.join() !== after.tiers.join())
          logSecurity(request, 'role_changed', { ...who, from: { role: before.role, tiers: before.tiers }, to: { role: after.role, tiers: after.tiers } });
        if (!before.disabled && after.disabled) logSecurity(request, 'user_disabled', { ...who, tokensRevoked });
        if (before.disabled && !after.disabled) logSecurity(request, 'user_enabled', who);
        if (before.displayName !== after.displayName || before.locale !== after.locale) logSecurity(request, 'user_changed', who);
        return out(after);
      },
    );
  };
}
