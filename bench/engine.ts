/**
 * The escalation engine under load: how fast `palier worker` processes apply a backlog of
 * simultaneously due escalations, and how late deadlines are applied under a steady stream.
 * Workers run as real child processes (`palier worker`), as in production.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql, type Insertable, type Kysely } from 'kysely';
import { wakeUpOf } from '../src/domain/escalation.js';
import { apply, decideCreate, type IncidentEvent } from '../src/domain/incident.js';
import type { Matrix } from '../src/domain/matrix.js';
import { SEED_MATRIX } from '../src/domain/seed-matrix.js';
import { addUser } from '../src/services/auth.service.js';
import { createServices } from '../src/services/context.js';
import { ensureSeedMatrix, saveMatrix } from '../src/services/matrix.service.js';
import { openStore, type Store } from '../src/store/database.js';
import { eventToRow, toRow } from '../src/store/incident.repository.js';
import { GENESIS } from '../src/store/event-chain.js';
import { migrateToLatest } from '../src/store/migrate.js';
import type { Database, EscalationScheduleTable, IncidentEventsTable, IncidentsTable } from '../src/store/schema.js';
import { freshDatabase, postgresReachable, type BenchDatabase } from './lib/databases.js';
import type { BenchContext, BenchModule, BenchOutcome, BenchRow } from './lib/types.js';

// The built command, as `npm start` runs it (npm run bench builds first).
const CLI = fileURLToPath(new URL('../bin/palier.js', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ACKNOWLEDGE_MS = 1000;

interface Prepared {
  store: Store;
  matrix: Matrix;
  requesterId: number;
}

/** A database whose P5 incidents must be acknowledged at L1 within 1 s (24x7) and then sit at L2. */
async function prepare(db: BenchDatabase): Promise<Prepared> {
  const store = openStore(db.config);
  await migrateToLatest(store);
  const services = createServices(store, { now: () => Date.now() });
  await ensureSeedMatrix(services);
  const definition = structuredClone(SEED_MATRIX);
  for (const t of definition.sla) {
    if (t.priority !== 'P5') continue;
    if (t.tier === 'L1') Object.assign(t, { acknowledge: 'PT1S', resolve: 'PT1H', calendar: '24x7' });
    if (t.tier === 'L2') Object.assign(t, { acknowledge: 'PT10H', resolve: 'PT10H', calendar: '24x7' });
  }
  const matrix = await saveMatrix(services, null, definition, { comment: 'engine bench' });
  const user = await addUser(services, { email: 'bench-requester@example.test', role: 'requester' });
  return { store, matrix, requesterId: user.id };
}

/**
 * Bulk-loads P5 incidents created at the given instants, each with its creation event and its
 * wake-up, as createIncident would write them, in multi-row statements.
 */
async function seed(p: Prepared, createdAt: (i: number) => number, count: number): Promise<void> {
  const db: Kysely<Database> = p.store.db;
  const first = Number((await db.selectFrom('incidents').select((eb) => eb.fn.max('id').as('m')).executeTakeFirst())?.m ?? 0) + 1;
  const perStatement = p.store.engine === 'sqlite' ? 300 : 1000;
  for (let start = 0; start < count; start += 5000) {
    const size = Math.min(5000, count - start);
    const incidents: Array<Insertable<IncidentsTable>> = [];
    const events: Array<Insertable<IncidentEventsTable>> = [];
    const wakeUps: Array<Insertable<EscalationScheduleTable>> = [];
    for (let k = 0; k < size; k++) {
      const id = first + start + k;
      const at = createdAt(start + k);
      const change = decideCreate(
        { title: `Bench incident ${id}`, description: '', category: 'software-installation-failure', impact: 3, urgency: 3, requesterId: p.requesterId },
        p.matrix,
      );
      const event: IncidentEvent = { ...change, incidentId: id, seq: 1, at, actorId: p.requesterId };
      const incident = apply(undefined, event);
      incidents.push({ id, ...toRow(incident) });
      events.push(eventToRow(event, GENESIS));
      const w = wakeUpOf(incident, [event], p.matrix, at)!;
      wakeUps.push({ incident_id: id, due_at: w.dueAt, order_at: w.orderAt });
    }
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < size; i += perStatement) {
        await trx.insertInto('incidents').values(incidents.slice(i, i + perStatement)).execute();
        await trx.insertInto('incident_events').values(events.slice(i, i + perStatement)).execute();
        await trx.insertInto('escalation_schedule').values(wakeUps.slice(i, i + perStatement)).execute();
      }
    });
  }
  if (p.store.engine === 'postgres') {
    await sql`select setval(pg_get_serial_sequence('incidents', 'id'), (select max(id) from incidents))`.execute(db);
    await sql`analyze`.execute(db);
  }
}

function startWorkers(n: number, db: BenchDatabase): ChildProcess[] {
  return Array.from({ length: n }, (_, i) =>
    spawn(process.execPath, [CLI, 'worker', '--name', `bench-w${i + 1}`], {
      cwd: ROOT,
      env: { ...process.env, ...db.env, LOG_LEVEL: 'warn', PALIER_WORKER_POLL_MS: '100' },
      stdio: 'ignore',
    }),
  );
}

async function stopWorkers(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
        }),
    ),
  );
}

