/**
 * HTTP benches of the incident API on a database pre-filled with BENCH_INCIDENTS incidents
 * (100,000 by default), on SQLite and on PostgreSQL:
 *   create:   POST /api/v1/incidents, random category / impact / urgency, as an L1 agent
 *   queue:    GET /api/v1/incidents?tier=L2&status=open&limit=50 (default sort: priority), same agent
 *   queue-1c: the same request from a single connection: the latency of one request when the
 *             server is not saturated (with 50 connections, p99 is mostly queueing)
 *   queue-churn: the queue again while an L2 agent comments on the incidents of that page at a steady
 *             rate: every comment makes one listed incident change, so lists re-read it (the list
 *             keeps each incident's JSON by version, src/http/incident-json-cache.ts)
 * The server runs in its own process (bench/server-process.ts); autocannon runs in this one.
 */
import { join } from 'node:path';
import { sql } from 'kysely';
import { createPalier } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { addUser } from '../src/services/auth.service.js';
import { openStore } from '../src/store/database.js';
import { freshDatabase, postgresReachable, type BenchDatabase, type EngineName } from './lib/databases.js';
import { hostWindow } from './lib/host.js';
import { runLoad, type LoadOptions, type LoadResult } from './lib/load.js';
import { summarizeProfile } from './lib/profile.js';
import { checkSeed, seedIncidents, type SeedResult } from './lib/seed.js';
import { spawnServer, type RssReport, type ServerProcess } from './lib/server.js';
import type { BenchContext, BenchModule, BenchOutcome, BenchRow, BenchSettings, Cell } from './lib/types.js';

const NAME = 'http-incidents';
const AGENT = { email: 'bench-agent@bench.test', password: 'bench-password-123' };
/** Writes while the queue is read (queue-churn). */
const WRITER = { email: 'bench-l2@bench.test', password: 'bench-password-123' };
const CHURN_RATE = 200;
const QUEUE_PATH = '/api/v1/incidents?tier=L2&status=open&limit=50';
const OPEN = new Set(['new', 'acknowledged', 'in_progress', 'pending']);

type Request = Omit<LoadOptions, 'connections' | 'seconds'>;

/** What the scenarios of one engine run with. */
interface RunEnv {
  server: ServerProcess;
  /** The L1 agent's token: every measured request. */
  token: string;
  /** An L2 agent's token: background writes. */
  writerToken: string;
  categories: string[];
}

interface Background {
  request: Request;
  connections: number;
  rate: number;
}

interface Scenario {
  key: string;
  label: string;
  /** Scenarios run in this order (reads first, on exactly the seeded data); the table keeps the list order. */
  runOrder: number;
  connections: (settings: BenchSettings) => number;
  /** A fixed request rate (open load) instead of as fast as possible. */
  rate?: number;
  target: (engine: EngineName) => { text: string; met: (r: LoadResult) => boolean } | undefined;
  request: (env: RunEnv) => Request;
  /** One request before the load, to show the scenario does what it says. */
  check: (env: RunEnv) => Promise<void>;
  /** A second load that runs alongside (warm-up and measured window), not measured in the row. */
  background?: (env: RunEnv) => Promise<Background>;
}

const randomBody = (categories: string[]) => {
  let n = 0;
  return () =>
    JSON.stringify({
      title: `Bench load incident ${++n}`,
      description: 'Opened by autocannon (bench/http-incidents.ts).',
      category: categories[Math.floor(Math.random() * categories.length)],
      impact: 1 + Math.floor(Math.random() * 3),
      urgency: 1 + Math.floor(Math.random() * 3),
    });
};

const queueRequest = ({ server, token }: RunEnv): Request => ({
  url: server.url,
  method: 'GET',
  path: QUEUE_PATH,
  headers: { authorization: `Bearer ${token}` },
});

