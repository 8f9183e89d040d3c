import { conflict, forbidden, notFound, invalid } from '../domain/errors.js';
import {
  apply,
  decide,
  decideCreate,
  type Incident,
  type IncidentCommand,
  type IncidentEvent,
  type PendingEvent,
} from '../domain/incident.js';
import { actionsFor, nextTier, slaFor, type Localized, type Matrix } from '../domain/matrix.js';
import { can, incidentScope, type Actor, type Permission } from '../domain/policy.js';
import type { Level } from '../domain/priority.js';
import type { IncidentFilter, IncidentSort } from '../store/incident.repository.js';
import type { Services } from './context.js';
import { matrixVersion } from './matrix.service.js';

export interface CreateIncidentInput {
  title: string;
  description: string;
  category: string;
  impact: Level;
  urgency: Level;
  /** Staff may open an incident on behalf of a requester. */
  requesterId?: number | undefined;
}

export async function createIncident(s: Services, actor: Actor, input: CreateIncidentInput): Promise<Incident> {
  if (input.requesterId !== undefined && input.requesterId !== actor.id) {
    if (!can(actor, 'incident.create_on_behalf')) throw forbidden('Requesters can only open incidents for themselves');
    const requester = await s.users.byId(input.requesterId);
    if (!requester) throw invalid('unknown_requester', `User ${input.requesterId} does not exist`, [{ path: 'requesterId', message: 'no such user' }]);
  }
  const now = s.clock.now();
  return s.store.db.transaction().execute(async (trx) => {
    const matrix = await s.matrices.current(trx);
    if (!matrix) throw notFound('Matrix');
    const change = decideCreate(
      {
        title: input.title,
        description: input.description,
        category: input.category,
        impact: input.impact,
        urgency: input.urgency,
        requesterId: input.requesterId ?? actor.id,
      },
      matrix,
    );
    const draft = apply(undefined, { ...change, incidentId: 0, seq: 1, at: now, actorId: actor.id });
    const id = await s.incidents.insert(trx, draft);
    await s.incidents.appendEvents(trx, [{ ...change, incidentId: id, seq: 1, at: now, actorId: actor.id }]);
    return { ...draft, id };
  });
}

/** Which permission each command needs on the incident. */
export const COMMAND_PERMISSION: Record<IncidentCommand['type'], Permission> = {
  acknowledge: 'incident.work',
  start: 'incident.work',
  pend: 'incident.work',
  resume: 'incident.work',
  escalate: 'incident.work',
  hand_back: 'incident.work',
  resolve: 'incident.work',
  check: 'incident.work',
  uncheck: 'incident.work',
  close: 'incident.close',
  reopen: 'incident.reopen',
  comment: 'incident.comment',
};

/**
 * Applies one command: decides its events, appends them and writes the new projection in one
 * transaction. Returns the incident as it now stands.
 */
export async function actOnIncident(s: Services, actor: Actor, id: number, command: IncidentCommand): Promise<Incident> {
  const now = s.clock.now();
  return s.store.db.transaction().execute(async (trx) => {
    const incident = await s.incidents.get(id, trx, true);
    if (!incident || !can(actor, 'incident.read', incident)) throw notFound(`Incident ${id}`);
    if (!can(actor, COMMAND_PERMISSION[command.type], incident))
      throw forbidden(
        actor.role === 'agent'
          ? `Only agents of tier ${incident.tier} can do this while the incident is there`
          : 'Your role does not allow this on this incident',
      );
    const matrix = await matrixVersion(s, incident.matrixVersion);
    const decided = decide(incident, command, actor.id, matrix);
    const events = number(decided, incident, now, actor.id);
    const next = events.reduce<Incident>((state, e) => apply(state, e), incident);
    if (!(await s.incidents.update(trx, next, incident.seq)))
      throw conflict('concurrent_update', 'The incident changed meanwhile; reload and try again');
    await s.incidents.appendEvents(trx, events);
    return next;
  });
}

function number(decided: PendingEvent[], incident: Incident, at: number, actorId: number): IncidentEvent[] {
  return decided.map((e, i) => ({ ...e, incidentId: incident.id, seq: incident.seq + i + 1, at, actorId }));
}

export async function readableIncident(s: Services, actor: Actor, id: number): Promise<Incident> {
  const incident = await s.incidents.get(id);
  // Not found and not allowed look the same, so ids cannot be probed.
  if (!incident || !can(actor, 'incident.read', incident)) throw notFound(`Incident ${id}`);
  return incident;
}

export interface ChecklistItem {
  index: number;
  action: Localized;
  checked: boolean;
}

export interface Deadline {
  kind: 'acknowledge' | 'resolve';
  tier: string;
  target: string;
  due: number;
  breached: boolean;
}

export interface IncidentDetail {
  incident: Incident;
  matrix: Matrix;
  checklist: ChecklistItem[];
  events: IncidentEvent[];
  deadlines: Deadline[];
  nextEscalation: { at: number; toTier: string; reason: string } | null;
}

export async function incidentDetail(s: Services, actor: Actor, id: number): Promise<IncidentDetail> {
  const incident = await readableIncident(s, actor, id);
  const [matrix, events] = await Promise.all([matrixVersion(s, incident.matrixVersion), s.incidents.events(id)]);
  const checked = new Set(incident.checklist[incident.tier] ?? []);
  const checklist = actionsFor(matrix, incident.category, incident.tier).map((action, index) => ({
    index,
    action,
    checked: checked.has(index),
  }));
  const deadlines = tierDeadlines(incident, matrix, s.clock.now());
  const first = deadlines[0];
  const to = nextTier(matrix, incident.tier);
  return {
    incident,
    matrix,
    checklist,
    events,
    deadlines,
    nextEscalation:
      first && to ? { at: first.due, toTier: to, reason: `${first.kind} target of ${incident.tier} (${first.target})` } : null,
  };
}

/**
 * The current tier's running targets, counted in wall-clock time from the moment the incident
 * reached the tier. Pending incidents and finished ones have no running target.
 */
function tierDeadlines(incident: Incident, matrix: Matrix, now: number): Deadline[] {
  const sla = slaFor(matrix, incident.tier, incident.priority);
  const target = matrix.sla.find((t) => t.tier === incident.tier && t.priority === incident.priority);
  if (!sla || !target || incident.status === 'pending' || incident.status === 'resolved' || incident.status === 'closed')
    return [];
  const out: Deadline[] = [];
  const start = incident.tierEnteredAt;
  if (incident.status === 'new') {
    const due = start + sla.acknowledgeMs;
    out.push({ kind: 'acknowledge', tier: incident.tier, target: target.acknowledge, due, breached: due <= now });
  }
  const due = start + sla.resolveMs;
  out.push({ kind: 'resolve', tier: incident.tier, target: target.resolve, due, breached: due <= now });
  return out.sort((a, b) => a.due - b.due);
}

export async function listIncidents(
  s: Services,
  actor: Actor,
  filter: IncidentFilter,
  sort: IncidentSort,
  limit: number,
  offset: number,
): Promise<Incident[]> {
  // The actor's scope overrides any requester filter given: a requester only ever lists their own.
  const scoped = { ...filter, ...incidentScope(actor) };
  return s.incidents.list(scoped, sort, limit, offset);
}
