/**
 * Reports over a large history: each report of /api/v1/reports (through its use case, in this
 * process: reports are bound by the database) over BENCH_REPORT_INCIDENTS (1,000,000) incidents,
 * on SQLite and on PostgreSQL.
 *
 * Seeding: a pool of real incident histories is built with the domain's own functions (commands,
 * the escalation policy's missed deadlines, reopenings), with their figures computed by
 * incidentFigures, then repeated week after week with shifted instants (durations stay those of the
 * pool's week) until the count is reached. Rows go in by bulk statements: multi-row INSERTs on
 * SQLite, INSERT ... SELECT FROM json_populate_recordset(one JSON parameter) on PostgreSQL. Only what reports read is loaded
 * (incidents, incident_figures, incident_stint_figures); events are not.
 */
import { sql, type Kysely } from 'kysely';
import { decideDue, pendingThresholds } from '../src/domain/escalation.js';
import { incidentFigures, type IncidentFigures } from '../src/domain/incident-figures.js';
import {
  apply,
  decide,
  decideCreate,
  numberEvents,
  type Incident,
  type IncidentCommand,
  type IncidentEvent,
} from '../src/domain/incident.js';
import type { Matrix } from '../src/domain/matrix.js';
import type { Actor } from '../src/domain/policy.js';
import type { Level } from '../src/domain/priority.js';
import { addUser } from '../src/services/auth.service.js';
import { createServices, type Services } from '../src/services/context.js';
import { currentMatrix, ensureSeedMatrix } from '../src/services/matrix.service.js';
import {
  escalationReport,
  slaReport,
  tierTimeReport,
  timesReport,
  trendReport,
  vendorReport,
  volumeReport,
} from '../src/services/report.service.js';
import { openStore } from '../src/store/database.js';
import { figuresRow, stintRows, vendorRows } from '../src/store/figures.repository.js';
import {
  accumulate,
  applyDeltas,
  INCIDENT_MEASURES,
  ROLLUP_TABLES,
  STINT_MEASURES,
  type Delta,
} from '../src/store/report-rollups.js';
import { toRow } from '../src/store/incident.repository.js';
import type { PeriodFilter } from '../src/store/insight.repository.js';
import { migrateToLatest } from '../src/store/migrate.js';
import type { Database } from '../src/store/schema.js';
import { freshDatabase, postgresReachable } from './lib/databases.js';
import { rng } from './lib/seed.js';
import type { BenchContext, BenchModule, BenchOutcome, BenchRow } from './lib/types.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const WEEK = 7 * 24 * HOUR;
const POOL = 10_000;
/** Monday 2025-01-06 00:00 in Paris: the pool's week. */
const BASE = Date.parse('2025-01-05T23:00:00Z');
const RUNS = 5;

/** Vendors and their support contracts, as hand-overs record them. */
const VENDORS = [
  { id: 1, name: 'Netcore Support', acknowledge: 'PT30M', resolve: 'PT4H' },
  { id: 2, name: 'CloudOps Partner', acknowledge: 'PT1H', resolve: 'PT8H' },
  { id: 3, name: 'Secure Response', acknowledge: 'PT15M', resolve: 'PT2H' },
  { id: 4, name: 'Datacenter Services', acknowledge: 'PT1H', resolve: 'PT1D' },
  { id: 5, name: 'Software Editor', acknowledge: 'PT2H' },
];

interface Pooled {
  incident: Incident;
  figures: IncidentFigures;
}

