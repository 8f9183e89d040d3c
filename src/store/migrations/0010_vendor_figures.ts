import type { Kysely } from 'kysely';
import { incidentFigures } from '../../domain/incident-figures.js';
import type { MatrixDefinition } from '../../domain/matrix.js';
import type { Engine } from '../database.js';
import { saveVendorFigures } from '../figures.repository.js';
import { eventFromRow, fromRow } from '../incident.repository.js';
import type { Database } from '../schema.js';

/**
 * Report figures per hand-over to a vendor (the vendor scorecard), kept with the other figures by
 * every change of an incident, then filled in for the hand-overs already stored.
 */
export async function up(db: Kysely<unknown>, _engine: Engine): Promise<void> {
  await db.schema
    .createTable('vendor_engagement_figures')
    .addColumn('incident_id', 'bigint', (c) => c.notNull().references('incidents.id'))
    .addColumn('n', 'integer', (c) => c.notNull())
    .addColumn('vendor_id', 'bigint', (c) => c.notNull())
    .addColumn('vendor_name', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('tier', 'text', (c) => c.notNull())
    .addColumn('incident_tier', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('engaged_at', 'bigint', (c) => c.notNull())
    .addColumn('first_for_vendor', 'integer', (c) => c.notNull())
    .addColumn('reached_top', 'integer', (c) => c.notNull())
    .addColumn('ack_target', 'text')
    .addColumn('resolve_target', 'text')
    .addColumn('ack_ms', 'bigint')
    .addColumn('resolve_ms', 'bigint')
    .addColumn('ack_met', 'integer')
    .addColumn('resolve_met', 'integer')
    .addPrimaryKeyConstraint('vendor_engagement_figures_pk', ['incident_id', 'n'])
    .execute();
  await db.schema
    .createIndex('vendor_engagement_figures_created')
    .on('vendor_engagement_figures')
    .columns(['created_at'])
    .execute();
  // The vendor's latest name and contract: the most recent hand-over.
  await db.schema
    .createIndex('vendor_engagement_figures_latest')
    .on('vendor_engagement_figures')
    .columns(['vendor_id', 'engaged_at'])
    .execute();
  await backfillVendors(db as unknown as Kysely<Database>);
}

/** Vendor figures of the incidents handed over before this migration, a page at a time. */
export async function backfillVendors(db: Kysely<Database>, now = Date.now()): Promise<void> {
  const matrices = new Map<number, MatrixDefinition>();
  for (const row of await db.selectFrom('matrix_versions').select(['version', 'definition']).execute())
    matrices.set(row.version, JSON.parse(row.definition) as MatrixDefinition);
  for (let after = 0; ;) {
    const ids = (
      await db
        .selectFrom('incident_events')
        .select('incident_id')
        .distinct()
        .where('kind', '=', 'vendor_engaged')
        .where('incident_id', '>', after)
        .orderBy('incident_id')
        .limit(500)
        .execute()
    ).map((r) => Number(r.incident_id));
    if (ids.length === 0) return;
    const incidents = (await db.selectFrom('incidents').selectAll().where('id', 'in', ids).execute()).map(fromRow);
    const events = (
      await db
        .selectFrom('incident_events')
        .selectAll()
        .where('incident_id', 'in', ids)
        .orderBy('incident_id')
        .orderBy('seq')
        .execute()
    ).map(eventFromRow);
    const byIncident = new Map<number, typeof events>();
    for (const e of events) byIncident.set(e.incidentId, [...(byIncident.get(e.incidentId) ?? []), e]);
    await saveVendorFigures(
      db,
      incidents.map((i) => incidentFigures(i, byIncident.get(i.id) ?? [], matrices.get(i.matrixVersion)!, now)),
    );
    after = ids.at(-1)!;
  }
}
