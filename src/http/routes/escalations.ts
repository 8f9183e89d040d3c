import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../../services/context.js';
import { upcomingEscalations } from '../../services/escalation.service.js';
import { actorOf } from '../auth.js';
import { errorResponses, incidentOut, incidentSchema, iso } from '../schemas.js';

export function escalationRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/escalations/upcoming',
      {
        config: { permission: 'escalation.read' },
        schema: {
          tags: ['escalations'],
          summary: 'Incidents that will escalate or notify their managers within the next hours, soonest first',
          querystring: z
            .object({
              hours: z.coerce.number().min(0).max(24 * 14).default(4),
              limit: z.coerce.number().int().min(1).max(500).default(100),
            })
            .strict(),
          response: {
            200: z.object({
              until: z.string(),
              items: z.array(
                z.object({
                  incident: incidentSchema,
                  at: z.string(),
                  toTier: z.string().nullable(),
                  action: z.enum(['escalate', 'notify', 'both']),
                  clock: z.string(),
                  reason: z.string(),
                }),
              ),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const until = services.clock.now() + request.query.hours * 3_600_000;
        const items = await upcomingEscalations(services, actorOf(request), until, request.query.limit);
        return {
          until: iso(until)!,
          items: items.map(({ incident, next }) => ({ incident: incidentOut(incident), ...next, at: iso(next.at)! })),
        };
      },
    );
  };
}
