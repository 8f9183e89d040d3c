import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.js';
import type { IncidentEvent } from '../../domain/incident.js';
import { PRIORITIES } from '../../domain/priority.js';
import { STATUSES, VENDOR_STATUSES } from '../../domain/incident.js';
import type { Services } from '../../services/context.js';
import {
  createVendor,
  engageVendor,
  openPortal,
  portalAct,
  updateVendor,
  vendorDetail,
  type PortalView,
} from '../../services/vendor.service.js';
import type { Vendor } from '../../store/vendor.repository.js';
import { actorOf } from '../auth.js';
import { errorSchema } from '../errors.js';
import { errorResponses, idParams, incidentOut, incidentSchema, iso } from '../schemas.js';
import { logSecurity } from '../security-log.js';

const categoryKey = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'a category key');
const duration = z.string().max(40).describe('ISO 8601 duration, e.g. PT4H');

const vendorSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    categories: z.array(z.string()).describe('keys of the matrix categories the vendor covers'),
    email: z.string(),
    phone: z.string().nullable(),
    locale: z.enum(['fr', 'en']),
    contractRef: z.string().nullable().describe('contract or support reference'),
    acknowledge: z.string().nullable().describe("the contract's acknowledge target (ISO 8601 duration)"),
    resolve: z.string().nullable().describe("the contract's resolve target (ISO 8601 duration)"),
    active: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Vendor' });

const fields = {
  name: z.string().trim().min(1).max(200),
  categories: z.array(categoryKey).max(200),
  email: z.email().max(320),
  phone: z
    .string()
    .trim()
    .regex(/^\+?[0-9 ().-]{3,40}$/, 'digits, spaces and + ( ) . -')
    .nullable(),
  locale: z.enum(['fr', 'en']),
  contractRef: z.string().trim().min(1).max(200).nullable(),
  acknowledge: duration.nullable(),
  resolve: duration.nullable(),
  active: z.boolean(),
};

const createBody = z
  .object({
    ...fields,
    phone: fields.phone.optional(),
    locale: fields.locale.default('fr'),
    contractRef: fields.contractRef.optional(),
    acknowledge: fields.acknowledge.optional(),
    resolve: fields.resolve.optional(),
    active: fields.active.optional(),
  })
  .strict();

const patchBody = z
  .object({
    ...(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.optional()])) as {
      [K in keyof typeof fields]: z.ZodOptional<(typeof fields)[K]>;
    }),
    updatedAt: z.iso
      .datetime()
      .optional()
      .describe("The vendor's updatedAt this edit was made on; refused with 409 vendor_changed if it has changed since"),
  })
  .strict()
  .refine((b) => Object.keys(b).some((k) => k !== 'updatedAt'), 'nothing to change');

const vendorDetailSchema = vendorSchema
  .extend({
    openEngagements: z
      .number()
      .int()
      .nullable()
      .describe('incidents handed to the vendor and not yet done, resolved or closed (null unless the caller reads reports)'),
  })
  .meta({ id: 'VendorDetail' });

const vendorOut = (v: Vendor): z.infer<typeof vendorSchema> => ({
  id: v.id,
  name: v.name,
  categories: v.categories,
  email: v.email,
  phone: v.phone,
  locale: v.locale,
  contractRef: v.contractRef,
  acknowledge: v.acknowledge,
  resolve: v.resolve,
  active: v.active,
  createdAt: iso(v.createdAt)!,
  updatedAt: iso(v.updatedAt)!,
});

const portalEventSchema = z.object({
  seq: z.number().int(),
  at: z.string(),
  kind: z.enum(['vendor_engaged', 'vendor_acknowledged', 'vendor_updated', 'vendor_done']),
  note: z.string().nullable(),
  ticket: z.string().nullable(),
});