/** A plausible history: acknowledged or not in time, escalated by hand or on a missed deadline, resolved, reopened, closed. */
export function buildPool(matrix: Matrix, requesterId: number, agentId: number): Pooled[] {
  const random = rng(20250106);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const categories = matrix.categories.map((c) => c.key);
  const out: Pooled[] = [];
  for (let i = 0; i < POOL; i++) {
    const id = i + 1;
    let at = BASE + Math.floor(random() * WEEK);
    const change = decideCreate(
      {
        title: `Report bench ${id}`,
        description: '',
        category: pick(categories),
        impact: (1 + Math.floor(random() * 3)) as Level,
        urgency: (1 + Math.floor(random() * 3)) as Level,
        requesterId,
      },
      matrix,
    );
    const events: IncidentEvent[] = numberEvents({ id, seq: 0 }, [change], at, requesterId);
    let incident = apply(undefined, events[0]!);
    const append = (more: IncidentEvent[]) => {
      for (const e of more) {
        incident = apply(incident, e);
        events.push(e);
      }
    };
    const run = (command: IncidentCommand, after: number) => {
      at += after;
      append(numberEvents(incident, decide(incident, command, agentId, matrix), at, agentId));
    };
    /** Lets the first missed target fall due and applies it, as the worker would. */
    const miss = () => {
      const due = pendingThresholds(incident, events, matrix, at).find((t) => t.type === 'missed');
      if (!due) return false;
      at = Math.max(at, due.at);
      append(decideDue(incident, events, matrix, at));
      return true;
    };
    const tiers = matrix.tiers.length;
    for (let level = 0; level < tiers; level++) {
      const last = level === tiers - 1;
      if (!last && random() < 0.12 && miss()) continue; // nobody acknowledged in time: escalated on the deadline
      run({ type: 'acknowledge' }, Math.floor(random() * 40 * MINUTE));
      run({ type: 'start' }, Math.floor(random() * 10 * MINUTE));
      if (!last && random() < 0.3) {
        run({ type: 'escalate', reason: 'needs the next tier' }, Math.floor(random() * 3 * HOUR));
        continue;
      }
      break;
    }
    // Most incidents at the top tier, and a few below, are handed to a vendor.
    if (random() < (incident.tier === matrix.tiers.at(-1)!.key ? 0.7 : 0.02)) {
      run({ type: 'engage_vendor', vendor: pick(VENDORS), note: 'contract support' }, Math.floor(random() * HOUR));
      if (random() < 0.9) run({ type: 'vendor_acknowledge', ticket: `T-${id}` }, Math.floor(random() * 90 * MINUTE));
      if (random() < 0.85) run({ type: 'vendor_done', note: 'fixed' }, Math.floor(random() * 8 * HOUR));
    }
    const fate = random();
    if (fate < 0.08 && incident.status !== 'pending')
      run({ type: 'pend', reason: 'requester', note: 'waiting' }, Math.floor(random() * HOUR));
    else if (fate > 0.12) {
      run({ type: 'resolve', resolution: 'fixed' }, Math.floor(random() * 20 * HOUR));
      if (random() < 0.05) {
        run({ type: 'reopen', reason: 'again' }, Math.floor(random() * 5 * HOUR));
        run({ type: 'resolve', resolution: 'fixed again' }, Math.floor(random() * 5 * HOUR));
      }
      if (random() < 0.5) run({ type: 'close' }, Math.floor(random() * 24 * HOUR));
    }
    out.push({ incident, figures: incidentFigures(incident, events, matrix, at) });
  }
  return out;
}

const shiftIncident = (i: Incident, id: number, d: number): Incident => ({
  ...i,
  id,
  tierEnteredAt: i.tierEnteredAt + d,
  createdAt: i.createdAt + d,
  updatedAt: i.updatedAt + d,
  acknowledgedAt: i.acknowledgedAt === null ? null : i.acknowledgedAt + d,
  resolvedAt: i.resolvedAt === null ? null : i.resolvedAt + d,
  closedAt: i.closedAt === null ? null : i.closedAt + d,
});
const shiftFigures = (f: IncidentFigures, id: number, d: number): IncidentFigures => ({
  ...f,
  incidentId: id,
  createdAt: f.createdAt + d,
  acknowledgedAt: f.acknowledgedAt === null ? null : f.acknowledgedAt + d,
  resolvedAt: f.resolvedAt === null ? null : f.resolvedAt + d,
  stints: f.stints.map((s) => ({ ...s, enteredAt: s.enteredAt + d })),
  vendors: f.vendors.map((v) => ({ ...v, engagedAt: v.engagedAt + d })),
});

async function bulkInsert(
  db: Kysely<Database>,
  engine: 'sqlite' | 'postgres',
  table: keyof Database,
  rows: Array<Record<string, unknown>>,
): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  if (engine === 'postgres') {
    // One JSON parameter per statement: PostgreSQL parses it far faster than the driver can encode arrays.
    const list = sql.join(columns.map((c) => sql.ref(c)));
    await sql`insert into ${sql.table(table)} (${list}) select ${list} from json_populate_recordset(null::${sql.table(table)}, ${JSON.stringify(rows)})`.execute(
      db,
    );
    return;
  }
  const perStatement = Math.floor(32_000 / columns.length);
  for (let i = 0; i < rows.length; i += perStatement)
    await db
      .insertInto(table)
      .values(rows.slice(i, i + perStatement) as never)
      .execute();
}

