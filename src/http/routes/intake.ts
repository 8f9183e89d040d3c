import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.js';
import { alertmanagerSchema, parseAlertmanager } from '../../intake/alertmanager.js';
import {
  dedupKeyOf,
  eventSchema,
  EVENTS_V2_BODY_LIMIT,
  InvalidEvent,
  parseEventJson,
  validateEvent,
} from '../../intake/events-v2.js';
import { processMessage, storeMessage } from '../../intake/inbox.js';
import { integrationForKey, type Integration } from '../../intake/integrations.js';
import type { Services } from '../../services/context.js';
import { errorSchema } from '../errors.js';

const ALERTMANAGER_BODY_LIMIT = 1024 * 1024;

/** The integration key from `Authorization: Bearer <key>`, or the password of Basic authentication (Grafana, older Alertmanagers). */
function keyFromHeader(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization ?? '';
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+(\S+)$/i.exec(header);
  if (basic) return Buffer.from(basic[1]!, 'base64').toString('utf8').split(':').slice(1).join(':');
  return undefined;
}

/**
 * A fixed window per integration: a sender looping on an alert is slowed down (429, which
 * Alertmanager and Events API clients retry later) before it fills the message log.
 */
class IntakeRateLimit {
  private windows = new Map<number, { start: number; count: number }>();
  constructor(private readonly perMinute: number) {}
  allow(integration: Integration, now: number): boolean {
    const w = this.windows.get(integration.id);
    if (!w || now - w.start >= 60_000) {
      if (this.windows.size > 10_000) this.windows.clear();
      this.windows.set(integration.id, { start: now, count: 1 });
      return true;
    }
    return ++w.count <= this.perMinute;
  }
}

const tooMany = () => new DomainError('unavailable', 'rate_limited', 'Too many messages for this integration; retry later');

/**
 * Inbound endpoints for monitoring tools. They are `public` to the user-token check on purpose:
 * the sender proves itself with its integration's key (Authorization header for Alertmanager,
 * routing_key in the body for the Events API, as those tools send them), checked here before
 * anything is stored. The body is read as text, so it is stored exactly as received.
 */
export function intakeRoutes(services: Services, perMinute: number): FastifyPluginAsyncZod {
  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
    const limit = new IntakeRateLimit(perMinute);
    const throttled = (reply: FastifyReply) => reply.status(429).header('retry-after', '60');
    // Body schemas document the payloads in the OpenAPI document; the handlers check the raw text
    // themselves, after the key, and answer in each protocol's own error shape.
    const documentOnly = () => (data: unknown) => ({ value: data });

    app.post(
      '/api/v1/intake/alertmanager',
      {
        config: { public: true },
        bodyLimit: ALERTMANAGER_BODY_LIMIT,
        validatorCompiler: documentOnly,
        schema: {
          body: alertmanagerSchema,
          tags: ['intake'],
          summary: 'Prometheus Alertmanager webhook receiver (payload version 4)',
          description:
            'Alertmanager `webhook_configs` posts its standard body here with `Authorization: Bearer <integration key>`. Firing alerts open or update an incident, resolved ones are noted (or resolve it).',
          security: [{ bearer: [] }],
          response: {
            200: z.object({
              status: z.literal('success'),
              messageId: z.number().int(),
              processing: z.enum(['received', 'processed', 'rejected']),
              incidentId: z.number().int().nullable(),
            }),
            400: errorSchema,
            401: errorSchema,
            403: errorSchema,
            413: errorSchema,
            429: errorSchema,
          },
        },
      },
      async (request, reply) => {
        const integration = await integrationForKey(services, keyFromHeader(request), 'alertmanager');
        if (!limit.allow(integration, services.clock.now()))
          return throttled(reply).send({ error: { code: 'rate_limited', message: tooMany().message } });
        const raw: unknown = request.body;
        const body = typeof raw === 'string' ? raw : '';
        const payload = parseAlertmanager(body);
        const message = await storeMessage(services, integration, body, payload.groupKey);
        const result = await processMessage(services, message.id, { message, integration });
        return { status: 'success' as const, messageId: message.id, processing: result.status, incidentId: result.incidentId };
      },
    );

    const eventAnswer = z.object({
      status: z.string(),
      message: z.string(),
      dedup_key: z.string().optional(),
      errors: z.array(z.string()).optional(),
    });
    app.post(
      '/api/v1/intake/events/v2/enqueue',
      {
        config: { public: true },
        bodyLimit: EVENTS_V2_BODY_LIMIT,
        validatorCompiler: documentOnly,
        schema: {
          body: eventSchema,
          tags: ['intake'],
          summary: 'PagerDuty Events API v2 compatible endpoint',
          description:
            'Takes the standard alert event body (`routing_key` = the integration key, `event_action` trigger, acknowledge or resolve, `dedup_key`, `payload`) and answers like the Events API: 202 `{"status":"success","message":"Event processed","dedup_key":"…"}`, 400 `{"status":"invalid event",…}`.',
          security: [],
          response: {
            202: eventAnswer,
            400: eventAnswer,
            401: errorSchema,
            403: errorSchema,
            413: errorSchema,
            429: eventAnswer,
          },
        },
      },
      async (request, reply) => {
        const raw: unknown = request.body;
        const body = typeof raw === 'string' ? raw : '';
        try {
          const json = parseEventJson(body);
          const integration = await integrationForKey(services, json.routing_key as string, 'events-v2');
          if (!limit.allow(integration, services.clock.now()))
            return throttled(reply).send({
              status: 'throttle event',
              message: 'Requests for this integration are arriving too quickly; retry later',
            });
          const event = validateEvent(json);
          const dedupKey = dedupKeyOf(event);
          const message = await storeMessage(services, integration, body, dedupKey);
          await processMessage(services, message.id, { message, integration });
          return reply.status(202).send({ status: 'success', message: 'Event processed', dedup_key: dedupKey });
        } catch (error) {
          if (error instanceof InvalidEvent) return reply.status(400).send(error.body());
          throw error;
        }
      },
    );
  };
}
