import { z } from 'zod';
import { STATUSES, PENDING_REASONS, VENDOR_STATUSES, type Incident, type IncidentEvent } from '../domain/incident.js';
import { localizedSchema } from '../domain/matrix.js';
import { PRIORITIES } from '../domain/priority.js';
import { errorSchema } from './errors.js';
import { isoTime } from './iso-time.js';

export const idParams = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) }).strict();

const iso = (ms: number | null) => (ms == null ? null : isoTime(ms));

export const incidentSchema = z
  .object({
    id: z.number().int(),
    title: z.string(),
    description: z.string(),
    category: z.string(),
    impact: z.number().int(),
    urgency: z.number().int(),
    priority: z.enum(PRIORITIES),
    status: z.enum(STATUSES),
    pendingReason: z.enum(PENDING_REASONS).nullable(),
    tier: z.string(),
    requesterId: z.number().int(),
    assigneeId: z.number().int().nullable(),
    matrixVersion: z.number().int(),
    reopenCount: z.number().int(),
    escalationCount: z.number().int(),
    resolution: z.string().nullable(),
    tierEnteredAt: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    acknowledgedAt: z.string().nullable(),
    resolvedAt: z.string().nullable(),
    closedAt: z.string().nullable(),
    vendorId: z.number().int().nullable(),
    vendorTicket: z.string().nullable(),
    vendorStatus: z.enum(VENDOR_STATUSES).nullable(),
  })
  .meta({ id: 'Incident' });

export function incidentOut(i: Incident): z.infer<typeof incidentSchema> {
  return {
    id: i.id,
    title: i.title,
    description: i.description,
    category: i.category,
    impact: i.impact,
    urgency: i.urgency,
    priority: i.priority,
    status: i.status,
    pendingReason: i.pendingReason,
    tier: i.tier,
    requesterId: i.requesterId,
    assigneeId: i.assigneeId,
    matrixVersion: i.matrixVersion,
    reopenCount: i.reopenCount,
    escalationCount: i.escalationCount,
    resolution: i.resolution,
    tierEnteredAt: iso(i.tierEnteredAt)!,
    createdAt: iso(i.createdAt)!,
    updatedAt: iso(i.updatedAt)!,
    acknowledgedAt: iso(i.acknowledgedAt),
    resolvedAt: iso(i.resolvedAt),
    closedAt: iso(i.closedAt),
    vendorId: i.vendorId,
    vendorTicket: i.vendorTicket,
    vendorStatus: i.vendorStatus,
  };
}

export const eventSchema = z
  .object({
    seq: z.number().int(),
    at: z.string(),
    kind: z.string(),
    actorId: z.number().int().nullable(),
    fromTier: z.string().nullable(),
    toTier: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'IncidentEvent' });

export function eventOut(e: IncidentEvent): z.infer<typeof eventSchema> {
  return {
    seq: e.seq,
    at: iso(e.at)!,
    kind: e.kind,
    actorId: e.actorId,
    fromTier: e.fromTier,
    toTier: e.toTier,
    data: e.data as Record<string, unknown>,
  };
}

export const checklistItemSchema = z.object({ index: z.number().int(), action: localizedSchema, checked: z.boolean(), mandatory: z.boolean() });

/** The error responses any authenticated route may give, for the OpenAPI document. */
export const errorResponses = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
  409: errorSchema,
} as const;

export { iso };