const LOADED = ['incidents', 'incident_figures', 'incident_stint_figures', 'vendor_engagement_figures'];

/**
 * Drops the secondary indexes of the loaded tables and returns the statements that rebuild them:
 * building an index once over sorted data is much faster than updating it row by row.
 */
async function dropIndexes(s: Services): Promise<string[]> {
  const db = s.store.db;
  const tables = sql.join(LOADED.map((t) => sql.lit(t)));
  const rows =
    s.store.engine === 'sqlite'
      ? (
          await sql<{
            name: string;
            def: string;
          }>`select name, sql as def from sqlite_master where type = 'index' and sql is not null and tbl_name in (${tables})`.execute(
            db,
          )
        ).rows
      : (
          await sql<{ name: string; def: string }>`select indexname as name, indexdef as def from pg_indexes
            where tablename in (${tables}) and indexname not in (select conname from pg_constraint)`.execute(db)
        ).rows;
  for (const r of rows) await sql`drop index ${sql.ref(r.name)}`.execute(db);
  return rows.map((r) => r.def);
}

export async function seed(s: Services, count: number, pool: Pooled[], log: (m: string) => void): Promise<number> {
  const started = performance.now();
  const db = s.store.db;
  const rebuild = await dropIndexes(s);
  const dailyIncidents = new Map<string, Delta>();
  const dailyStints = new Map<string, Delta>();
  const batch = s.store.engine === 'postgres' ? 20_000 : 10_000;
  for (let start = 0; start < count; start += batch) {
    const size = Math.min(batch, count - start);
    const incidents: Array<Record<string, unknown>> = [];
    const figures: Array<Record<string, unknown>> = [];
    const stints: Array<Record<string, unknown>> = [];
    const vendors: Array<Record<string, unknown>> = [];
    for (let k = 0; k < size; k++) {
      const index = start + k;
      const base = pool[index % POOL]!;
      const id = index + 1;
      const shift = Math.floor(index / POOL) * WEEK;
      incidents.push({ id, ...toRow(shiftIncident(base.incident, id, shift)) });
      const f = shiftFigures(base.figures, id, shift);
      figures.push(figuresRow(f));
      stints.push(...stintRows(f));
      vendors.push(...vendorRows(f));
    }
    await db.transaction().execute(async (trx) => {
      if (s.store.engine === 'postgres') {
        // Seeding only: the rows are consistent by construction, so foreign-key triggers are skipped, and
        // nothing waits for the WAL flush.
        await sql`set local session_replication_role = replica`.execute(trx);
        await sql`set local synchronous_commit = off`.execute(trx);
      }
      await bulkInsert(trx, s.store.engine, 'incidents', incidents);
      await bulkInsert(trx, s.store.engine, 'incident_figures', figures);
      await bulkInsert(trx, s.store.engine, 'incident_stint_figures', stints);
      await bulkInsert(trx, s.store.engine, 'vendor_engagement_figures', vendors);
    });
    // The rollups are sums: added up here and written once at the end.
    accumulate(figures as never, INCIDENT_MEASURES, 1, dailyIncidents);
    accumulate(stints as never, STINT_MEASURES, 1, dailyStints);
    if ((start / batch) % 10 === 9) log(`  ${(start + size).toLocaleString('en-US')} incidents`);
  }
  await applyDeltas(db, ROLLUP_TABLES.incidents, dailyIncidents, 1000);
  await applyDeltas(db, ROLLUP_TABLES.stints, dailyStints, 1000);
  const indexing = performance.now();
  for (const def of rebuild) await sql.raw(def).execute(db);
  log(`  ${rebuild.length} indexes rebuilt in ${((performance.now() - indexing) / 1000).toFixed(1)} s`);
  if (s.store.engine === 'postgres') {
    await sql`select setval(pg_get_serial_sequence('incidents', 'id'), (select max(id) from incidents))`.execute(db);
    // As autovacuum would: statistics, and the visibility map that lets median walks stay in the index.
    await sql`vacuum analyze`.execute(db);
  } else {
    await sql`analyze`.execute(db);
  }
  return performance.now() - started;
}

const REPORTS = {
  volume: volumeReport,
  times: timesReport,
  sla: slaReport,
  escalations: escalationReport,
  'tier-time': tierTimeReport,
  vendors: vendorReport,
  // Per week: per day, the whole history would pass the limit of buckets.
  trend: (...args: Parameters<typeof volumeReport>) => trendReport(...args, 'week'),
};

