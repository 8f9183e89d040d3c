import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { OPEN_STATUSES, PENDING_REASONS, STATUSES, type IncidentCommand, type IncidentStatus } from '../../domain/incident.js';
import { invalid } from '../../domain/errors.js';
import { PRIORITIES, type Priority } from '../../domain/priority.js';
import type { Services } from '../../services/context.js';
import { actOnIncident, COMMAND_PERMISSION, createIncident, incidentDetail, listRenderedIncidents } from '../../services/incident.service.js';
import { INCIDENT_SORTS } from '../../store/incident.repository.js';
import { actorOf } from '../auth.js';
import type { IncidentJsonCache } from '../incident-json-cache.js';
import { checklistItemSchema, errorResponses, eventOut, eventSchema, idParams, incidentOut, incidentSchema, iso } from '../schemas.js';

const text = (max: number) => z.string().trim().min(1).max(max);
const level = z.union([z.literal(1), z.literal(2), z.literal(3)]);

const createBody = z
  .object({
    title: text(200),
    description: z.string().trim().max(20_000).default(''),
    category: z.string().min(1).max(64),
    impact: level.describe('1 = many users or a critical service, 3 = one user'),
    urgency: level.describe('1 = work is stopped, 3 = it can wait'),
    requesterId: z.number().int().positive().optional().describe('Staff only: open on behalf of this user'),
  })
  .strict();

const csv = <T extends string>(values: readonly T[], name: string) =>
  z
    .string()
    .max(500)
    .transform((s, ctx) => {
      const items = s.split(',').map((x) => x.trim()).filter(Boolean);
      const bad = items.filter((x) => !values.includes(x as T));
      if (bad.length) ctx.addIssue({ code: 'custom', message: `unknown ${name} ${bad.join(', ')}; expected ${values.join(', ')}` });
      return items as T[];
    });

/** Comma-separated matrix keys (tiers, categories): anything but key characters is refused. */
const keyList = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^\s*[A-Za-z0-9][A-Za-z0-9_-]*\s*(,\s*[A-Za-z0-9][A-Za-z0-9_-]*\s*)*,?$/, 'comma-separated keys: letters, digits, "-" and "_"');

