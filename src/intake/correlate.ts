import type { Transaction } from 'kysely';
import { OPEN_STATUSES, type Incident, type IncidentCommand } from '../domain/incident.js';
import type { Actor } from '../domain/policy.js';
import type { Services } from '../services/context.js';
import { actOnIncidentIn, createIncidentIn } from '../services/incident.service.js';
import type { CorrelationRow } from '../store/intake.repository.js';
import type { Database } from '../store/schema.js';
import type { Integration } from './integrations.js';
import type { Classification } from './rules.js';

/** Titles and descriptions from outside are plain text: control characters dropped, length bounded. */
export function plain(text: string | undefined | null, max: number): string {
  if (!text) return '';
  const clean = text
    .replace(/\r\n?/g, '\n')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
    .trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 20_000;
export const COMMENT_MAX = 10_000;

export interface Linked {
  correlation: CorrelationRow;
  incident: Incident;
}

/**
 * The open incident a key is tied to. A tie to an incident people have since resolved or closed
 * is let go, so the next alert with that key opens a new incident (as PagerDuty does).
 */
export async function linkedIncident(
  s: Services,
  trx: Transaction<Database>,
  integrationId: number,
  key: string,
): Promise<Linked | undefined> {
  const correlation = await s.intake.correlation(trx, integrationId, key);
  if (!correlation) return undefined;
  const incident = await s.incidents.get(correlation.incident_id, trx, true);
  if (incident && OPEN_STATUSES.includes(incident.status)) return { correlation, incident };
  await s.intake.updateCorrelation(trx, correlation.id, { active: false, at: s.clock.now() });
  return undefined;
}

/** Opens an incident through the incident service and ties the key to it. */
export async function openLinkedIncident(
  s: Services,
  trx: Transaction<Database>,
  integration: Integration,
  opts: {
    actorId: number;
    requesterId: number;
    title: string;
    description: string;
    classification: Classification;
    key: string;
    state: string;
    detail?: unknown;
  },
): Promise<Incident> {
  const incident = await createIncidentIn(s, trx, opts.actorId, {
    title: plain(opts.title, TITLE_MAX) || 'Alert',
    description: plain(opts.description, DESCRIPTION_MAX),
    category: opts.classification.category,
    impact: opts.classification.impact,
    urgency: opts.classification.urgency,
    requesterId: opts.requesterId,
  });
  await s.intake.insertCorrelation(trx, {
    integrationId: integration.id,
    key: opts.key,
    incidentId: incident.id,
    state: opts.state,
    detail: opts.detail,
    at: s.clock.now(),
  });
  return incident;
}

export function act(
  s: Services,
  trx: Transaction<Database>,
  actor: Actor,
  incidentId: number,
  command: IncidentCommand,
): Promise<Incident> {
  if (command.type === 'comment') command = { ...command, body: plain(command.body, COMMENT_MAX) };
  return actOnIncidentIn(s, trx, actor, incidentId, command);
}
