import type { Kysely } from 'kysely';
import type { Engine } from '../database.js';
import { incidentFigures } from '../../domain/incident-figures.js';
import type { MatrixDefinition } from '../../domain/matrix.js';
import { eventFromRow, fromRow } from '../incident.repository.js';
import { saveFigures } from '../figures.repository.js';
import { INCIDENT_MEASURES, ROLLUP_TABLES, STINT_MEASURES } from '../report-rollups.js';
import type { Database } from '../schema.js';

/**
 * Report figures per incident and per stint at a tier, kept up to date by every change of an
 * incident, then filled in for the incidents that already exist.
 */
export async function up(db: Kysely<unknown>, _engine: Engine): Promise<void> {
  await db.schema
    .createTable('incident_figures')
    .addColumn('incident_id', 'bigint', (c) => c.primaryKey().references('incidents.id'))
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('tier', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('acknowledged_at', 'bigint')
    .addColumn('ack_ms', 'bigint')
    .addColumn('ack_business_ms', 'bigint')
    .addColumn('resolved_at', 'bigint')
    .addColumn('resolve_ms', 'bigint')
    .addColumn('resolve_business_ms', 'bigint')
    .addColumn('ever_resolved', 'integer', (c) => c.notNull())
    .addColumn('reopen_count', 'integer', (c) => c.notNull())
    .addColumn('reached_top', 'integer', (c) => c.notNull())
    .addColumn('escalations_hand', 'integer', (c) => c.notNull())
    .addColumn('escalations_missed', 'integer', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('incident_figures_created').on('incident_figures').columns(['created_at']).execute();

  await db.schema
    .createTable('incident_stint_figures')
    .addColumn('incident_id', 'bigint', (c) => c.notNull().references('incidents.id'))
    .addColumn('n', 'integer', (c) => c.notNull())
    .addColumn('tier', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('entered_at', 'bigint', (c) => c.notNull())
    .addColumn('exit', 'text')
    .addColumn('wall_ms', 'bigint')
    .addColumn('business_ms', 'bigint')
    .addColumn('ack_met', 'integer')
    .addColumn('resolve_met', 'integer')
    .addPrimaryKeyConstraint('incident_stint_figures_pk', ['incident_id', 'n'])
    .execute();
  await db.schema.createIndex('incident_stint_figures_created').on('incident_stint_figures').columns(['created_at']).execute();

  // Medians are read by walking an index in value order (ORDER BY x LIMIT 2 OFFSET n/2): covering
  // indexes with the filter columns, so the walk never visits the table.
  for (const column of ['ack_ms', 'ack_business_ms', 'resolve_ms', 'resolve_business_ms'])
    await db.schema
      .createIndex(`incident_figures_${column}`)
      .on('incident_figures')
      .columns([column, 'created_at', 'category', 'priority', 'tier'])
      .execute();

  const rollup = (table: string, measures: string[]) => {
    let t = db.schema
      .createTable(table)
      .addColumn('day', 'integer', (c) => c.notNull())
      .addColumn('category', 'text', (c) => c.notNull())
      .addColumn('priority', 'text', (c) => c.notNull())
      .addColumn('tier', 'text', (c) => c.notNull());
    for (const m of measures) t = t.addColumn(m, 'bigint', (c) => c.notNull().defaultTo(0));
    return t.addPrimaryKeyConstraint(`${table}_pk`, ['day', 'category', 'priority', 'tier']).execute();
  };
  await rollup(ROLLUP_TABLES.incidents, Object.keys(INCIDENT_MEASURES));
  await rollup(ROLLUP_TABLES.stints, Object.keys(STINT_MEASURES));

  await backfill(db as unknown as Kysely<Database>);
}

/** Figures of the incidents stored before this migration, a page at a time. */
export async function backfill(db: Kysely<Database>): Promise<void> {
  const matrices = new Map<number, MatrixDefinition>();
  for (const row of await db.selectFrom('matrix_versions').select(['version', 'definition']).execute())
    matrices.set(row.version, JSON.parse(row.definition) as MatrixDefinition);
  const now = Date.now();
  for (let after = 0; ;) {
    const rows = await db.selectFrom('incidents').selectAll().where('id', '>', after).orderBy('id').limit(500).execute();
    if (rows.length === 0) return;
    const incidents = rows.map(fromRow);
    const events = await db
      .selectFrom('incident_events')
      .selectAll()
      .where(
        'incident_id',
        'in',
        incidents.map((i) => i.id),
      )
      .orderBy('incident_id')
      .orderBy('seq')
      .execute();
    const byIncident = new Map<number, ReturnType<typeof eventFromRow>[]>();
    for (const e of events.map(eventFromRow)) byIncident.set(e.incidentId, [...(byIncident.get(e.incidentId) ?? []), e]);
    await saveFigures(
      db,
      incidents.map((i) => incidentFigures(i, byIncident.get(i.id) ?? [], matrices.get(i.matrixVersion)!, now)),
      200,
      false, // vendor figures come with migration 0010
    );
    after = incidents.at(-1)!.id;
  }
}
