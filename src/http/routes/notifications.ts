import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Selectable } from 'kysely';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { conflict, notFound } from '../../domain/errors.js';
import {
  CHANNEL_EVENTS,
  CHANNEL_KINDS,
  createChannel,
  deleteChannel,
  listChannels,
  rotateChannelSecret,
  updateChannel,
  type Channel,
} from '../../notify/channels.js';
import { retryDelivery, type DeliveryPayload } from '../../notify/dispatcher.js';
import { WebhookGuard } from '../../notify/ssrf-guard.js';
import type { Services } from '../../services/context.js';
import type { Database } from '../../store/schema.js';
import { errorResponses, idParams, iso } from '../schemas.js';

const keyList = z.array(z.string().min(1).max(100)).max(100);

const channelSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    kind: z.enum(CHANNEL_KINDS),
    target: z.string().describe('URL, or for e-mail a comma-separated list of addresses'),
    events: z.array(z.enum(CHANNEL_EVENTS)),
    categories: keyList.nullable().describe('null: every category'),
    tiers: keyList.nullable().describe('null: every tier'),
    locale: z.enum(['fr', 'en']),
    enabled: z.boolean(),
    signed: z.boolean().describe('generic webhooks carry X-Palier-Signature'),
    createdAt: z.string(),
  })
  .meta({ id: 'NotificationChannel' });

const withSecret = channelSchema
  .extend({ secret: z.string().nullable().describe('signing secret of a generic webhook, shown once') })
  .meta({ id: 'NotificationChannelWithSecret' });

const out = (c: Channel): z.infer<typeof channelSchema> => ({
  id: c.id,
  name: c.name,
  kind: c.kind,
  target: c.target,
  events: c.events,
  categories: c.categories,
  tiers: c.tiers,
  locale: c.locale,
  enabled: c.enabled,
  signed: c.hasSecret,
  createdAt: iso(c.createdAt)!,
});

const DELIVERY_STATUSES = ['pending', 'sent', 'failed', 'dropped'] as const;

const deliverySchema = z
  .object({
    id: z.number().int(),
    incidentId: z.number().int().nullable(),
    channelId: z.number().int().nullable(),
    kind: z.enum(CHANNEL_KINDS),
    recipient: z.string(),
    idempotencyKey: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    lastError: z.string().nullable(),
    sentAt: z.string().nullable(),
    createdAt: z.string(),
    events: z.array(z.object({ seq: z.number().int(), kind: z.string(), at: z.string() })),
  })
  .meta({ id: 'Delivery' });

const deliveryOut = (d: Selectable<Database['deliveries']>): z.infer<typeof deliverySchema> => {
  const payload = JSON.parse(d.payload) as DeliveryPayload;
  return {
    id: Number(d.id),
    incidentId: d.incident_id == null ? null : Number(d.incident_id),
    channelId: d.channel_id == null ? null : Number(d.channel_id),
    kind: d.kind as (typeof CHANNEL_KINDS)[number],
    recipient: d.recipient,
    idempotencyKey: d.idempotency_key,
    status: d.status as (typeof DELIVERY_STATUSES)[number],
    attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' ? iso(Number(d.next_attempt_at)) : null,
    lastError: d.last_error,
    sentAt: iso(d.sent_at == null ? null : Number(d.sent_at)),
    createdAt: iso(Number(d.created_at))!,
    events: payload.events.map((e) => ({ seq: e.seq, kind: e.kind, at: iso(e.at)! })),
  };
};

const createBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    kind: z.enum(CHANNEL_KINDS),
    target: z.string().trim().min(3).max(4000),
    events: z.array(z.enum(CHANNEL_EVENTS)).min(1).describe('event kinds sent to this channel'),
    categories: keyList.nullable().optional(),
    tiers: keyList.nullable().optional(),
    locale: z.enum(['fr', 'en']).optional().describe('language of its messages (default fr)'),
    enabled: z.boolean().optional(),
  })
  .strict();

const patchBody = createBody.omit({ kind: true }).partial().strict();