const portalSchema = z
  .object({
    incident: z.object({
      id: z.number().int(),
      title: z.string(),
      description: z.string(),
      category: z.string(),
      categoryName: z.object({ fr: z.string(), en: z.string() }).nullable(),
      priority: z.enum(PRIORITIES),
      status: z.enum(STATUSES),
      vendorStatus: z.enum(VENDOR_STATUSES).nullable(),
      vendorTicket: z.string().nullable(),
    }),
    vendor: z.object({ id: z.number().int(), name: z.string(), locale: z.enum(['fr', 'en']) }),
    timeline: z.array(portalEventSchema).describe("the hand-off with its note, and the vendor's own answers; nothing internal"),
    expiresAt: z.string(),
  })
  .meta({ id: 'VendorPortal' });

function portalEventOut(e: IncidentEvent): z.infer<typeof portalEventSchema> {
  const d = e.data as { note?: string; ticket?: string };
  return {
    seq: e.seq,
    at: iso(e.at)!,
    kind: e.kind as z.infer<typeof portalEventSchema>['kind'],
    note: d.note ?? null,
    ticket: d.ticket ?? null,
  };
}

async function portalOut(s: Services, p: PortalView): Promise<z.infer<typeof portalSchema>> {
  const matrix = await s.matrices.get(p.incident.matrixVersion);
  const category = matrix?.categories.find((c) => c.key === p.incident.category);
  return {
    incident: {
      id: p.incident.id,
      title: p.incident.title,
      description: p.incident.description,
      category: p.incident.category,
      categoryName: category ? { fr: category.name.fr, en: category.name.en } : null,
      priority: p.incident.priority,
      status: p.incident.status,
      vendorStatus: p.incident.vendorStatus,
      vendorTicket: p.incident.vendorTicket,
    },
    vendor: { id: p.vendor.id, name: p.vendor.name, locale: p.vendor.locale },
    timeline: p.timeline.map(portalEventOut),
    expiresAt: iso(p.expiresAt)!,
  };
}

const ticket = z.string().trim().min(1).max(200).describe("the vendor's own ticket number");
const note = z.string().trim().min(1).max(10_000);
const tokenParams = z.object({ token: z.string().min(1).max(200) }).strict();
const portalErrors = { 400: errorSchema, 404: errorSchema, 409: errorSchema, 410: errorSchema, 429: errorSchema };

