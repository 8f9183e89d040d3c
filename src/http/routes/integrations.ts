import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../auth.js';
import { errorResponses, idParams, iso } from '../schemas.js';
import {
  createIntegration,
  getIntegration,
  integrationOf,
  rotateIntegrationKey,
  setIntegrationEnabled,
  type Integration,
} from '../../intake/integrations.js';
import { imapSchema, INTEGRATION_KINDS, labelRuleSchema, type ImapSettings } from '../../intake/rules.js';
import type { Services } from '../../services/context.js';
import type { InboundMessageRow } from '../../store/intake.repository.js';

const level = z.union([z.literal(1), z.literal(2), z.literal(3)]);

const integrationSchema = z
  .object({
    id: z.number().int(),
    kind: z.enum(INTEGRATION_KINDS),
    name: z.string(),
    enabled: z.boolean(),
    keyHint: z.string().describe('last four characters of the key'),
    address: z.string().nullable(),
    category: z.string(),
    impact: level,
    urgency: level,
    rules: z.array(labelRuleSchema),
    keyBy: z.enum(['fingerprint', 'groupKey']).optional(),
    resolveIncidents: z.boolean().optional(),
    imap: imapSchema.omit({ password: true }).nullable().optional(),
    endpoint: z.string().describe('where the sender posts, or the address it writes to'),
    createdAt: z.string(),
    keyRotatedAt: z.string().nullable(),
  })
  .meta({ id: 'Integration' });

const withKey = integrationSchema
  .extend({ key: z.string().describe('shown once; only its hash is kept') })
  .meta({ id: 'IntegrationWithKey' });

/** IMAP settings as shown: never the password. */
function withoutPassword(imap: ImapSettings | null): Omit<ImapSettings, 'password'> | null {
  if (!imap) return null;
  const { password: _hidden, ...shown } = imap;
  return shown;
}

function out(s: Services, i: Integration): z.infer<typeof integrationSchema> {
  return {
    id: i.id,
    kind: i.kind,
    name: i.name,
    enabled: i.enabled,
    keyHint: i.keyHint,
    address: i.address,
    category: i.config.category,
    impact: i.config.impact,
    urgency: i.config.urgency,
    rules: i.config.rules,
    ...(i.kind === 'alertmanager' ? { keyBy: i.config.keyBy, resolveIncidents: i.config.resolveIncidents } : {}),
    ...(i.kind === 'email'
      ? { imap: withoutPassword(i.config.imap) }
      : {}),
    endpoint:
      i.kind === 'alertmanager'
        ? `${s.site.publicUrl}/api/v1/intake/alertmanager`
        : i.kind === 'events-v2'
          ? `${s.site.publicUrl}/api/v1/intake/events/v2/enqueue`
          : (i.address ?? `incidents+<key>@${s.site.mailDomain}`),
    createdAt: iso(i.createdAt)!,
    keyRotatedAt: iso(i.keyRotatedAt),
  };
}

const messageSchema = z
  .object({
    id: z.number().int(),
    channel: z.string(),
    dedupKey: z.string().nullable(),
    status: z.enum(['received', 'processed', 'rejected']),
    attempts: z.number().int(),
    error: z.string().nullable(),
    incidentId: z.number().int().nullable(),
    outcome: z.record(z.string(), z.unknown()).nullable(),
    receivedAt: z.string(),
    processedAt: z.string().nullable(),
    size: z.number().int().describe('bytes of the body as received'),
  })
  .meta({ id: 'InboundMessage' });

const messageOut = (m: InboundMessageRow): z.infer<typeof messageSchema> => ({
  id: m.id,
  channel: m.channel,
  dedupKey: m.dedup_key,
  status: m.status as 'received' | 'processed' | 'rejected',
  attempts: m.attempts,
  error: m.error,
  incidentId: m.incident_id,
  outcome: m.outcome ? (JSON.parse(m.outcome) as Record<string, unknown>) : null,
  receivedAt: iso(m.received_at)!,
  processedAt: iso(m.processed_at == null ? null : Number(m.processed_at)),
  size: Buffer.byteLength(m.body, m.body_encoding === 'base64' ? 'base64' : 'utf8'),
});

