import type { IncidentEvent } from '../domain/incident.js';
import { eventHash, GENESIS } from '../store/event-chain.js';
import { eventFromRow } from '../store/incident.repository.js';
import type { Store } from '../store/database.js';

export interface BrokenLink {
  incidentId: number;
  /** The first event whose link does not hold (for a lost tail, the first missing seq). */
  seq: number;
  reason: 'hash_mismatch' | 'missing_event' | 'events_missing_at_end';
}

export interface AuditReport {
  incidents: number;
  events: number;
  /** The first broken link in (incident, seq) order, if any. */
  broken: BrokenLink | null;
}

const PAGE = 5000;

/**
 * Recomputes every incident's hash chain from its stored events, in (incident, seq) order, and
 * checks that each incident's projection does not claim events that are gone.
 */
export async function verifyAuditChains(store: Store): Promise<AuditReport> {
  const db = store.db;
  const lastSeq = new Map<number, number>();
  let events = 0;
  let broken: BrokenLink | null = null;
  let current = { incident: 0, seq: 0, hash: GENESIS };
  let after = { incident: 0, seq: 0 };
  scan: for (;;) {
    const rows = await db
      .selectFrom('incident_events')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb('incident_id', '>', after.incident),
          eb.and([eb('incident_id', '=', after.incident), eb('seq', '>', after.seq)]),
        ]),
      )
      .orderBy('incident_id')
      .orderBy('seq')
      .limit(PAGE)
      .execute();
    if (rows.length === 0) break;
    for (const row of rows) {
      const e: IncidentEvent = eventFromRow(row);
      events++;
      if (e.incidentId !== current.incident) current = { incident: e.incidentId, seq: 0, hash: GENESIS };
      if (e.seq !== current.seq + 1) {
        broken = { incidentId: e.incidentId, seq: current.seq + 1, reason: 'missing_event' };
        break scan;
      }
      if (eventHash(e, current.hash) !== row.hash) {
        broken = { incidentId: e.incidentId, seq: e.seq, reason: 'hash_mismatch' };
        break scan;
      }
      current = { incident: e.incidentId, seq: e.seq, hash: row.hash };
      lastSeq.set(e.incidentId, e.seq);
      after = { incident: e.incidentId, seq: e.seq };
    }
  }

  // An incident whose last events were removed still records how many it had.
  let incidents = 0;
  let afterId = 0;
  for (;;) {
    const rows = await db
      .selectFrom('incidents')
      .select(['id', 'seq'])
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(PAGE)
      .execute();
    if (rows.length === 0) break;
    for (const r of rows) {
      const id = Number(r.id);
      incidents++;
      afterId = id;
      const stored = lastSeq.get(id) ?? 0;
      if (!broken && stored < r.seq) broken = { incidentId: id, seq: stored + 1, reason: 'events_missing_at_end' };
      else if (broken && stored < r.seq && id < broken.incidentId)
        broken = { incidentId: id, seq: stored + 1, reason: 'events_missing_at_end' };
    }
  }
  return { incidents, events, broken };
}