export function vendorRoutes(services: Services, portalRateLimit: number): FastifyPluginAsyncZod {
  /** Links are guessable by nobody, but each try costs an HMAC and a read: slowed per client address. */
  const portalLimit = {
    max: portalRateLimit,
    timeWindow: 60_000,
    groupId: 'vendor-portal',
    keyGenerator: (request: FastifyRequest) => request.ip,
    errorResponseBuilder: (request: FastifyRequest, context: { after: string }) => {
      logSecurity(request, 'vendor_portal_rate_limited', {});
      return new DomainError('rate_limited', 'rate_limited', `Too many requests; try again in ${context.after}`);
    },
  };
  const portal = { public: true, rateLimit: portalLimit };

  return async (app) => {
    app.get(
      '/api/v1/vendors',
      {
        config: { permission: 'vendor.read' },
        schema: {
          tags: ['vendors'],
          summary: 'The vendor directory (staff)',
          querystring: z
            .object({
              active: z.enum(['true', 'false']).optional(),
              category: categoryKey.optional().describe('vendors covering this category'),
            })
            .strict(),
          response: { 200: z.object({ items: z.array(vendorSchema) }), ...errorResponses },
        },
      },
      async (request) => {
        const q = request.query;
        const items = await services.vendors.list({
          active: q.active === undefined ? undefined : q.active === 'true',
          category: q.category,
        });
        return { items: items.map(vendorOut) };
      },
    );

    app.post(
      '/api/v1/vendors',
      {
        config: { permission: 'vendor.manage' },
        schema: {
          tags: ['vendors'],
          summary: 'Add a vendor (administrators)',
          body: createBody,
          response: { 201: vendorSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const b = request.body;
        const vendor = await createVendor(services, {
          name: b.name,
          categories: [...new Set(b.categories)],
          email: b.email,
          phone: b.phone ?? null,
          locale: b.locale,
          contractRef: b.contractRef ?? null,
          acknowledge: b.acknowledge ?? null,
          resolve: b.resolve ?? null,
          active: b.active,
        });
        return reply.status(201).send(vendorOut(vendor));
      },
    );

    app.get(
      '/api/v1/vendors/:id',
      {
        config: { permission: 'vendor.read' },
        schema: {
          tags: ['vendors'],
          summary: 'One vendor, with how many incidents are in its hands (staff)',
          params: idParams,
          response: { 200: vendorDetailSchema, ...errorResponses },
        },
      },
      async (request) => {
        const { vendor, openEngagements } = await vendorDetail(services, actorOf(request), request.params.id);
        return { ...vendorOut(vendor), openEngagements };
      },
    );

    app.patch(
      '/api/v1/vendors/:id',
      {
        config: { permission: 'vendor.manage' },
        schema: {
          tags: ['vendors'],
          summary: 'Change a vendor (administrators); "active": false retires it (incidents keep referring to it)',
          params: idParams,
          body: patchBody,
          response: { 200: vendorSchema, ...errorResponses },
        },
      },
      async (request) => {
        const { updatedAt, ...b } = request.body;
        const change = { ...b, ...(b.categories ? { categories: [...new Set(b.categories)] } : {}) };
        const seen = updatedAt === undefined ? undefined : Date.parse(updatedAt);
        return vendorOut(await updateVendor(services, request.params.id, change, seen));
      },
    );

    app.post(
      '/api/v1/incidents/:id/engage-vendor',
      {
        config: { permission: 'incident.work' },
        schema: {
          tags: ['incidents'],
          summary: 'Hand the incident to a vendor (level X): the vendor gets a signed link, its contract clocks start',
          params: idParams,
          body: z.object({ vendorId: z.number().int().positive(), note: z.string().trim().max(10_000).default('') }).strict(),
          response: { 200: incidentSchema, ...errorResponses, 422: errorSchema },
        },
      },
      async (request) => incidentOut(await engageVendor(services, actorOf(request), request.params.id, request.body)),
    );

    app.get(
      '/api/v1/vendor-portal/:token',
      {
        config: portal,
        schema: {
          tags: ['vendor portal'],
          summary: "The vendor's page for one incident, opened with its signed link (no account)",
          security: [],
          params: tokenParams,
          response: { 200: portalSchema, ...portalErrors },
        },
      },
      async (request) => portalOut(services, await openPortal(services, request.params.token)),
    );

    app.post(
      '/api/v1/vendor-portal/:token/acknowledge',
      {
        config: portal,
        schema: {
          tags: ['vendor portal'],
          summary: 'The vendor acknowledges the incident, with its own ticket number if it has one',
          security: [],
          params: tokenParams,
          body: z.object({ ticket: ticket.optional() }).strict().nullish(),
          response: { 200: portalSchema, ...portalErrors },
        },
      },
      async (request) =>
        portalOut(
          services,
          await portalAct(services, request.params.token, { type: 'vendor_acknowledge', ticket: request.body?.ticket }),
        ),
    );

    app.post(
      '/api/v1/vendor-portal/:token/updates',
      {
        config: portal,
        schema: {
          tags: ['vendor portal'],
          summary: 'The vendor posts an update (and its ticket number)',
          security: [],
          params: tokenParams,
          body: z.object({ note, ticket: ticket.optional() }).strict(),
          response: { 200: portalSchema, ...portalErrors },
        },
      },
      async (request) =>
        portalOut(
          services,
          await portalAct(services, request.params.token, {
            type: 'vendor_update',
            note: request.body.note,
            ticket: request.body.ticket,
          }),
        ),
    );

    app.post(
      '/api/v1/vendor-portal/:token/done',
      {
        config: portal,
        schema: {
          tags: ['vendor portal'],
          summary: 'The vendor marks its part done; the incident goes back to the tier that handed it over',
          security: [],
          params: tokenParams,
          body: z.object({ note }).strict(),
          response: { 200: portalSchema, ...portalErrors },
        },
      },
      async (request) =>
        portalOut(services, await portalAct(services, request.params.token, { type: 'vendor_done', note: request.body.note })),
    );
  };
}
