/**
 * Daily rollups of the report figures: per UTC day of creation, category, priority and tier, the
 * sums that reports add up. They are kept exact by deltas: when an incident's figures are rewritten,
 * its old contribution is taken away and the new one added, in the same transaction. A report over
 * a period reads the whole days from the rollups and the partial days at its edges from the figures
 * themselves, so any period is exact.
 *
 * Each measure is defined twice, once in SQL (for the edges) and once in TypeScript (for the deltas),
 * side by side so that they stay the same.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { insertRows } from './insert-rows.js';
import type { Database, IncidentFiguresTable, IncidentStintFiguresTable } from './schema.js';

export const DAY_MS = 86_400_000;

type FiguresRow = Omit<IncidentFiguresTable, never>;
type StintRow = Omit<IncidentStintFiguresTable, never>;

interface Measure<R> {
  sql: RawBuilder<number>;
  of: (r: R) => number;
}

const flag = (b: boolean) => (b ? 1 : 0);
const num = (v: unknown) => (v == null ? 0 : Number(v));

export const INCIDENT_MEASURES = {
  opened: { sql: sql`1`, of: () => 1 },
  acknowledged: { sql: sql`case when ack_ms is not null then 1 else 0 end`, of: (r) => flag(r.ack_ms != null) },
  resolved: { sql: sql`case when resolve_ms is not null then 1 else 0 end`, of: (r) => flag(r.resolve_ms != null) },
  ever_resolved: { sql: sql`ever_resolved`, of: (r) => num(r.ever_resolved) },
  reopened: { sql: sql`case when reopen_count > 0 then 1 else 0 end`, of: (r) => flag(num(r.reopen_count) > 0) },
  reached_top: { sql: sql`reached_top`, of: (r) => num(r.reached_top) },
  ack_ms: { sql: sql`coalesce(ack_ms, 0)`, of: (r) => num(r.ack_ms) },
  ack_business_ms: { sql: sql`coalesce(ack_business_ms, 0)`, of: (r) => num(r.ack_business_ms) },
  resolve_ms: { sql: sql`coalesce(resolve_ms, 0)`, of: (r) => num(r.resolve_ms) },
  resolve_business_ms: { sql: sql`coalesce(resolve_business_ms, 0)`, of: (r) => num(r.resolve_business_ms) },
} satisfies Record<string, Measure<FiguresRow>>;

export const STINT_MEASURES = {
  stints: { sql: sql`1`, of: () => 1 },
  ack_met: { sql: sql`case when ack_met = 1 then 1 else 0 end`, of: (r) => flag(r.ack_met === 1) },
  ack_missed: { sql: sql`case when ack_met = 0 then 1 else 0 end`, of: (r) => flag(r.ack_met === 0) },
  resolve_met: { sql: sql`case when resolve_met = 1 then 1 else 0 end`, of: (r) => flag(r.resolve_met === 1) },
  resolve_missed: { sql: sql`case when resolve_met = 0 then 1 else 0 end`, of: (r) => flag(r.resolve_met === 0) },
  exit_hand: { sql: sql`case when exit = 'hand' then 1 else 0 end`, of: (r) => flag(r.exit === 'hand') },
  exit_missed: { sql: sql`case when exit = 'missed' then 1 else 0 end`, of: (r) => flag(r.exit === 'missed') },
  exit_other: { sql: sql`case when exit = 'other' then 1 else 0 end`, of: (r) => flag(r.exit === 'other') },
  exit_handed_back: { sql: sql`case when exit = 'handed_back' then 1 else 0 end`, of: (r) => flag(r.exit === 'handed_back') },
  completed: { sql: sql`case when wall_ms is not null then 1 else 0 end`, of: (r) => flag(r.wall_ms != null) },
  wall_ms: { sql: sql`coalesce(wall_ms, 0)`, of: (r) => num(r.wall_ms) },
  business_ms: { sql: sql`coalesce(business_ms, 0)`, of: (r) => num(r.business_ms) },
} satisfies Record<string, Measure<StintRow>>;

export type IncidentMeasure = keyof typeof INCIDENT_MEASURES;
export type StintMeasure = keyof typeof STINT_MEASURES;

export const ROLLUP_TABLES = { incidents: 'report_incidents_daily', stints: 'report_stints_daily' } as const;

export type Delta = { day: number; category: string; priority: string; tier: string; values: Record<string, number> };

/** Adds `sign` times each row's contribution to the deltas, by rollup key. */
export function accumulate<R extends { created_at: unknown; category: string; priority: string; tier: string }>(
  rows: readonly R[],
  measures: Record<string, Measure<R>>,
  sign: 1 | -1,
  into: Map<string, Delta>,
) {
  for (const r of rows) {
    const day = Math.floor(Number(r.created_at) / DAY_MS);
    const key = `${day}\u0000${r.category}\u0000${r.priority}\u0000${r.tier}`;
    let d = into.get(key);
    if (!d) into.set(key, (d = { day, category: r.category, priority: r.priority, tier: r.tier, values: {} }));
    for (const [name, m] of Object.entries(measures)) d.values[name] = (d.values[name] ?? 0) + sign * m.of(r);
  }
}

export async function applyDeltas(db: Kysely<Database>, table: string, deltas: Map<string, Delta>, chunk = 200): Promise<void> {
  // Sorted keys: concurrent transactions on PostgreSQL lock rollup rows in one order, so never deadlock.
  const rows = [...deltas.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, d]) => d)
    .filter((d) => Object.values(d.values).some((v) => v !== 0))
    .map((d) => ({ day: d.day, category: d.category, priority: d.priority, tier: d.tier, ...d.values }));
  if (rows.length === 0) return;
  const measures = Object.keys(rows[0]!).filter((c) => !['day', 'category', 'priority', 'tier'].includes(c));
  for (let i = 0; i < rows.length; i += chunk) {
    await insertRows(db, `${table} add`, rows.slice(i, i + chunk), (values) =>
      (db as unknown as Kysely<Record<string, Record<string, unknown>>>)
        .insertInto(table)
        .values(values)
        .onConflict((oc) =>
          oc
            .columns(['day', 'category', 'priority', 'tier'])
            .doUpdateSet(
              Object.fromEntries(measures.map((m) => [m, sql`${sql.ref(`${table}.${m}`)} + ${sql.ref(`excluded.${m}`)}`])),
            ),
        ),
    );
  }
}

/** Moves the rollups from the old figures of some incidents to their new ones. */
export async function updateRollups(
  db: Kysely<Database>,
  before: { incidents: readonly FiguresRow[]; stints: readonly StintRow[] },
  after: { incidents: readonly FiguresRow[]; stints: readonly StintRow[] },
): Promise<void> {
  const incidents = new Map<string, Delta>();
  accumulate(before.incidents, INCIDENT_MEASURES, -1, incidents);
  accumulate(after.incidents, INCIDENT_MEASURES, 1, incidents);
  const stints = new Map<string, Delta>();
  accumulate(before.stints, STINT_MEASURES, -1, stints);
  accumulate(after.stints, STINT_MEASURES, 1, stints);
  await applyDeltas(db, ROLLUP_TABLES.incidents, incidents);
  await applyDeltas(db, ROLLUP_TABLES.stints, stints);
}
