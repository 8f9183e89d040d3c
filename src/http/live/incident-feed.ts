import type { Kysely } from 'kysely';
import { incidentScope, inScope, type Actor, type ConfidentialRules } from '../../domain/policy.js';
import type { Database } from '../../store/schema.js';

export interface FeedSubscriber {
  actor: Actor;
  /** Called with the ids of incidents that changed and that this subscriber may see. */
  send(incidentIds: number[]): void;
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
      // Visibility is judged on the incident as it stands now: one moved out of sight is no longer announced.
      const incidents = fresh.map((r) => ({
        id: Number(r.incidentId),
        category: r.category,
        tier: r.tier,
        requesterId: Number(r.requesterId),
        assigneeId: r.assigneeId == null ? null : Number(r.assigneeId),
        vendorId: r.vendorId == null ? null : Number(r.vendorId),
      }));
      for (const subscriber of this.subscribers) {
        const scope = incidentScope(subscriber.actor, rules);
        const ids = new Set<number>();
        for (const i of incidents) if (inScope(scope, i)) ids.add(i.id);
        if (ids.size) subscriber.send([...ids]);
      }
    } finally {
      this.polling = false;
    }
  }
}
