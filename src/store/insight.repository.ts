import type { Kysely } from 'kysely';
import type { Incident } from '../domain/incident.js';
import type { Priority } from '../domain/priority.js';
import type { Engine } from './database.js';
import { fromRow } from './incident.repository.js';
import type { Database } from './schema.js';

/** Incidents opened in [from, to), narrowed by category, tier (the current one) and priority. */
export interface PeriodFilter {
  from: number;
  to: number;
  category?: string[] | undefined;
  tier?: string[] | undefined;
  priority?: Priority[] | undefined;
  /** The policy's scope: a requester's own incidents only. */
  requesterId?: number | undefined;
}

/** Reads for exports, reports and simulations: whole periods, page by page. */
export class InsightRepository {
  constructor(
    private readonly db: Kysely<Database>,
    readonly engine: Engine,
  ) {}

  /** One page of the period's incidents in id order, after `afterId` (keyset paging: no OFFSET scans). */
  async incidentsPage(filter: PeriodFilter, afterId: number, limit: number, db: Kysely<Database> = this.db): Promise<Incident[]> {
    let q = db
      .selectFrom('incidents')
      .selectAll()
      .where('created_at', '>=', filter.from)
      .where('created_at', '<', filter.to)
      .where('id', '>', afterId);
    if (filter.category?.length) q = q.where('category', 'in', filter.category);
    if (filter.tier?.length) q = q.where('tier', 'in', filter.tier);
    if (filter.priority?.length) q = q.where('priority', 'in', filter.priority);
    if (filter.requesterId !== undefined) q = q.where('requester_id', '=', filter.requesterId);
    const rows = await q.orderBy('id').limit(limit).execute();
    return rows.map(fromRow);
  }
}