const listQuery = z
  .object({
    tier: keyList(500).optional().describe('Comma-separated tier keys'),
    status: z
      .string()
      .max(200)
      .optional()
      .describe('Comma-separated statuses; "open" stands for new, acknowledged, in_progress and pending'),
    category: keyList(2000).optional().describe('Comma-separated category keys'),
    priority: csv(PRIORITIES, 'priority').optional(),
    assignee: z
      .string()
      .regex(/^(me|none|\d+)$/, 'a user id, "me" or "none"')
      .optional(),
    requester: z.coerce.number().int().positive().optional(),
    text: z.string().max(200).optional(),
    sort: z.enum(INCIDENT_SORTS).default('priority'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();

const split = (s: string | undefined) => s?.split(',').map((x) => x.trim()).filter(Boolean);

function parseStatuses(s: string | undefined): IncidentStatus[] | undefined {
  const items = split(s);
  if (!items) return undefined;
  const out = new Set<IncidentStatus>();
  for (const item of items) {
    if (item === 'open') OPEN_STATUSES.forEach((x) => out.add(x));
    else if ((STATUSES as readonly string[]).includes(item)) out.add(item as IncidentStatus);
    else
      throw invalid('validation_failed', `Unknown status "${item}"`, [
        { path: 'querystring.status', message: `expected open or one of ${STATUSES.join(', ')}` },
      ]);
  }
  return [...out];
}

const reason = text(2000);
const commandBodies = {
  acknowledge: z.object({}).strict(),
  start: z.object({}).strict(),
  pend: z.object({ reason: z.enum(PENDING_REASONS), note: z.string().trim().max(2000).default('') }).strict(),
  resume: z.object({}).strict(),
  escalate: z
    .object({
      tier: z.string().min(1).max(64).optional(),
      reason,
      skip: z
        .array(z.object({ index: z.number().int().min(0).max(1000), reason }).strict())
        .max(50)
        .optional()
        .describe('Mandatory actions skipped, each with why'),
    })
    .strict(),
  'hand-back': z.object({ tier: z.string().min(1).max(64).optional(), reason }).strict(),
  resolve: z.object({ resolution: text(10_000) }).strict(),
  close: z.object({}).strict(),
  reopen: z.object({ reason }).strict(),
  // The vendor's answers, given by its contacts or recorded by staff (vendors without an account use their link).
  'vendor-acknowledge': z.object({ ticket: z.string().trim().min(1).max(200).optional() }).strict(),
  'vendor-update': z.object({ note: text(10_000), ticket: z.string().trim().min(1).max(200).optional() }).strict(),
  'vendor-done': z.object({ note: text(10_000) }).strict(),
} as const;

type CommandPath = keyof typeof commandBodies;

function toCommand(path: CommandPath, body: Record<string, unknown>): IncidentCommand {
  switch (path) {
    case 'hand-back':
      return { type: 'hand_back', ...(body as { tier?: string; reason: string }) };
    case 'vendor-acknowledge':
    case 'vendor-update':
    case 'vendor-done':
      return { type: path.replace('-', '_'), ...body } as IncidentCommand;
    default:
      return { type: path, ...body } as IncidentCommand;
  }
}

const clockSchema = z
  .object({
    id: z.string().describe('e.g. L2@4:resolve (the resolve clock of the stint at L2 that began with event 4) or category:gdpr-art33'),
    kind: z.enum(['acknowledge', 'resolve', 'category', 'vendor']),
    tier: z.string().nullable(),
    target: z.string().describe('ISO 8601 duration of business time'),
    elapsedMs: z.number(),
    remainingMs: z.number(),
    paused: z.boolean(),
    stopped: z.boolean(),
    deadline: z.string().nullable().describe('when the target is reached if the clock keeps running'),
    breached: z.boolean(),
  })
  .meta({ id: 'SlaClock' });

const detailSchema = incidentSchema
  .extend({
    checklist: z.array(checklistItemSchema),
    timeline: z.array(eventSchema),
    clocks: z.array(clockSchema),
    deadlines: z
      .array(
        z.object({
          kind: z.enum(['acknowledge', 'resolve', 'vendor']),
          tier: z.string().nullable().describe('null for a vendor target'),
          clock: z
            .string()
            .describe('the clock id, e.g. vendor:3@7:acknowledge for the contract target of vendor 3 engaged at event 7'),
          target: z.string(),
          due: z.string(),
          breached: z.boolean(),
        }),
      )
      .describe("The current tier's running targets and those of the vendor's contract, earliest first"),
    nextEscalation: z
      .object({
        at: z.string(),
        toTier: z.string().nullable(),
        action: z.enum(['escalate', 'notify', 'both']),
        clock: z.string(),
        reason: z.string(),
      })
      .nullable(),
    elapsedMs: z.number().describe('Business time of the whole incident so far, pauses excluded'),
    tierTime: z.array(z.object({ tier: z.string(), enteredAt: z.string(), leftAt: z.string().nullable(), businessMs: z.number() })),
  })
  .meta({ id: 'IncidentDetail' });

export function incidentRoutes(services: Services, listed: IncidentJsonCache): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/api/v1/incidents',
      {
        config: { permission: 'incident.create' },
        schema: {
          tags: ['incidents'],
          summary: 'Open an incident at the lowest tier',
          body: createBody,
          response: { 201: incidentSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const incident = await createIncident(services, actorOf(request), request.body);
        return reply.status(201).send(incidentOut(incident));
      },
    );

    app.get(
      '/api/v1/incidents',
      {
        config: { permission: 'incident.list' },
        schema: {
          tags: ['incidents'],
          summary: 'List incidents visible to the caller (a tier queue with tier=…&status=open)',
          querystring: listQuery,
          response: {
            200: z.object({ items: z.array(incidentSchema), limit: z.number(), offset: z.number(), nextOffset: z.number().nullable() }),
            ...errorResponses,
          },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        const q = request.query;
        const assignee = q.assignee === 'me' ? actor.id : q.assignee === 'none' ? null : q.assignee ? Number(q.assignee) : undefined;
        const items = await listRenderedIncidents(
          services,
          actor,
          {
            tier: split(q.tier),
            status: parseStatuses(q.status),
            category: split(q.category),
            priority: q.priority as Priority[] | undefined,
            assigneeId: assignee,
            ...(q.requester ? { requesterId: q.requester } : {}),
            text: q.text?.trim() || undefined,
          },
          q.sort,
          q.limit + 1,
          q.offset,
          listed,
        );
        const more = items.length > q.limit;
        // The items are JSON already (IncidentJsonCache): the page is written around them.
        const page = `{"items":[${items.slice(0, q.limit).join(',')}],"limit":${q.limit},"offset":${q.offset},"nextOffset":${more ? q.offset + q.limit : null}}`;
        return reply.type('application/json; charset=utf-8').send(page as never);
      },
    );

    app.get(
      '/api/v1/incidents/:id',
      {
        config: { permission: 'incident.read' },
        schema: {
          tags: ['incidents'],
          summary: "An incident with its current tier's checklist, timeline, deadlines and next escalation",
          params: idParams,
          response: { 200: detailSchema, ...errorResponses },
        },
      },
      async (request) => {
        const d = await incidentDetail(services, actorOf(request), request.params.id);
        const x = d.explanation;
        return {
          ...incidentOut(d.incident),
          checklist: d.checklist,
          timeline: d.events.map(eventOut),
          clocks: x.clocks.map((c) => ({ ...c, deadline: iso(c.deadline) })),
          deadlines: x.clocks
            .filter((c) => c.kind !== 'category' && c.deadline !== null)
            .sort((a, b) => a.deadline! - b.deadline!)
            .map((c) => ({
              kind: c.kind as 'acknowledge' | 'resolve' | 'vendor',
              tier: c.tier,
              clock: c.id,
              target: c.target,
              due: iso(c.deadline)!,
              breached: c.breached,
            })),
          nextEscalation: x.nextEscalation && { ...x.nextEscalation, at: iso(x.nextEscalation.at)! },
          elapsedMs: x.overall.elapsedMs,
          tierTime: x.tierTime.map((t) => ({ ...t, enteredAt: iso(t.enteredAt)!, leftAt: iso(t.leftAt) })),
        };
      },
    );

    app.get(
      '/api/v1/incidents/:id/timeline',
      {
        config: { permission: 'incident.read' },
        schema: { tags: ['incidents'], summary: 'Every event of an incident, in order', params: idParams, response: { 200: z.array(eventSchema), ...errorResponses } },
      },
      async (request) => {
        const d = await incidentDetail(services, actorOf(request), request.params.id);
        return d.events.map(eventOut);
      },
    );

    for (const path of Object.keys(commandBodies) as CommandPath[]) {
      app.post(
        `/api/v1/incidents/:id/${path}`,
        {
          config: { permission: COMMAND_PERMISSION[toCommand(path, {}).type] },
          schema: {
            tags: ['incidents'],
            summary: `${path[0]!.toUpperCase()}${path.slice(1).replace('-', ' ')} the incident`,
            params: idParams,
            body: commandBodies[path].nullish(),
            response: { 200: incidentSchema, ...errorResponses },
          },
        },
        async (request) => {
          const body = (request.body ?? commandBodies[path].parse({})) as Record<string, unknown>;
          const incident = await actOnIncident(services, actorOf(request), request.params.id, toCommand(path, body));
          return incidentOut(incident);
        },
      );
    }

    app.post(
      '/api/v1/incidents/:id/comments',
      {
        config: { permission: 'incident.comment' },
        schema: {
          tags: ['incidents'],
          summary: 'Add a comment to the timeline',
          params: idParams,
          body: z.object({ body: text(10_000) }).strict(),
          response: { 201: incidentSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const incident = await actOnIncident(services, actorOf(request), request.params.id, { type: 'comment', body: request.body.body });
        return reply.status(201).send(incidentOut(incident));
      },
    );

    app.post(
      '/api/v1/incidents/:id/clocks/:key/stop',
      {
        config: { permission: 'incident.work' },
        schema: {
          tags: ['incidents'],
          summary: "Mark a category clock's obligation met (e.g. the data-protection authority was notified)",
          params: idParams.extend({ key: z.string().min(1).max(64) }).strict(),
          body: z.object({ note: z.string().trim().max(2000).default('') }).strict(),
          response: { 200: incidentSchema, ...errorResponses },
        },
      },
      async (request) => {
        const { id, key } = request.params;
        return incidentOut(await actOnIncident(services, actorOf(request), id, { type: 'stop_clock', key, note: request.body.note }));
      },
    );

    app.put(
      '/api/v1/incidents/:id/checklist/:index',
      {
        config: { permission: 'incident.work' },
        schema: {
          tags: ['incidents'],
          summary: "Check or uncheck one of the current tier's actions",
          params: idParams.extend({ index: z.coerce.number().int().min(0).max(1000) }).strict(),
          body: z.object({ checked: z.boolean(), note: z.string().trim().max(2000).optional() }).strict(),
          response: { 200: incidentSchema, ...errorResponses },
        },
      },
      async (request) => {
        const { id, index } = request.params;
        const command: IncidentCommand = request.body.checked
          ? { type: 'check', index, note: request.body.note }
          : { type: 'uncheck', index };
        return incidentOut(await actOnIncident(services, actorOf(request), id, command));
      },
    );
  };
}
