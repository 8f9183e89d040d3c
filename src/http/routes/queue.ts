import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { OPEN_STATUSES, type IncidentStatus } from '../../domain/incident.js';
import { PRIORITIES, type Priority } from '../../domain/priority.js';
import type { Services } from '../../services/context.js';
import { renderedTierQueue } from '../../services/incident.service.js';
import { actorOf } from '../auth.js';
import type { IncidentJsonCache } from '../incident-json-cache.js';
import { errorResponses, incidentSchema, iso } from '../schemas.js';

const list = (s: string | undefined) =>
  s
    ?.split(',')
    .map((x) => x.trim())
    .filter(Boolean);

const queueQuery = z
  .object({
    tier: z.string().max(500).optional().describe("Comma-separated tier keys; default: an agent's own tiers"),
    category: z.string().max(2000).optional(),
    priority: z
      .string()
      .max(100)
      .regex(new RegExp(`^((${PRIORITIES.join('|')})(,|$))+$`), `comma-separated ${PRIORITIES.join(', ')}`)
      .optional(),
    status: z
      .string()
      .max(200)
      .regex(new RegExp(`^((${OPEN_STATUSES.join('|')})(,|$))+$`), `comma-separated open statuses: ${OPEN_STATUSES.join(', ')}`)
      .optional(),
    text: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(100),
  })
  .strict();

/** A tier queue: open incidents, the one that misses a target first on top, with that instant. */
export function queueRoutes(services: Services, rendered: IncidentJsonCache): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/queue',
      {
        config: { permission: 'incident.list' },
        schema: {
          tags: ['incidents'],
          summary: 'Open incidents sorted by the next target they will miss (tier queues)',
          querystring: queueQuery,
          response: {
            200: z.object({
              items: z.array(
                incidentSchema.extend({
                  breachAt: z.string().nullable().describe('When the next target is missed; null while paused'),
                }),
              ),
            }),
            ...errorResponses,
          },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        const q = request.query;
        const tiers = list(q.tier) ?? (actor.role === 'agent' ? actor.tiers : undefined);
        const items = await renderedTierQueue(
          services,
          actor,
          {
            tier: tiers,
            status: (list(q.status) as IncidentStatus[] | undefined) ?? [...OPEN_STATUSES],
            category: list(q.category),
            priority: list(q.priority) as Priority[] | undefined,
            text: q.text?.trim() || undefined,
          },
          q.limit,
          rendered,
        );
        // Each incident's kept JSON object, with its breach instant added as the last field.
        const page = items.map((i) => `${i.rendered.slice(0, -1)},"breachAt":${JSON.stringify(iso(i.breachAt))}}`);
        return reply.type('application/json; charset=utf-8').send(`{"items":[${page.join(',')}]}` as never);
      },
    );
  };
}
