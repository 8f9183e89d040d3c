import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { invalid, issuePath } from '../../domain/errors.js';
import { matrixDefinitionSchema } from '../../domain/matrix.js';
import type { Services } from '../../services/context.js';
import { simulate } from '../../services/simulation.service.js';
import { actorOf } from '../auth.js';
import { errorResponses } from '../schemas.js';
import { periodFilter, periodQuery } from './period.js';

const outcome = z.object({
  byHand: z.number().int(),
  missedDeadline: z.number().int(),
  otherAutomatic: z.number().int(),
  acknowledgeBreaches: z.number().int(),
  resolveBreaches: z.number().int(),
  categoryClockBreaches: z.number().int(),
});

const body = z
  .object({
    matrix: matrixDefinitionSchema
      .extend({
        version: z.number().optional(),
        createdAt: z.string().optional(),
        createdBy: z.number().nullable().optional(),
        comment: z.string().nullish(),
      })
      .describe('The draft matrix: a GET /api/v1/matrix result edited as wanted (version fields are ignored)'),
    from: z.string(),
    to: z.string(),
    category: z.array(z.string()).optional(),
    priority: z.array(z.string()).optional(),
  })
  .strict();

const result = z
  .object({
    until: z.string().describe('Open incidents are replayed up to this instant (now)'),
    incidents: z.number().int(),
    replayed: z.number().int(),
    notReplayable: z.number().int().describe('Incidents of a category the draft does not have'),
    skippedCommands: z
      .number()
      .int()
      .describe('Recorded commands the replayed incident no longer allowed (an escalation to a tier it had already reached)'),
    cells: z.array(
      z.object({
        category: z.string(),
        tier: z.string().describe('"*" for category clocks'),
        actual: outcome,
        simulated: outcome,
        difference: outcome,
      }),
    ),
    totals: z.object({ actual: outcome, simulated: outcome, difference: outcome }),
  })
  .meta({ id: 'Simulation' });

export function simulationRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/api/v1/simulations',
      {
        config: { permission: 'simulation.run' },
        schema: {
          tags: ['reports'],
          summary:
            'Replay the incidents of a period under a draft matrix, and compare escalations and missed targets per cell with what happened (changes nothing)',
          description:
            'People are assumed to act at the instants they did; what the policy decided by itself is decided again by the draft. Incidents opened in [from, to).',
          body,
          response: { 200: result, ...errorResponses },
        },
        attachValidation: true,
      },
      async (request) => {
        if (request.validationError) {
          const parsed = body.safeParse(request.body);
          const details = parsed.success ? [] : parsed.error.issues.map((i) => ({ path: issuePath(i.path), message: i.message }));
          throw invalid('invalid_simulation', `The simulation request has ${details.length} problem(s)`, details);
        }
        const { matrix, from, to, category, priority } = request.body;
        const query = periodQuery.safeParse({ from, to, category: category?.join(','), priority: priority?.join(',') });
        if (!query.success)
          throw invalid(
            'invalid_simulation',
            'The period or its filters are not valid',
            query.error.issues.map((i) => ({ path: issuePath(i.path), message: i.message })),
          );
        const { version: _v, createdAt: _c, createdBy: _b, comment: _m, ...definition } = matrix;
        return simulate(services, actorOf(request), definition, periodFilter(query.data));
      },
    );
  };
}
