import type { Kysely } from 'kysely';
import { project, type IncidentEvent } from '../../domain/incident.js';
import { incidentScope, inScope, type Actor, type ConfidentialRules, type Visible } from '../../domain/policy.js';
import { eventFromRow } from '../../store/incident.repository.js';
import type { Database } from '../../store/schema.js';

export interface FeedSubscriber {
  actor: Actor;
  /** Called with the ids of incidents that changed and that this subscriber may see. */
  send(incidentIds: number[]): void;
  /** Called with the ids of incidents this subscriber could see before the change and no longer can. */
  gone(incidentIds: number[]): void;
}

/**
 * Tells connected browsers which incidents changed. The event table is the source of truth, so a
 * change made by any Palier process sharing the database is seen: one poll per process and
 * interval, whatever the number of subscribers. Ids a little below the cursor are read again, since
 * on PostgreSQL a transaction may commit after one holding a higher id; ids seen are not re-sent.
 */
export class IncidentFeed {
  private readonly subscribers = new Set<FeedSubscriber>();
  private timer: NodeJS.Timeout | undefined;
  private cursor: number | undefined;
  private readonly recent = new Set<number>();
  private polling = false;

  constructor(
    private readonly db: Kysely<Database>,
    /** The current matrix's confidential categories, read once per poll. */
    private readonly rules: () => Promise<ConfidentialRules>,
    private readonly intervalMs = 1000,
    private readonly lookBack = 200,
  ) {}

  async subscribe(subscriber: FeedSubscriber): Promise<() => void> {
    if (this.cursor === undefined) this.cursor = await this.maxId();
    this.subscribers.add(subscriber);
    if (!this.timer) this.timer = setInterval(() => void this.poll(), this.intervalMs);
    return () => {
      this.subscribers.delete(subscriber);
      if (this.subscribers.size === 0) this.stop();
    };
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.cursor = undefined;
    this.recent.clear();
  }

  private async maxId(): Promise<number> {
    const row = await this.db
      .selectFrom('incident_events')
      .select((eb) => eb.fn.max('id').as('max'))
      .executeTakeFirst();
    return Number(row?.max ?? 0);
  }

  /**
   * The incidents as they stood before their first new event, folded from their earlier events; an
   * incident created by the new events has no earlier state and is absent.
   */
  private async statesBefore(firstSeq: ReadonlyMap<number, number>): Promise<Map<number, Visible>> {
    const events = new Map<number, IncidentEvent[]>();
    // In slices, so that a busy second stays within the engines' limits on query parameters.
    const ids = [...firstSeq.keys()];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db
        .selectFrom('incident_events')
        .selectAll()
        .where('incident_id', 'in', ids.slice(i, i + 500))
        .orderBy('incident_id')
        .orderBy('seq')
        .execute();
      for (const row of rows) {
        const event = eventFromRow(row);
        if (event.seq >= firstSeq.get(event.incidentId)!) continue;
        const list = events.get(event.incidentId) ?? [];
        list.push(event);
        events.set(event.incidentId, list);
      }
    }
    const states = new Map<number, Visible>();
    for (const [id, list] of events) {
      const incident = project(list);
      if (incident) states.set(id, incident);
    }
    return states;
  }

  /** Reads new events once and fans them out. */
  async poll(): Promise<void> {
    if (this.polling || this.cursor === undefined) return;
    this.polling = true;
    try {
      const from = Math.max(0, this.cursor - this.lookBack);
      const rows = await this.db
        .selectFrom('incident_events as e')
        .innerJoin('incidents as i', 'i.id', 'e.incident_id')
        .select([
          'e.id as id',
          'e.incident_id as incidentId',
          'e.seq as seq',
          'i.requester_id as requesterId',
          'i.assignee_id as assigneeId',
          'i.category as category',
          'i.tier as tier',
          'i.vendor_id as vendorId',
        ])
        .where('e.id', '>', from)
        .orderBy('e.id')
        .limit(5000)
        .execute();
      // The last subscriber may have left while the rows were read: the feed has stopped.
      if (this.cursor === undefined) return;
      const fresh = rows.filter((r) => !this.recent.has(Number(r.id)));
      for (const r of fresh) this.recent.add(Number(r.id));
      if (rows.length) this.cursor = Math.max(this.cursor, Number(rows.at(-1)!.id));
      for (const id of this.recent) if (id <= this.cursor - this.lookBack) this.recent.delete(id);
      if (fresh.length === 0) return;
      const rules = await this.rules();
      const now = new Map<number, Visible>();
      const firstSeq = new Map<number, number>();
      for (const r of fresh) {
        const id = Number(r.incidentId);
        now.set(id, {
          category: r.category,
          tier: r.tier,
          requesterId: Number(r.requesterId),
          assigneeId: r.assigneeId == null ? null : Number(r.assigneeId),
          vendorId: r.vendorId == null ? null : Number(r.vendorId),
        });
        firstSeq.set(id, Math.min(firstSeq.get(id) ?? Infinity, Number(r.seq)));
      }
      const before = await this.statesBefore(firstSeq);
      // Visibility is judged on the incident as it stands now; a subscriber who saw it before these
      // changes and no longer does is told it is gone (only its id), so an open page can let it go.
      for (const subscriber of this.subscribers) {
        const scope = incidentScope(subscriber.actor, rules);
        const changed: number[] = [];
        const gone: number[] = [];
        for (const [id, incident] of now) {
          if (inScope(scope, incident)) changed.push(id);
          else if (before.has(id) && inScope(scope, before.get(id)!)) gone.push(id);
        }
        if (changed.length) subscriber.send(changed);
        if (gone.length) subscriber.gone(gone);
      }
    } finally {
      this.polling = false;
    }
  }
}