const createBody = z
  .object({
    kind: z.enum(INTEGRATION_KINDS),
    name: z.string().trim().min(1).max(200),
    category: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('category of incidents no rule places elsewhere (default: the first of the matrix)'),
    impact: level.optional(),
    urgency: level.optional(),
    rules: z.array(labelRuleSchema).max(200).optional().describe('first matching rule wins'),
    keyBy: z.enum(['fingerprint', 'groupKey']).optional().describe('Alertmanager: one incident per alert, or per alert group'),
    resolveIncidents: z.boolean().optional().describe('Alertmanager: resolved alerts resolve the incident (default: noted only)'),
    address: z.email().max(320).optional().describe('e-mail: an address of its own, besides anything+<key>@…'),
    imap: imapSchema.optional().describe('e-mail: a mailbox to poll'),
  })
  .strict();

/** Administration of inbound integrations (administrators only). */
export function integrationRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    const admin = { permission: 'integration.manage' as const };

    app.post(
      '/api/v1/integrations',
      {
        config: admin,
        schema: {
          tags: ['integrations'],
          summary: 'Create an inbound integration; its key is in this answer only',
          body: createBody,
          response: { 201: withKey, ...errorResponses },
        },
      },
      async (request, reply) => {
        const { integration, key } = await createIntegration(services, actorOf(request), request.body);
        return reply.status(201).send({ ...out(services, integration), key });
      },
    );

    app.get(
      '/api/v1/integrations',
      {
        config: admin,
        schema: {
          tags: ['integrations'],
          summary: 'List inbound integrations (never their keys)',
          querystring: z
            .object({
              kind: z.enum(INTEGRATION_KINDS).optional(),
              limit: z.coerce.number().int().min(1).max(500).default(100),
              offset: z.coerce.number().int().min(0).default(0),
            })
            .strict(),
          response: { 200: z.object({ items: z.array(integrationSchema) }), ...errorResponses },
        },
      },
      async (request) => {
        const rows = await services.intake.integrations(request.query.limit, request.query.offset, request.query.kind);
        return { items: rows.map((r) => out(services, integrationOf(r))) };
      },
    );

    app.get(
      '/api/v1/integrations/:id',
      {
        config: admin,
        schema: {
          tags: ['integrations'],
          summary: 'One inbound integration',
          params: idParams,
          response: { 200: integrationSchema, ...errorResponses },
        },
      },
      async (request) => out(services, await getIntegration(services, request.params.id)),
    );

    for (const [path, enabled] of [
      ['disable', false],
      ['enable', true],
    ] as const) {
      app.post(
        `/api/v1/integrations/:id/${path}`,
        {
          config: admin,
          schema: {
            tags: ['integrations'],
            summary: enabled
              ? 'Accept messages from this integration again'
              : 'Refuse messages from this integration (403) until enabled',
            params: idParams,
            response: { 200: integrationSchema, ...errorResponses },
          },
        },
        async (request) => out(services, await setIntegrationEnabled(services, request.params.id, enabled)),
      );
    }

    app.post(
      '/api/v1/integrations/:id/rotate-key',
      {
        config: admin,
        schema: {
          tags: ['integrations'],
          summary: 'Replace the key; the old one stops working at once',
          params: idParams,
          response: { 200: withKey, ...errorResponses },
        },
      },
      async (request) => {
        const { integration, key } = await rotateIntegrationKey(services, request.params.id);
        return { ...out(services, integration), key };
      },
    );

    app.get(
      '/api/v1/integrations/:id/messages',
      {
        config: admin,
        schema: {
          tags: ['integrations'],
          summary: 'Messages received through this integration, newest first, with what became of each',
          params: idParams,
          querystring: z
            .object({
              limit: z.coerce.number().int().min(1).max(500).default(50),
              offset: z.coerce.number().int().min(0).default(0),
            })
            .strict(),
          response: { 200: z.object({ items: z.array(messageSchema) }), ...errorResponses },
        },
      },
      async (request) => {
        await getIntegration(services, request.params.id);
        const rows = await services.intake.messages(request.params.id, request.query.limit, request.query.offset);
        return { items: rows.map(messageOut) };
      },
    );
  };
}
