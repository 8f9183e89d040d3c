import { conflict, forbidden, notFound, invalid } from '../domain/errors.js';
import {
  apply,
  decide,
  decideCreate,
  numberEvents,
  type Incident,
  type NewIncident,
  type PendingEvent,
  type IncidentCommand,
  type IncidentEvent,
} from '../domain/incident.js';
import { explain, followUps, wakeUpOf, type WakeUp } from '../domain/escalation.js';
import { incidentFigures, type IncidentFigures } from '../domain/incident-figures.js';
import { saveFigures } from '../store/figures.repository.js';
import { actionsFor, cellOf, type Localized, type Matrix } from '../domain/matrix.js';
import { can, incidentScope, type Actor, type Permission } from '../domain/policy.js';
import type { Level } from '../domain/priority.js';
import type { Transaction } from 'kysely';
import type { IncidentFilter, IncidentSort, IncidentVersion } from '../store/incident.repository.js';
import type { Database } from '../store/schema.js';
import type { Services } from './context.js';
import { currentConfidentialRules, matrixVersion, withinScope } from './matrix.service.js';

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
  return creationBatcher(s).submit({
    title: input.title,
    description: input.description,
    category: input.category,
    impact: input.impact,
    urgency: input.urgency,
    requesterId: input.requesterId ?? actor.id,
    actorId: actor.id,
  });
}

type Creation = NewIncident & { actorId: number };
type Waiter = { creation: Creation; resolve: (i: Incident) => void; reject: (e: unknown) => void };

/**
 * Group commit: creations that arrive together are written in one transaction, their events,
 * wake-ups and outbox rows in one statement each. If the batch fails as a whole, each creation is
 * retried alone, so one bad request never fails another.
 */
class CreationBatcher {
  private queue: Waiter[] = [];
  private scheduled = false;

  constructor(private readonly s: Services) {}

