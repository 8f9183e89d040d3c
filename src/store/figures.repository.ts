import type { Kysely } from 'kysely';
import type { IncidentFigures } from '../domain/incident-figures.js';
import { insertRows } from './insert-rows.js';
import { updateRollups } from './report-rollups.js';
import type { Database } from './schema.js';

const flag = (b: boolean | null) => (b === null ? null : b ? 1 : 0);

export function figuresRow(f: IncidentFigures) {
  return {
    incident_id: f.incidentId,
    category: f.category,
    priority: f.priority,
    tier: f.tier,
    created_at: f.createdAt,
    acknowledged_at: f.acknowledgedAt,
    ack_ms: f.ackMs,
    ack_business_ms: f.ackBusinessMs,
    resolved_at: f.resolvedAt,
    resolve_ms: f.resolveMs,
    resolve_business_ms: f.resolveBusinessMs,
    ever_resolved: f.everResolved ? 1 : 0,
    reopen_count: f.reopenCount,
    reached_top: f.reachedTop ? 1 : 0,
    escalations_hand: f.stints.filter((s) => s.exit === 'hand').length,
    escalations_missed: f.stints.filter((s) => s.exit === 'missed').length,
    seq: f.seq,
  };
}

export function stintRows(f: IncidentFigures) {
  return f.stints.map((s) => ({
    incident_id: f.incidentId,
    n: s.n,
    tier: s.tier,
    category: f.category,
    priority: f.priority,
    created_at: f.createdAt,
    entered_at: s.enteredAt,
    exit: s.exit,
    wall_ms: s.wallMs,
    business_ms: s.businessMs,
    ack_met: flag(s.ackMet),
    resolve_met: flag(s.resolveMet),
  }));
}

export function vendorRows(f: IncidentFigures) {
  return f.vendors.map((v) => ({
    incident_id: f.incidentId,
    n: v.n,
    vendor_id: v.vendorId,
    vendor_name: v.vendorName,
    category: f.category,
    priority: f.priority,
    tier: v.tier,
    incident_tier: f.tier,
    created_at: f.createdAt,
    engaged_at: v.engagedAt,
    first_for_vendor: v.firstForVendor ? 1 : 0,
    reached_top: f.reachedTop ? 1 : 0,
    ack_target: v.ackTarget,
    resolve_target: v.resolveTarget,
    ack_ms: v.ackMs,
    resolve_ms: v.resolveMs,
    ack_met: flag(v.ackMet),
    resolve_met: flag(v.resolveMet),
  }));
}

/**
 * Rewrites the vendor hand-over figures of the incidents that have any. Events are only appended,
 * so an incident never loses a hand-over: those without one have nothing to replace.
 */
export async function saveVendorFigures(db: Kysely<Database>, figures: readonly IncidentFigures[]): Promise<void> {
  const handed = figures.filter((f) => f.vendors.length > 0);
  if (handed.length === 0) return;
  await db
    .deleteFrom('vendor_engagement_figures')
    .where(
      'incident_id',
      'in',
      handed.map((f) => f.incidentId),
    )
    .execute();
  await db.insertInto('vendor_engagement_figures').values(handed.flatMap(vendorRows)).execute();
}

/**
 * Writes incidents' figures, replacing what was there: called in the transaction that appends
 * their events, so reports always agree with the timelines.
 */
export async function saveFigures(
  db: Kysely<Database>,
  figures: readonly IncidentFigures[],
  chunk = 200,
  /** Off only for the migration that predates the vendor figures table. */
  vendors = true,
): Promise<void> {
  for (let i = 0; i < figures.length; i += chunk) {
    const part = figures.slice(i, i + chunk);
    const ids = part.map((f) => f.incidentId);
    const before = {
      incidents: await db.selectFrom('incident_figures').selectAll().where('incident_id', 'in', ids).execute(),
      stints: await db.selectFrom('incident_stint_figures').selectAll().where('incident_id', 'in', ids).execute(),
    };
    const after = { incidents: part.map(figuresRow), stints: part.flatMap(stintRows) };
    await db.deleteFrom('incident_stint_figures').where('incident_id', 'in', ids).execute();
    if (before.incidents.length) await db.deleteFrom('incident_figures').where('incident_id', 'in', ids).execute();
    await insertRows(db, 'incident_figures', after.incidents, (values) => db.insertInto('incident_figures').values(values));
    for (let j = 0; j < after.stints.length; j += chunk)
      await insertRows(db, 'incident_stint_figures', after.stints.slice(j, j + chunk), (values) =>
        db.insertInto('incident_stint_figures').values(values),
      );
    await updateRollups(db, before, after);
    if (vendors) await saveVendorFigures(db, part);
  }
}