async function queuePage({ server, token }: RunEnv) {
  const res = await fetch(server.url + QUEUE_PATH, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { items?: Array<{ id: number; tier: string; status: string; priority: string }> };
  return { res, body, items: body.items ?? [] };
}

async function checkQueue(env: RunEnv) {
  const { res, body, items } = await queuePage(env);
  const sorted = items.every((x, i) => i === 0 || items[i - 1]!.priority <= x.priority);
  if (res.status !== 200 || items.length !== 50 || !items.every((x) => x.tier === 'L2' && OPEN.has(x.status)) || !sorted)
    throw new Error(
      `queue check: expected 50 open L2 incidents by priority, got ${res.status} ${JSON.stringify(body).slice(0, 300)}`,
    );
}

const p99Under20 = () => ({ text: 'p99 < 20 ms', met: (r: LoadResult) => r.p99Ms < 20 });

const SCENARIOS: Scenario[] = [
  {
    key: 'create',
    label: 'POST /api/v1/incidents',
    runOrder: 3,
    connections: (s) => s.connections,
    target: (engine) => (engine === 'sqlite' ? { text: '>= 5,000 req/s', met: (r) => r.requestsPerSec >= 5000 } : undefined),
    request: ({ server, token, categories }) => ({
      url: server.url,
      method: 'POST',
      path: '/api/v1/incidents',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: randomBody(categories),
    }),
    async check({ server, token, categories }) {
      const res = await fetch(`${server.url}/api/v1/incidents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: randomBody(categories)(),
      });
      const body = (await res.json()) as { tier?: string; status?: string };
      if (res.status !== 201 || body.tier !== 'L1' || body.status !== 'new')
        throw new Error(
          `create check: expected 201 with a new L1 incident, got ${res.status} ${JSON.stringify(body).slice(0, 300)}`,
        );
    },
  },
  {
    key: 'queue',
    label: 'GET /api/v1/incidents?tier=L2&status=open&limit=50',
    runOrder: 1,
    connections: (s) => s.connections,
    target: p99Under20,
    request: queueRequest,
    check: checkQueue,
  },
  {
    key: 'queue-rate',
    label: 'same queue, 10 connections at a steady 300 req/s',
    runOrder: 2,
    connections: () => 10,
    rate: 300,
    target: p99Under20,
    request: queueRequest,
    check: checkQueue,
  },
  {
    key: 'queue-1c',
    label: 'same queue, 1 connection (unsaturated)',
    runOrder: 2,
    connections: () => 1,
    target: p99Under20,
    request: queueRequest,
    check: checkQueue,
  },
  {
    key: 'queue-churn',
    label: `same queue, while its incidents get ${CHURN_RATE} comments/s`,
    runOrder: 2,
    connections: (s) => s.connections,
    target: p99Under20,
    request: queueRequest,
    check: checkQueue,
    async background(env) {
      const ids = (await queuePage(env)).items.map((i) => i.id);
      const body = JSON.stringify({ body: 'Still looking (bench/http-incidents.ts queue-churn).' });
      const res = await fetch(`${env.server.url}/api/v1/incidents/${ids[0]}/comments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${env.writerToken}`, 'content-type': 'application/json' },
        body,
      });
      if (res.status !== 201) throw new Error(`queue-churn: the L2 agent cannot comment: ${res.status} ${await res.text()}`);
      return {
        connections: 5,
        rate: CHURN_RATE,
        request: {
          url: env.server.url,
          method: 'POST',
          path: `/api/v1/incidents/${ids[0]}/comments`,
          pathFor: () => `/api/v1/incidents/${ids[Math.floor(Math.random() * ids.length)]}/comments`,
          headers: { authorization: `Bearer ${env.writerToken}`, 'content-type': 'application/json' },
          body: () => body,
        },
      };
    },
  },
];

interface Prepared {
  seed: SeedResult;
  categories: string[];
  seedCheck: Awaited<ReturnType<typeof checkSeed>>;
  analyzed: boolean;
}

/**
 * Migrations, the seed matrix, the bench agent and the bulk seed, in this process (escalation worker
 * off), before any server starts. The server process runs the worker as in production.
 */
async function prepare(ctx: BenchContext, db: BenchDatabase): Promise<Prepared> {
  const { settings } = ctx;
  const palier = await createPalier(loadConfig({ LOG_LEVEL: 'silent', PALIER_WORKER: 'off' }, { database: db.config }));
  try {
    const s = palier.services;
    await addUser(s, { email: AGENT.email, password: AGENT.password, role: 'agent', tiers: ['L1'] });
    await addUser(s, { email: WRITER.email, password: WRITER.password, role: 'agent', tiers: ['L2'] });
    const categories = (await s.matrices.current())!.categories.map((c) => c.key);
    const sqlite = db.engine === 'sqlite';
    const seed = await seedIncidents(s, {
      count: settings.incidents,
      batchSize: sqlite ? 500 : 1000,
      maxRowsPerStatement: sqlite ? 500 : 1000,
      now: Date.now(),
    });
    ctx.log(
      `${db.engine}: seeded ${seed.incidents.toLocaleString('en-US')} incidents, ${seed.events.toLocaleString('en-US')} events in ${(seed.ms / 1000).toFixed(1)} s (${(seed.buildMs / 1000).toFixed(1)} s generating rows)`,
    );
    let analyzed = false;
    if (!sqlite) {
      // Autovacuum would analyze these fresh tables within a minute or so; do it now so the planner
      // sees the same statistics on every run instead of whatever autovacuum got to.
      await sql`analyze`.execute(s.store.db);
      analyzed = true;
    }
    const seedCheck = await checkSeed(s.store.db);
    return { seed, categories, seedCheck, analyzed };
  } finally {
    await palier.close();
  }
}

async function signIn(server: ServerProcess, user: typeof AGENT): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(user),
  });
  const body = (await res.json()) as { token?: string };
  if (res.status !== 200 || !body.token) throw new Error(`sign-in failed: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

/** Counts rows straight through the store: no migrations, so it works whatever the code did meanwhile. */
async function countIncidents(db: BenchDatabase): Promise<number> {
  const store = openStore(db.config);
  try {
    const row = await store.db
      .selectFrom('incidents')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  } finally {
    await store.close();
  }
}

interface Measured {
  connections: number;
  result: LoadResult;
  rss: RssReport;
  loadgenCpuPct: number;
  load1m: number;
  stealPct: number | null;
  idlePct: number | null;
  profile?: ReturnType<typeof summarizeProfile> & { file: string };
  /** The background load of the measured window, if the scenario has one. */
  background?: LoadResult;
}

async function measure(
  ctx: BenchContext,
  engine: EngineName,
  server: ServerProcess,
  scenario: Scenario,
  request: Request,
  background?: Background,
): Promise<Measured> {
  const { settings } = ctx;
  const connections = scenario.connections(settings);
  const opts = { ...request, connections, rate: scenario.rate };
  const tag = `${engine}: ${scenario.key}:`;
  if (settings.warmupSeconds > 0) {
    ctx.log(`${tag} warm-up ${settings.warmupSeconds} s`);
    await Promise.all([
      runLoad({ ...opts, seconds: settings.warmupSeconds }),
      background &&
        runLoad({
          ...background.request,
          connections: background.connections,
          rate: background.rate,
          seconds: settings.warmupSeconds,
        }),
    ]);
  }
  await server.resetRss();
  ctx.log(`${tag} measuring ${settings.seconds} s with ${connections} connection(s)`);
  const host = hostWindow();
  if (settings.cpuProfile) await server.startProfile();
  const loadgenCpu = process.cpuUsage();
  const wall = performance.now();
  const [result, backgroundResult] = await Promise.all([
    runLoad({ ...opts, seconds: settings.seconds }),
    background &&
      runLoad({ ...background.request, connections: background.connections, rate: background.rate, seconds: settings.seconds }),
  ]);
  const rss = await server.rss();
  const lg = process.cpuUsage(loadgenCpu);
  const loadgenCpuPct = (100 * (lg.user + lg.system)) / 1000 / (performance.now() - wall);
  const { load1m, stealPct, idlePct } = host();
  ctx.log(
    `${tag} ${Math.round(result.requestsPerSec)} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms, ` +
      `non-2xx ${result.non2xx}, errors ${result.errors}, RSS peak ${rss.peakMb.toFixed(0)} MB, server CPU ${rss.cpuPct.toFixed(0)}%, ` +
      `event-loop delay p99 ${rss.loopDelayP99Ms.toFixed(0)} ms / max ${rss.loopDelayMaxMs.toFixed(0)} ms, autocannon CPU ${loadgenCpuPct.toFixed(0)}%, load ${load1m.toFixed(1)}, ` +
      `CPU steal ${stealPct?.toFixed(1) ?? '?'}%, idle ${idlePct?.toFixed(0) ?? '?'}%`,
  );
  if (settings.cpuProfile) {
    const file = join(settings.resultsDir, 'profiles', `${NAME}-${engine}-${scenario.key}.cpuprofile`);
    await server.stopProfile(file);
    const summary = summarizeProfile(file);
    ctx.log(`${tag} CPU profile ${file}; self time by owner:`);
    for (const o of summary.byOwner) ctx.log(`    ${o.pct.toFixed(1).padStart(5)}%  ${o.owner}`);
    ctx.log(`${tag} self time by function:`);
    for (const f of summary.byFunction) ctx.log(`    ${f.pct.toFixed(1).padStart(5)}%  ${f.fn}`);
    return {
      connections,
      result,
      rss,
      loadgenCpuPct,
      load1m,
      stealPct,
      idlePct,
      background: backgroundResult,
      profile: { file, ...summary },
    };
  }
  return { connections, result, rss, loadgenCpuPct, load1m, stealPct, idlePct, background: backgroundResult };
}

const order = (label: Cell) => SCENARIOS.findIndex((s) => s.label === label);

function rowOf(engine: EngineName, scenario: Scenario, m: Measured): BenchRow {
  const target = scenario.target(engine);
  return {
    bench: NAME,
    engine,
    scenario: scenario.label,
    conns: m.connections,
    req_per_s: Math.round(m.result.requestsPerSec),
    p50_ms: m.result.p50Ms,
    p99_ms: m.result.p99Ms,
    non_2xx: m.result.non2xx,
    errors: m.result.errors + m.result.timeouts,
    rss_peak_mb: Math.round(m.rss.peakMb),
    srv_cpu_pct: Math.round(m.rss.cpuPct),
    // Server CPU per answered request: 1000 / this is what one dedicated core would allow.
    srv_cpu_ms_per_req: m.result.total > 0 ? Math.round((100 * m.rss.cpuMs) / m.result.total) / 100 : null,
    load_1m: Math.round(m.load1m * 10) / 10,
    steal_pct: m.stealPct === null ? null : Math.round(m.stealPct * 10) / 10,
    target: target?.text ?? null,
    met: target ? target.met(m.result) && m.result.non2xx === 0 : null,
  };
}

async function runEngine(ctx: BenchContext, engine: EngineName, scenarios: Scenario[], outcome: BenchOutcome) {
  const { settings } = ctx;
  if (engine === 'postgres') {
    const problem = await postgresReachable(settings.pgAdminUrl);
    if (problem) {
      const note = `postgres: SKIPPED, ${settings.pgAdminUrl.replace(/\/\/[^@/]*@/, '//…@')} is not reachable (${problem})`;
      ctx.log(note);
      outcome.notes.push(note);
      return;
    }
  }
  const db = await freshDatabase(engine, settings.pgAdminUrl);
  const unregisterDrop = ctx.onCleanup(() => db.drop());
  ctx.log(`${engine}: fresh database ${db.label}`);
  let server: ServerProcess | undefined;
  let unregisterStop: (() => void) | undefined;
  try {
    const prepared = await prepare(ctx, db);
    const details: Record<string, unknown> = {
      database: db.label,
      seed: prepared.seed,
      seedCheck: prepared.seedCheck,
      analyzed: prepared.analyzed,
    };
    outcome.details![engine] = details;
    const { seedCheck } = prepared;
    if (seedCheck.badSeq !== 0 || seedCheck.events !== seedCheck.seqSum || seedCheck.incidents !== settings.incidents)
      throw new Error(`${engine}: seed is inconsistent: ${JSON.stringify(seedCheck)}`);

    const srv = (server = await spawnServer({ env: db.env }));
    unregisterStop = ctx.onCleanup(async () => void (await srv.stop()));
    ctx.log(`${engine}: server pid ${srv.pid} listening on ${srv.url}`);
    const env: RunEnv = {
      server: srv,
      token: await signIn(srv, AGENT),
      writerToken: await signIn(srv, WRITER),
      categories: prepared.categories,
    };
    details.rssAfterStart = await srv.rss();

    const measured = new Map<string, Measured>();
    const measuredDetails: Record<string, Measured> = {};
    details.scenarios = measuredDetails;
    for (const scenario of [...scenarios].sort((a, b) => a.runOrder - b.runOrder)) {
      await scenario.check(env);
      const background = await scenario.background?.(env);
      const m = await measure(ctx, engine, srv, scenario, scenario.request(env), background);
      measured.set(scenario.key, m);
      measuredDetails[scenario.key] = m;
      // Rows in the list order of SCENARIOS, whatever the run order.
      const row = rowOf(engine, scenario, m);
      const after = outcome.rows.findIndex((r) => r.engine === engine && order(r.scenario) > order(row.scenario));
      if (after >= 0) outcome.rows.splice(after, 0, row);
      else outcome.rows.push(row);
      if (m.result.non2xx > 0)
        outcome.notes.push(
          `${engine} ${scenario.key}: ${m.result.non2xx} non-2xx responses ${JSON.stringify(m.result.statusCodes)}: the run is not valid`,
        );
      if (m.result.errors + m.result.timeouts > 0)
        outcome.notes.push(`${engine} ${scenario.key}: ${m.result.errors} connection errors, ${m.result.timeouts} timeouts`);
      if (m.background) {
        const b = m.background;
        outcome.notes.push(
          `${engine} ${scenario.key}: alongside, ${Math.round(b.requestsPerSec)} comments/s (p50 ${b.p50Ms} ms, p99 ${b.p99Ms} ms), ${b.non2xx} non-2xx, ${b.errors + b.timeouts} errors`,
        );
        if (b.non2xx + b.errors + b.timeouts > 0) outcome.failed = true;
      }
    }
    const start = details.rssAfterStart as RssReport;
    const worst = [...measured.values()].reduce((a, m) => Math.max(a, m.result.maxMs), 0);
    outcome.notes.push(
      `${engine}: seed ${(prepared.seed.ms / 1000).toFixed(1)} s for ${prepared.seed.incidents.toLocaleString('en-US')} incidents / ${prepared.seed.events.toLocaleString('en-US')} events` +
        `${prepared.analyzed ? ' (then ANALYZE)' : ''}; server RSS ${start.currentMb.toFixed(0)} MB right after start; slowest single response ${worst.toLocaleString('en-US')} ms`,
    );

    await srv.stop();
    unregisterStop();
    unregisterStop = undefined;
    const create = measured.get('create');
    if (create) {
      const incidents = await countIncidents(db);
      details.incidentsAfter = incidents;
      if (incidents - settings.incidents < create.result.ok2xx)
        outcome.notes.push(
          `${engine}: only ${incidents - settings.incidents} incidents were added for ${create.result.ok2xx} 2xx answers to POST: creation is not doing what it says`,
        );
    }
  } finally {
    if (server) await server.stop();
    unregisterStop?.();
    await db.drop();
    unregisterDrop();
  }
}

export const httpIncidents: BenchModule = {
  name: NAME,
  description: 'POST /api/v1/incidents and a tier queue over HTTP, on a pre-filled database, per engine',
  async run(ctx) {
    const outcome: BenchOutcome = { rows: [], notes: [], details: {} };
    const scenarios = SCENARIOS.filter((s) => ctx.wants(`${NAME}/${s.key}`));
    if (ctx.settings.cpuProfile)
      outcome.notes.push(
        'CPU profiling was on (--cpu-prof / BENCH_CPU_PROF=1): the profiler slows the server, so these figures are not comparable with a normal run.',
      );
    for (const engine of ctx.settings.engines) {
      // One engine failing keeps the rows of the others (and its own rows measured before the failure).
      try {
        await runEngine(ctx, engine, scenarios, outcome);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        ctx.log(`${engine}: FAILED: ${error instanceof Error ? (error.stack ?? message) : message}`);
        outcome.notes.push(`${engine}: FAILED: ${message.split('\n')[0]}`);
        outcome.failed = true;
      }
    }
    return outcome;
  },
};
