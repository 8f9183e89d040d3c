import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../../services/context.js';
import { errorResponses, incidentOut, incidentSchema, iso } from '../schemas.js';
import { fromRow } from '../../store/incident.repository.js';

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
        const db = services.store.db;
        const since = request.query.since ? Date.parse(request.query.since) : services.clock.now() - DAY;
        const open = await db
          .selectFrom('incidents')
          .select(['tier', 'category', (eb) => eb.fn.countAll<number>().as('n')])
          .where('is_open', '=', 1)
          .groupBy(['tier', 'category'])
          .execute();
        const missed = await db
          .selectFrom('incident_events')
          .select([
            (eb) => eb.fn.countAll<number>().as('events'),
            (eb) => eb.fn.count<number>('incident_id').distinct().as('incidents'),
          ])
          .where('kind', '=', 'deadline_missed')
          .where('at', '>=', since)
          .executeTakeFirstOrThrow();
        const tiers = [...new Set(open.map((r) => r.tier))].sort();
        const oldest = await Promise.all(
          tiers.map(async (tier) => {
            const row = await db
              .selectFrom('incidents')
              .selectAll()
              .where('is_open', '=', 1)
              .where('tier', '=', tier)
              .orderBy('created_at')
              .orderBy('id')
              .limit(1)
              .executeTakeFirstOrThrow();
            return { tier, incident: incidentOut(fromRow(row)) };
          }),
        );
        return {
          since: iso(since)!,
          open: open.map((r) => ({ tier: r.tier, category: r.category, count: Number(r.n) })),
          breaches: { events: Number(missed.events), incidents: Number(missed.incidents) },
          oldest,
        };
      },
    );
  };
}