async function escalatedCount(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('incident_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('kind', '=', 'escalated')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function waitUntilEscalated(db: Kysely<Database>, target: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while ((await escalatedCount(db)) < target) {
    if (Date.now() > end) throw new Error(`only ${await escalatedCount(db)} of ${target} escalated after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Escalation events with their due instant and the worker that applied them. */
async function escalations(db: Kysely<Database>) {
  const rows = await db.selectFrom('incident_events').select(['at', 'data']).where('kind', '=', 'escalated').execute();
  return rows.map((r) => {
    const data = JSON.parse(r.data) as { missed: { dueAt: number; worker: string } };
    return { at: Number(r.at), dueAt: data.missed.dueAt, worker: data.missed.worker };
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/** A backlog of `count` incidents all due now, applied by `workers` processes. */
async function backlog(ctx: BenchContext, engine: 'sqlite' | 'postgres', count: number, workers: number): Promise<BenchRow> {
  const db = await freshDatabase(engine, ctx.settings.pgAdminUrl);
  const undo = ctx.onCleanup(() => db.drop());
  const p = await prepare(db);
  let children: ChildProcess[] = [];
  try {
    const t0 = Date.now() - 60_000;
    const seedStart = performance.now();
    await seed(p, () => t0, count);
    ctx.log(`engine/${engine}: ${count} due incidents loaded in ${Math.round(performance.now() - seedStart)} ms; ${workers} worker(s)`);
    children = startWorkers(workers, db);
    await waitUntilEscalated(p.store.db, count, 600_000);
    const done = await escalations(p.store.db);
    const first = Math.min(...done.map((e) => e.at));
    const last = Math.max(...done.map((e) => e.at));
    const seconds = Math.max(0.001, (last - first) / 1000);
    const perWorker = new Map<string, number>();
    for (const e of done) perWorker.set(e.worker, (perWorker.get(e.worker) ?? 0) + 1);
    return {
      bench: 'engine',
      engine,
      scenario: `${count.toLocaleString('en-US')} due at once, ${workers} worker process${workers > 1 ? 'es' : ''}`,
      escalations: done.length,
      escalations_per_s: Math.round(done.length / seconds),
      apply_s: Number(seconds.toFixed(1)),
      per_worker: [...perWorker.values()].sort((a, b) => b - a).join('/'),
      target: engine === 'sqlite' ? '>= 5,000/s' : null,
      met: engine === 'sqlite' ? done.length / seconds >= 5000 : null,
    };
  } finally {
    await stopWorkers(children);
    await p.store.close();
    await db.drop();
    undo();
  }
}

/** Deadlines falling due at a steady `rate` per second for `seconds`; how late each is applied. */
async function steady(ctx: BenchContext, engine: 'sqlite' | 'postgres', rate: number, seconds: number): Promise<BenchRow> {
  const db = await freshDatabase(engine, ctx.settings.pgAdminUrl);
  const undo = ctx.onCleanup(() => db.drop());
  const p = await prepare(db);
  let children: ChildProcess[] = [];
  try {
    const count = rate * seconds;
    // Deadlines start a few seconds from now, once the worker is up, and then fall due evenly.
    const start = Date.now() + 8000;
    await seed(p, (i) => start + Math.floor((i * 1000) / rate) - ACKNOWLEDGE_MS, count);
    children = startWorkers(1, db);
    await waitUntilEscalated(p.store.db, count, (seconds + 120) * 1000);
    const lags = (await escalations(p.store.db)).map((e) => e.at - e.dueAt).sort((a, b) => a - b);
    return {
      bench: 'engine',
      engine,
      scenario: `steady ${rate} deadlines/s for ${seconds} s, 1 worker (poll 100 ms)`,
      escalations: lags.length,
      lag_p50_ms: percentile(lags, 50),
      lag_p99_ms: percentile(lags, 99),
      lag_max_ms: lags.at(-1) ?? 0,
      target: 'lag p99 < 1 s',
      met: percentile(lags, 99) < 1000,
    };
  } finally {
    await stopWorkers(children);
    await p.store.close();
    await db.drop();
    undo();
  }
}

export const engineBench: BenchModule = {
  name: 'engine',
  description: 'escalation worker: a backlog of due escalations, and lag under a steady stream',
  async run(ctx): Promise<BenchOutcome> {
    const count = Number(process.env.BENCH_ENGINE_INCIDENTS ?? 100_000);
    const rows: BenchRow[] = [];
    const notes: string[] = [];
    for (const engine of ctx.settings.engines) {
      if (engine === 'postgres') {
        const down = await postgresReachable(ctx.settings.pgAdminUrl);
        if (down) {
          notes.push(`engine: PostgreSQL skipped (${down})`);
          continue;
        }
      }
      if (ctx.wants('engine/backlog')) rows.push(await backlog(ctx, engine, count, 1));
      if (engine === 'postgres' && ctx.wants('engine/backlog-3')) rows.push(await backlog(ctx, engine, count, 3));
      if (ctx.wants('engine/steady')) rows.push(await steady(ctx, engine, 200, Math.max(10, ctx.settings.seconds)));
    }
    notes.push('engine: escalations/s is counted from the first to the last escalation event (worker start-up excluded).');
    return { rows, notes };
  },
};