  submit(creation: Creation): Promise<Incident> {
    return new Promise((resolve, reject) => {
      this.queue.push({ creation, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, 500);
    this.scheduled = this.queue.length > 0;
    if (this.scheduled) setImmediate(() => void this.flush());
    try {
      const results = await this.write(batch.map((w) => w.creation));
      batch.forEach((w, i) => {
        const r = results[i]!;
        if (r instanceof Error) w.reject(r);
        else w.resolve(r);
      });
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      for (const w of batch) {
        try {
          const [r] = await this.write([w.creation]);
          if (r instanceof Error) w.reject(r);
          else w.resolve(r!);
        } catch (e) {
          w.reject(e);
        }
      }
    }
  }

  private write(creations: Creation[]): Promise<Array<Incident | Error>> {
    return this.s.store.db.transaction().execute((trx) => writeCreations(this.s, trx, creations));
  }
}

/** Writes the valid creations inside `trx`; an invalid one (unknown category) comes back as its error. */
async function writeCreations(s: Services, trx: Transaction<Database>, creations: Creation[]): Promise<Array<Incident | Error>> {
  const now = s.clock.now();
  const matrix = await s.matrices.current(trx);
  if (!matrix) throw notFound('Matrix');
  const out: Array<Incident | Error | undefined> = [];
  const drafts: Array<{ draft: Omit<Incident, 'id'>; change: PendingEvent; actorId: number; slot: number }> = [];
  for (const { actorId, ...input } of creations) {
    try {
      const change = decideCreate(input, matrix);
      drafts.push({ change, actorId, slot: out.length, draft: apply(undefined, { ...change, incidentId: 0, seq: 1, at: now, actorId }) });
      out.push(undefined); // filled once the incident has its id
    } catch (error) {
      out.push(error as Error);
    }
  }
  const ids = await s.incidents.insertMany(
    trx,
    drafts.map((d) => d.draft),
  );
  const events: IncidentEvent[] = [];
  const wakeUps: Array<{ incidentId: number; dueAt: number | null; orderAt?: number }> = [];
  const figures: IncidentFigures[] = [];
  drafts.forEach(({ draft, change, actorId, slot }, i) => {
    const incident = { ...draft, id: ids[i]! };
    const created = { ...change, incidentId: incident.id, seq: 1, at: now, actorId };
    events.push(created);
    wakeUps.push({ incidentId: incident.id, ...wakeUp(wakeUpOf(incident, [created], matrix, now)) });
    figures.push(incidentFigures(incident, [created], matrix, now));
    out[slot] = incident;
  });
  await s.incidents.appendEvents(trx, events);
  await s.escalations.setWakeUps(trx, wakeUps);
  await s.escalations.enqueue(trx, events, now);
  await saveFigures(trx, figures);
  return out as Array<Incident | Error>; // every slot is filled by now
}

/**
 * Opens one incident inside a transaction the caller holds, with its event, wake-up and outbox
 * rows, so another write (an inbound message marked processed) commits or fails with it.
 */
export async function createIncidentIn(s: Services, trx: Transaction<Database>, actorId: number, input: NewIncident): Promise<Incident> {
  const [result] = await writeCreations(s, trx, [{ ...input, actorId }]);
  if (result instanceof Error) throw result;
  return result!;
}

// One batcher per services object: a copy with another clock (tests, simulations) gets its own.
const batchers = new WeakMap<Services, CreationBatcher>();
function creationBatcher(s: Services): CreationBatcher {
  let b = batchers.get(s);
  if (!b) batchers.set(s, (b = new CreationBatcher(s)));
  return b;
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
  stop_clock: 'incident.work',
  // Staff may record what a vendor said by phone; vendors themselves act through their signed link.
  engage_vendor: 'incident.work',
  vendor_acknowledge: 'incident.vendor_update',
  vendor_update: 'incident.vendor_update',
  vendor_done: 'incident.vendor_update',
  close: 'incident.close',
  reopen: 'incident.reopen',
  comment: 'incident.comment',
};

/**
 * Applies one command: decides its events, appends them and writes the new projection in one
 * transaction. Returns the incident as it now stands.
 */
export async function actOnIncident(s: Services, actor: Actor, id: number, command: IncidentCommand): Promise<Incident> {
  return s.store.db.transaction().execute((trx) => actOnIncidentIn(s, trx, actor, id, command));
}

/** actOnIncident inside a transaction the caller holds. */
export async function actOnIncidentIn(s: Services, trx: Transaction<Database>, actor: Actor, id: number, command: IncidentCommand): Promise<Incident> {
  const now = s.clock.now();
  const incident = await s.incidents.get(id, trx, true);
  const rules = await currentConfidentialRules(s, trx);
  if (!incident || !can(actor, 'incident.read', incident, rules)) throw notFound(`Incident ${id}`);
  if (!can(actor, COMMAND_PERMISSION[command.type], incident, rules))
    throw forbidden(
      actor.role === 'agent'
        ? `Only agents of tier ${incident.tier} can do this while the incident is there`
        : 'Your role does not allow this on this incident',
    );
  const matrix = await matrixVersion(s, incident.matrixVersion, trx);
  const history = await s.incidents.events(id, trx);
  const events = numberEvents(incident, decide(incident, command, actor.id, matrix), now, actor.id);
  let next = events.reduce<Incident>((state, e) => apply(state, e), incident);
  // Consequences of the change (ping-pong between tiers, too many reopenings) are the system's, not the actor's.
  const consequences = numberEvents(next, followUps(next, [...history, ...events], matrix), now, null);
  next = consequences.reduce<Incident>((state, e) => apply(state, e), next);
  const all = [...events, ...consequences];
  if (!(await s.incidents.update(trx, next, incident.seq, incident)))
    throw conflict('concurrent_update', 'The incident changed meanwhile; reload and try again');
  await s.incidents.appendEvents(trx, all);
  // Acknowledging, pending, resolving or moving the incident reschedules its deadlines in the same transaction.
  await s.escalations.setWakeUps(trx, [{ incidentId: id, ...wakeUp(wakeUpOf(next, [...history, ...all], matrix, now)) }]);
  await s.escalations.enqueue(trx, all, now);
  await saveFigures(trx, [incidentFigures(next, [...history, ...all], matrix, now)]);
  return next;
}

const wakeUp = (w: WakeUp | null) => (w ? w : { dueAt: null });


export async function readableIncident(s: Services, actor: Actor, id: number): Promise<Incident> {
  const [incident, rules] = await Promise.all([s.incidents.get(id), currentConfidentialRules(s)]);
  // Not found and not allowed look the same, so ids (and confidential incidents) cannot be probed.
  if (!incident || !can(actor, 'incident.read', incident, rules)) throw notFound(`Incident ${id}`);
  return incident;
}

export interface ChecklistItem {
  index: number;
  action: Localized;
  checked: boolean;
  mandatory: boolean;
}

export interface IncidentDetail {
  incident: Incident;
  matrix: Matrix;
  checklist: ChecklistItem[];
  events: IncidentEvent[];
  explanation: ReturnType<typeof explain>;
}

export async function incidentDetail(s: Services, actor: Actor, id: number): Promise<IncidentDetail> {
  const incident = await readableIncident(s, actor, id);
  const [matrix, events] = await Promise.all([matrixVersion(s, incident.matrixVersion), s.incidents.events(id)]);
  const checked = new Set(incident.checklist[incident.tier] ?? []);
  const mandatory = new Set(cellOf(matrix, incident.category, incident.tier)?.mandatory ?? []);
  const checklist = actionsFor(matrix, incident.category, incident.tier).map((action, index) => ({
    index,
    action,
    checked: checked.has(index),
    mandatory: mandatory.has(index),
  }));
  return { incident, matrix, checklist, events, explanation: explain(incident, events, matrix, s.clock.now()) };
}

/** What a reader made of one version of an incident (a rendering), kept as long as the version is current. */
export interface RenderingCache<T> {
  get(id: number, seq: number): T | undefined;
  /** Renders the incident and keeps the result under its id and seq. */
  render(incident: Incident): T;
}

/**
 * A page of incidents visible to the actor, rendered through a cache: one query lists ids and versions, a
 * second reads only the incidents whose version is not cached (with the scope checked again).
 * Polled queues repeat mostly unchanged incidents, and reading and rendering whole rows is most
 * of the cost of a page.
 */
export async function listRenderedIncidents<T>(
  s: Services,
  actor: Actor,
  filter: IncidentFilter,
  sort: IncidentSort,
  limit: number,
  offset: number,
  cache: RenderingCache<T>,
): Promise<T[]> {
  const scoped = await withinScope(s, actor, filter);
  const page = await s.incidents.listVersions(scoped, sort, limit, offset);
  return (await renderPage(s, scoped, page, cache)).map((r) => r.rendered);
}

/**
 * Renders a page of listed versions: cached renderings as they are, the others read again within
 * the filter (changed between the two reads: the later version is shown; gone out of scope: left out).
 */
async function renderPage<V extends IncidentVersion, T>(
  s: Services,
  scoped: IncidentFilter,
  page: V[],
  cache: RenderingCache<T>,
): Promise<Array<{ listed: V; rendered: T }>> {
  const cached = page.map((v) => cache.get(v.id, v.seq));
  const fresh = await s.incidents.listByIds(
    scoped,
    page.filter((_, i) => cached[i] === undefined).map((v) => v.id),
  );
  const out: Array<{ listed: V; rendered: T }> = [];
  page.forEach((listed, i) => {
    const incident = fresh.get(listed.id);
    const rendered = cached[i] ?? (incident && cache.render(incident));
    if (rendered !== undefined) out.push({ listed, rendered });
  });
  return out;
}

/**
 * A tier queue for the actor: open incidents, the next target to be missed first, within their
 * scope, rendered through the cache as lists are, with each one's breach instant (null while paused).
 */
export async function renderedTierQueue<T>(
  s: Services,
  actor: Actor,
  filter: IncidentFilter,
  limit: number,
  cache: RenderingCache<T>,
): Promise<Array<{ rendered: T; breachAt: number | null }>> {
  const scoped = await withinScope(s, actor, filter);
  const page = await s.incidents.queueVersions(scoped, limit);
  // A paused clock has no deadline to show, whatever wake-up (a reminder) it may still have.
  return (await renderPage(s, scoped, page, cache)).map(({ listed, rendered }) => ({
    rendered,
    breachAt: listed.status === 'pending' ? null : listed.breachAt,
  }));
}

/** The dashboard's figures over the incidents the actor may see. */
export async function deskOverview(s: Services, actor: Actor, since: number) {
  if (!can(actor, 'dashboard.read')) throw forbidden();
  const { hidden } = incidentScope(actor, await currentConfidentialRules(s));
  return s.incidents.overview(since, hidden);
}