/** Outbound channels (administrators) and the record of deliveries (administrators and managers). */
export function notificationRoutes(services: Services, config: Config): FastifyPluginAsyncZod {
  const guard = new WebhookGuard(config.notify.webhookAllow);
  return async (app) => {
    const admin = { permission: 'notification.manage' as const };
    const tags = ['notifications'];

    app.get(
      '/api/v1/notification-channels',
      {
        config: admin,
        schema: {
          tags,
          summary: 'Notification channels and their rules',
          response: { 200: z.object({ items: z.array(channelSchema) }), ...errorResponses },
        },
      },
      async () => ({ items: (await listChannels(services)).map(out) }),
    );

    app.post(
      '/api/v1/notification-channels',
      {
        config: admin,
        schema: {
          tags,
          summary: 'Create a channel; a webhook URL on a private or loopback address is refused unless allow-listed',
          body: createBody,
          response: { 201: withSecret, ...errorResponses },
        },
      },
      async (request, reply) => {
        const { channel, secret } = await createChannel(services, guard, request.body);
        return reply.status(201).send({ ...out(channel), secret });
      },
    );

    app.patch(
      '/api/v1/notification-channels/:id',
      {
        config: admin,
        schema: {
          tags,
          summary: 'Change a channel (its kind stays)',
          params: idParams,
          body: patchBody,
          response: { 200: channelSchema, ...errorResponses },
        },
      },
      async (request) => out(await updateChannel(services, guard, request.params.id, request.body)),
    );

    app.delete(
      '/api/v1/notification-channels/:id',
      {
        config: admin,
        schema: {
          tags,
          summary: 'Delete a channel; its past deliveries stay listed',
          params: idParams,
          response: { 204: z.null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await deleteChannel(services, request.params.id);
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/api/v1/notification-channels/:id/rotate-secret',
      {
        config: admin,
        schema: {
          tags,
          summary: 'Replace a webhook signing secret; the new one is in this answer only',
          params: idParams,
          response: { 200: withSecret, ...errorResponses },
        },
      },
      async (request) => {
        const { channel, secret } = await rotateChannelSecret(services, request.params.id);
        return { ...out(channel), secret };
      },
    );

    app.get(
      '/api/v1/deliveries',
      {
        config: { permission: 'delivery.read' as const },
        schema: {
          tags,
          summary: 'Notifications sent or to send, newest first',
          querystring: z
            .object({
              status: z.enum(DELIVERY_STATUSES).optional(),
              incident: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
              channel: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
              limit: z.coerce.number().int().min(1).max(500).default(50),
              offset: z.coerce.number().int().min(0).default(0),
            })
            .strict(),
          response: { 200: z.object({ items: z.array(deliverySchema) }), ...errorResponses },
        },
      },
      async (request) => {
        const q = request.query;
        let query = services.store.db.selectFrom('deliveries').selectAll();
        if (q.status) query = query.where('status', '=', q.status);
        if (q.incident) query = query.where('incident_id', '=', q.incident);
        if (q.channel) query = query.where('channel_id', '=', q.channel);
        const rows = await query.orderBy('id', 'desc').limit(q.limit).offset(q.offset).execute();
        return { items: rows.map(deliveryOut) };
      },
    );

    app.post(
      '/api/v1/deliveries/:id/retry',
      {
        config: admin,
        schema: {
          tags,
          summary: 'Send a failed or dropped delivery again, with a fresh count of attempts',
          params: idParams,
          response: { 200: deliverySchema, ...errorResponses },
        },
      },
      async (request) => {
        const row = await retryDelivery(services, request.params.id);
        if (row) return deliveryOut(row);
        const exists = await services.store.db
          .selectFrom('deliveries')
          .select('status')
          .where('id', '=', request.params.id)
          .executeTakeFirst();
        if (!exists) throw notFound(`Delivery ${request.params.id}`);
        throw conflict('not_failed', `Delivery ${request.params.id} is ${exists.status}; only failed or dropped deliveries are retried`);
      },
    );
  };
}
