import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../../services/context.js';
import { errorResponses, incidentOut, incidentSchema, iso } from '../schemas.js';
import { deskOverview } from '../../services/incident.service.js';
import { actorOf } from '../auth.js';

const DAY = 86_400_000;

/** The managers' view of the desk: load per matrix cell, today's misses, the oldest open incident per tier. */
export function dashboardRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/dashboard',
      {
        config: { permission: 'dashboard.read' },
        schema: {
          tags: ['dashboard'],
          summary: 'Open incidents per tier and category, targets missed since a given instant, oldest open incident per tier',
          querystring: z
            .object({
              since: z.iso.datetime({ offset: true }).optional().describe("Start of the caller's day; default: 24 hours ago"),
            })
            .strict(),
          response: {
            200: z.object({
              since: z.string(),
              open: z.array(z.object({ tier: z.string(), category: z.string(), count: z.number() })),
              breaches: z.object({
                events: z.number().describe('Targets missed'),
                incidents: z.number().describe('Incidents that missed one'),
              }),
              oldest: z.array(z.object({ tier: z.string(), incident: incidentSchema })),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const since = request.query.since ? Date.parse(request.query.since) : services.clock.now() - DAY;
        const view = await deskOverview(services, actorOf(request), since);
        return {
          since: iso(since)!,
          open: view.open,
          breaches: view.breaches,
          oldest: view.oldest.map(({ tier, incident }) => ({ tier, incident: incidentOut(incident) })),
        };
      },
    );
  };
}
