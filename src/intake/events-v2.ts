import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { InboundMessageRow } from '../store/intake.repository.js';
import { act, linkedIncident, openLinkedIncident } from './correlate.js';
import { decodeBody, integrationActor, type Handler } from './message.js';
import { classify } from './rules.js';

/** PagerDuty Events API v2 (alert events), as published: the same fields, limits and answers. */
export const EVENTS_V2_BODY_LIMIT = 512 * 1024;

const optionalText = z.string().max(1024).optional();
export const eventSchema = z.looseObject({
  routing_key: z.string(),
  event_action: z.enum(['trigger', 'acknowledge', 'resolve']),
  dedup_key: z.string().min(1).max(255).optional(),
  payload: z
    .looseObject({
      summary: z.string().min(1).max(1024),
      source: z.string().min(1).max(1024),
      severity: z.enum(['critical', 'error', 'warning', 'info']),
      timestamp: optionalText, // ISO 8601, kept as sent
      component: optionalText,
      group: optionalText,
      class: optionalText,
      custom_details: z.unknown().optional(),
    })
    .optional(),
  images: z
    .array(z.looseObject({ src: z.string() }))
    .max(50)
    .optional(),
  links: z
    .array(z.looseObject({ href: z.string(), text: z.string().optional() }))
    .max(50)
    .optional(),
  client: optionalText,
  client_url: optionalText,
});
export type EventV2 = z.infer<typeof eventSchema>;

/** The Events API's refusal: `{"status":"invalid event","message":"Event object is invalid","errors":[…]}`. */
export class InvalidEvent extends Error {
  constructor(readonly errors: string[]) {
    super('Event object is invalid');
  }
  body() {
    return { status: 'invalid event', message: this.message, errors: this.errors };
  }
}

/** The JSON object of a body, or the Events API's refusal. */
export function parseEventJson(body: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new InvalidEvent(['Event is not valid JSON']);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InvalidEvent(['Event must be a JSON object']);
  const routingKey = (json as { routing_key?: unknown }).routing_key;
  if (typeof routingKey !== 'string' || routingKey.trim() === '') throw new InvalidEvent(["'routing_key' is missing or blank"]);
  return json as Record<string, unknown>;
}

/** Checks an event; a trigger needs payload.summary, source and severity. */
export function validateEvent(json: Record<string, unknown>): EventV2 {
  const parsed = eventSchema.safeParse(json);
  const errors = parsed.success ? [] : parsed.error.issues.map((i) => `'${i.path.join('.') || 'event'}': ${i.message}`);
  if (parsed.success && parsed.data.event_action === 'trigger' && !parsed.data.payload)
    errors.push("'payload' is missing or blank");
  if (parsed.success && parsed.data.event_action !== 'trigger' && !parsed.data.dedup_key)
    errors.push("'dedup_key' is missing or blank");
  if (errors.length || !parsed.success) throw new InvalidEvent(errors);
  return parsed.data;
}

/** A trigger without dedup_key gets a fresh one, returned to the sender like PagerDuty does. */
export function dedupKeyOf(event: EventV2): string {
  return event.dedup_key ?? randomUUID().replaceAll('-', '');
}

function describeEvent(event: EventV2): string {
  const p = event.payload!;
  const lines = [`Source: ${p.source}`, `Severity: ${p.severity}`];
  if (p.component) lines.push(`Component: ${p.component}`);
  if (p.group) lines.push(`Group: ${p.group}`);
  if (p.class) lines.push(`Class: ${p.class}`);
  if (p.timestamp) lines.push(`Detected: ${p.timestamp}`);
  if (event.client) lines.push(`Sent by: ${event.client}${event.client_url ? ` (${event.client_url})` : ''}`);
  if (p.custom_details !== undefined) lines.push('', 'Details:', JSON.stringify(p.custom_details, null, 2));
  if (event.links?.length) lines.push('', 'Links:', ...event.links.map((l) => `- ${l.text ? `${l.text}: ` : ''}${l.href}`));
  return lines.join('\n');
}

/** Labels the integration's rules can match: severity, source, component, group, class, and flat custom details. */
function labelsOf(event: EventV2): Record<string, string> {
  const p = event.payload!;
  const out: Record<string, string> = {};
  if (p.custom_details && typeof p.custom_details === 'object' && !Array.isArray(p.custom_details))
    for (const [k, v] of Object.entries(p.custom_details)) if (typeof v === 'string' || typeof v === 'number') out[k] = String(v);
  Object.assign(out, { severity: p.severity, source: p.source });
  for (const k of ['component', 'group', 'class'] as const) if (p[k]) out[k] = p[k];
  return out;
}

export const eventsV2Handler: Handler<EventV2> = {
  prepare: (message: InboundMessageRow) => validateEvent(parseEventJson(decodeBody(message).toString('utf8'))),
  async apply(s, trx, integration, message, event) {
    const actor = integrationActor(integration);
    const dedupKey = message.dedup_key ?? dedupKeyOf(event);
    const key = `dk:${dedupKey}`;
    const linked = await linkedIncident(s, trx, integration.id, key);
    const action = event.event_action;
    if (action === 'trigger') {
      if (linked)
        return { status: 'processed', incidentId: linked.incident.id, detail: { action, dedupKey, deduplicated: true } };
      const incident = await openLinkedIncident(s, trx, integration, {
        actorId: actor.id,
        requesterId: actor.id,
        title: event.payload!.summary,
        description: describeEvent(event),
        classification: classify(integration.config, labelsOf(event)),
        key,
        state: 'triggered',
      });
      return { status: 'processed', incidentId: incident.id, detail: { action, dedupKey, opened: incident.id } };
    }
    // Acknowledge and resolve events for no open incident are dropped, as the Events API does.
    if (!linked)
      return {
        status: 'processed',
        incidentId: null,
        detail: { action, dedupKey, dropped: 'no open incident for this dedup_key' },
      };
    const id = linked.incident.id;
    if (action === 'acknowledge') {
      if (linked.incident.status !== 'new')
        return { status: 'processed', incidentId: id, detail: { action, dedupKey, unchanged: true } };
      await act(s, trx, actor, id, { type: 'acknowledge' });
      await s.intake.updateCorrelation(trx, linked.correlation.id, { state: 'acknowledged', at: s.clock.now() });
      return { status: 'processed', incidentId: id, detail: { action, dedupKey, acknowledged: id } };
    }
    await act(s, trx, actor, id, {
      type: 'resolve',
      resolution: `Resolved by ${event.client ?? integration.name} (dedup_key ${dedupKey}).`,
    });
    await s.intake.updateCorrelation(trx, linked.correlation.id, { state: 'resolved', active: false, at: s.clock.now() });
    return { status: 'processed', incidentId: id, detail: { action, dedupKey, resolved: id } };
  },
};