async function measure(fn: () => Promise<unknown>): Promise<{ median: number; max: number; min: number }> {
  await fn(); // warm-up: plans, caches
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(RUNS / 2)]!, max: times.at(-1)!, min: times[0]! };
}

export const reportsBench: BenchModule = {
  name: 'reports',
  description: 'each report of /api/v1/reports over BENCH_REPORT_INCIDENTS (1,000,000) incidents',
  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const count = Math.round(Number(process.env.BENCH_REPORT_INCIDENTS ?? 1_000_000));
    const rows: BenchRow[] = [];
    const notes: string[] = [];
    const details: Record<string, unknown> = {};
    let failed = false;
    for (const engine of ctx.settings.engines) {
      if (engine === 'postgres') {
        const down = await postgresReachable(ctx.settings.pgAdminUrl);
        if (down) {
          notes.push(`reports: PostgreSQL skipped (${down})`);
          continue;
        }
      }
      const database = await freshDatabase(engine, ctx.settings.pgAdminUrl);
      const store = openStore(database.config);
      const cleanup = ctx.onCleanup(async () => {
        await store.close();
        await database.drop();
      });
      try {
        await migrateToLatest(store);
        const s = createServices(store, { now: () => Date.now() });
        await ensureSeedMatrix(s);
        const requester = await addUser(s, { email: 'report-bench-requester@bench.test', role: 'requester' });
        const agent = await addUser(s, { email: 'report-bench-agent@bench.test', role: 'admin' });
        const t0 = performance.now();
        const pool = buildPool(await currentMatrix(s), requester.id, agent.id);
        ctx.log(
          `reports/${engine}: ${POOL.toLocaleString('en-US')} histories built in ${Math.round(performance.now() - t0)} ms; seeding ${count.toLocaleString('en-US')} incidents`,
        );
        const seedMs = await seed(s, count, pool, ctx.log);
        const stints = Number(
          (
            await store.db
              .selectFrom('incident_stint_figures')
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
        const handOvers = Number(
          (
            await store.db
              .selectFrom('vendor_engagement_figures')
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
        ctx.log(
          `reports/${engine}: seeded in ${(seedMs / 1000).toFixed(1)} s (${stints.toLocaleString('en-US')} stints, ${handOvers.toLocaleString('en-US')} vendor hand-overs)`,
        );
        details[engine] = { incidents: count, stints, handOvers, seedMs };

        const admin: Actor = { id: agent.id, role: 'admin', tiers: [] };
        const weeks = Math.ceil(count / POOL);
        const all: PeriodFilter = { from: BASE, to: BASE + (weeks + 1) * WEEK };
        // A quarter of the history, one category, two priorities: what a manager usually asks for.
        const quarter: PeriodFilter = {
          from: BASE + Math.floor(weeks / 2) * WEEK,
          to: BASE + (Math.floor(weeks / 2) + 13) * WEEK,
          category: ['network-downtime'],
          priority: ['P2', 'P3'],
        };
        for (const [name, report] of Object.entries(REPORTS)) {
          for (const [scenario, filter] of [
            ['all', all],
            ['quarter+filters', quarter],
          ] as const) {
            if (!ctx.wants(`reports/${name}`)) continue;
            const m = await measure(() => report(s, admin, filter));
            rows.push({
              bench: 'reports',
              engine,
              scenario: `${name} (${scenario})`,
              incidents: count,
              median_ms: Math.round(m.median),
              min_ms: Math.round(m.min),
              max_ms: Math.round(m.max),
            });
            ctx.log(`reports/${engine}: ${name} (${scenario}) median ${m.median.toFixed(0)} ms`);
            if (scenario === 'all' && m.median > 1000)
              notes.push(
                `reports/${engine}: ${name} over all ${count.toLocaleString('en-US')} incidents took ${Math.round(m.median)} ms (aim: under 1 s)`,
              );
          }
        }
      } catch (error) {
        failed = true;
        notes.push(`reports/${engine}: FAILED: ${error instanceof Error ? error.message : String(error)}`);
        ctx.log(`reports/${engine} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      } finally {
        cleanup();
        await store.close();
        await database.drop();
      }
    }
    notes.push(
      `reports: median of ${RUNS} runs after one warm-up, in process (use case + query); incidents seeded as ${POOL.toLocaleString('en-US')} real histories repeated week after week; events not loaded (reports read only the figures)`,
    );
    return { rows, notes, details, failed };
  },
};
