/**
 * Soak: the built server in its own process on a seeded database, under a steady mixed load for a
 * bounded time (PALIER_SOAK_SECONDS, 180 by default, after PALIER_SOAK_WARMUP_SECONDS of warm-up, 30),
 * at PALIER_SOAK_RATE requests per second (60): incident creations, tier queues, incident details,
 * manual escalations of incidents opened during the run, new and repeated Alertmanager alerts.
 * Aims: server RSS growth under 10 % after warm-up, zero 5xx, event-loop delay p99 under 100 ms.
 *
 * RSS is read by this process from /proc/<pid>/status (VmRSS) every second; the growth compares
 * the mean of the samples in the first and the last tenth of the measured window (a single sample
 * lands anywhere in a garbage-collection cycle). Event-loop delay is measured inside the server
 * process (perf_hooks monitorEventLoopDelay, reset at the end of warm-up).
 *
 *   PALIER_SOAK_SECONDS=20 PALIER_SOAK_WARMUP_SECONDS=5 npm run bench -- --only soak    quick check
 */
import { readFileSync } from 'node:fs';
import { createPalier } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createIntegration } from '../src/intake/integrations.js';
import { addUser, createApiToken } from '../src/services/auth.service.js';
import { openStore } from '../src/store/database.js';
import { freshDatabase, postgresReachable, type BenchDatabase, type EngineName } from './lib/databases.js';
import { hostWindow } from './lib/host.js';
import { seedIncidents } from './lib/seed.js';
import { spawnServer, type ServerProcess } from './lib/server.js';
import type { BenchContext, BenchModule, BenchOutcome } from './lib/types.js';

const NAME = 'soak';
const ALERT = JSON.parse(readFileSync(new URL('../test/fixtures/alertmanager-v4-firing.json', import.meta.url), 'utf8')) as {
  alerts: Array<Record<string, unknown> & { labels: Record<string, string> }>;
};
const AIMS = { rssGrowthPct: 10, loopP99Ms: 100 };

function envNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min}, got "${raw}"`);
  return n;
}

interface SoakSettings {
  seconds: number;
  warmupSeconds: number;
  rate: number;
  incidents: number;
  engines: EngineName[];
}

function soakSettings(ctx: BenchContext): SoakSettings {
  const engines = (process.env.PALIER_SOAK_ENGINES ?? ctx.settings.engines.join(','))
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const e of engines) if (e !== 'sqlite' && e !== 'postgres') throw new Error(`PALIER_SOAK_ENGINES: unknown engine "${e}"`);
  return {
    seconds: envNumber('PALIER_SOAK_SECONDS', 180, 5),
    warmupSeconds: envNumber('PALIER_SOAK_WARMUP_SECONDS', 30, 0),
    rate: envNumber('PALIER_SOAK_RATE', 60, 1),
    incidents: Math.round(envNumber('PALIER_SOAK_INCIDENTS', 20_000, 0)),
    engines: engines as EngineName[],
  };
}

interface Tokens {
  agent: string;
  manager: string;
  alertmanager: string;
}

/** Migrations, seed matrix, the seeded incidents, users with API tokens and an Alertmanager integration, in this process. */
async function prepare(ctx: BenchContext, db: BenchDatabase, incidents: number): Promise<Tokens> {
  const palier = await createPalier(loadConfig({ LOG_LEVEL: 'silent', PALIER_WORKER: 'off' }, { database: db.config }));
  try {
    const s = palier.services;
    const sqlite = db.engine === 'sqlite';
    const seed = await seedIncidents(s, {
      count: incidents,
      batchSize: sqlite ? 500 : 1000,
      maxRowsPerStatement: sqlite ? 500 : 1000,
      now: Date.now(),
    });
    ctx.log(`${db.engine}: seeded ${seed.incidents.toLocaleString('en-US')} incidents in ${(seed.ms / 1000).toFixed(1)} s`);
    const agent = await addUser(s, { email: 'soak-agent@bench.test', role: 'agent', tiers: ['L1', 'L2'] });
    const manager = await addUser(s, { email: 'soak-manager@bench.test', role: 'manager' });
    const admin = await addUser(s, { email: 'soak-admin@bench.test', role: 'admin' });
    const am = await createIntegration(
      s,
      { id: admin.id, role: 'admin', tiers: [] },
      { kind: 'alertmanager', name: 'soak', category: 'network-downtime' },
    );
    return {
      agent: (await createApiToken(s, { id: agent.id, role: 'agent', tiers: agent.tiers }, 'soak', null)).token,
      manager: (await createApiToken(s, { id: manager.id, role: 'manager', tiers: [] }, 'soak', null)).token,
      alertmanager: am.key,
    };
  } finally {
    await palier.close();
  }
}

/** VmRSS of a process, in MB, from /proc (Linux); undefined once it has gone. */
function procRssMb(pid: number): number | undefined {
  try {
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

interface Tally {
  requests: number;
  ok: number;
  statuses: Record<string, number>;
  byKind: Record<string, number>;
  errors: number;
  latencies: number[];
  created: number;
}

const newTally = (): Tally => ({ requests: 0, ok: 0, statuses: {}, byKind: {}, errors: 0, latencies: [], created: 0 });

/**
 * The steady mixed load: `rate` requests a second spread over lanes, each request picked by weight.
 * Runs until `until`, counting into whichever tally `into()` returns at the time of the answer.
 */
async function drive(server: ServerProcess, tokens: Tokens, rate: number, until: number, into: () => Tally): Promise<void> {
  const recent: number[] = []; // incidents opened by this load, still at their first tier
  const fingerprints: string[] = [];
  let n = 0;
  const json = (token: string, body: unknown): RequestInit => ({
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const alert = (fingerprint: string) => ({
    ...ALERT,
    alerts: [
      {
        ...ALERT.alerts[0]!,
        fingerprint,
        labels: { ...ALERT.alerts[0]!.labels, instance: `https://host-${fingerprint}.example.org` },
      },
    ],
  });
  const pick = (): { kind: string; path: string; init: RequestInit } => {
    const i = ++n;
    const r = Math.random();
    if (r < 0.35 || recent.length === 0)
      return {
        kind: 'create',
        path: '/api/v1/incidents',
        init: json(tokens.agent, {
          title: `VPN drops every few minutes (soak ${i})`,
          description: 'Reported from the branch office; the tunnel renegotiates and sessions are lost.',
          category: 'network-downtime',
          impact: 1 + (i % 3),
          urgency: 1 + ((i >> 2) % 3),
        }),
      };
    if (r < 0.55)
      return {
        kind: 'queue',
        path: '/api/v1/incidents?tier=L1&status=open&limit=50',
        init: { headers: { authorization: `Bearer ${tokens.agent}` } },
      };
    if (r < 0.7)
      return {
        kind: 'detail',
        path: `/api/v1/incidents/${recent[Math.floor(Math.random() * recent.length)]}`,
        init: { headers: { authorization: `Bearer ${tokens.agent}` } },
      };
    if (r < 0.8) {
      const id = recent.splice(Math.floor(Math.random() * recent.length), 1)[0]!;
      return {
        kind: 'escalate',
        path: `/api/v1/incidents/${id}/escalate`,
        init: json(tokens.manager, { reason: 'Needs network engineering' }),
      };
    }
    const repeat = fingerprints.length > 0 && r < 0.85;
    const fingerprint = repeat
      ? fingerprints[Math.floor(Math.random() * fingerprints.length)]!
      : `soak${i.toString(16).padStart(12, '0')}`;
    if (!repeat) fingerprints.push(fingerprint);
    if (fingerprints.length > 500) fingerprints.shift();
    return {
      kind: repeat ? 'alert-repeat' : 'alert',
      path: '/api/v1/intake/alertmanager',
      init: json(tokens.alertmanager, alert(fingerprint)),
    };
  };

  const lanes = Math.max(1, Math.min(32, Math.ceil(rate / 10)));
  const interval = (1000 * lanes) / rate;
  const lane = async (offset: number) => {
    let next = performance.now() + (offset * interval) / lanes;
    while (Date.now() < until) {
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      // A slow answer delays this lane; it does not make it fire a burst afterwards.
      next = Math.max(next + interval, performance.now());
      const { kind, path, init } = pick();
      const sent = performance.now();
      try {
        const res = await fetch(server.url + path, { ...init, signal: AbortSignal.timeout(10_000) });
        const text = await res.text();
        const t = into();
        t.requests++;
        t.latencies.push(performance.now() - sent);
        t.statuses[res.status] = (t.statuses[res.status] ?? 0) + 1;
        t.byKind[kind] = (t.byKind[kind] ?? 0) + 1;
        if (res.status < 300) t.ok++;
        if (kind === 'create' && res.status === 201) {
          t.created++;
          recent.push((JSON.parse(text) as { id: number }).id);
          if (recent.length > 1000) recent.shift();
        }
      } catch {
        into().errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, i) => lane(i)));
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

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

async function runEngine(ctx: BenchContext, engine: EngineName, soak: SoakSettings, outcome: BenchOutcome) {
  if (engine === 'postgres') {
    const problem = await postgresReachable(ctx.settings.pgAdminUrl);
    if (problem) return void outcome.notes.push(`soak postgres: SKIPPED (${problem})`);
  }
  const db = await freshDatabase(engine, ctx.settings.pgAdminUrl);
  const unregisterDrop = ctx.onCleanup(() => db.drop());
  let server: ServerProcess | undefined;
  try {
    const tokens = await prepare(ctx, db, soak.incidents);
    const incidentsBefore = await countIncidents(db);
    // The per-integration rate limit would answer 429 to a steady stream from one Alertmanager.
    server = await spawnServer({ env: { ...db.env, PALIER_INTAKE_RATE_PER_MINUTE: '100000000' } });
    const srv = server;
    ctx.onCleanup(async () => void (await srv.stop()));
    if (procRssMb(srv.pid) === undefined) throw new Error(`cannot read /proc/${srv.pid}/status: the soak needs Linux`);

    const warmup = newTally();
    const measured = newTally();
    let phase: 'warmup' | 'measured' = 'warmup';
    const start = Date.now();
    const measuredFrom = start + soak.warmupSeconds * 1000;
    const end = measuredFrom + soak.seconds * 1000;
    const samples: Array<{ at: number; mb: number }> = [];
    const sampler = setInterval(() => {
      const mb = procRssMb(srv.pid);
      if (mb !== undefined && Date.now() >= measuredFrom) samples.push({ at: Date.now(), mb });
    }, 1000);
    ctx.log(
      `${engine}: soak at ${soak.rate} req/s: ${soak.warmupSeconds} s warm-up, then ${soak.seconds} s measured (server pid ${srv.pid})`,
    );
    const host = { window: undefined as undefined | ReturnType<typeof hostWindow> };
    const switchOver = setTimeout(() => {
      phase = 'measured';
      host.window = hostWindow();
      void srv.resetRss().catch(() => {});
      ctx.log(`${engine}: warm-up done (${warmup.requests} requests), RSS ${procRssMb(srv.pid)?.toFixed(0)} MB`);
    }, measuredFrom - start);
    const progress = setInterval(() => {
      const last = samples.at(-1);
      if (!last) return;
      ctx.log(`${engine}: ${measured.requests} requests measured, RSS ${last.mb.toFixed(0)} MB`);
    }, 30_000);
    try {
      await drive(srv, tokens, soak.rate, end, () => (phase === 'warmup' ? warmup : measured));
    } finally {
      clearTimeout(switchOver);
      clearInterval(sampler);
      clearInterval(progress);
    }
    const loop = await srv.rss();
    const hostSample = (host.window ?? hostWindow())();
    await srv.stop();
    const incidentsAfter = await countIncidents(db);

    const tenth = Math.max(1, Math.floor(samples.length / 10));
    const rssWarm = mean(samples.slice(0, tenth).map((s) => s.mb));
    const rssEnd = mean(samples.slice(-tenth).map((s) => s.mb));
    const growthPct = (100 * (rssEnd - rssWarm)) / rssWarm;
    // Least-squares slope over every sample: a leak keeps climbing, a heap settling flattens out.
    const slopePerMin = (() => {
      if (samples.length < 2) return NaN;
      const xs = samples.map((x) => (x.at - samples[0]!.at) / 60_000);
      const mx = mean(xs);
      const my = mean(samples.map((x) => x.mb));
      const num = samples.reduce((a, x, i) => a + (xs[i]! - mx) * (x.mb - my), 0);
      const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
      return den === 0 ? NaN : num / den;
    })();
    const fivexx = Object.entries(measured.statuses)
      .filter(([status]) => Number(status) >= 500)
      .reduce((a, [, count]) => a + count, 0);
    const non2xx = measured.requests - measured.ok;
    const latencies = measured.latencies.sort((a, b) => a - b);
    const met = {
      rss: growthPct < AIMS.rssGrowthPct,
      errors: fivexx === 0,
      loop: loop.loopDelayP99Ms < AIMS.loopP99Ms,
    };
    outcome.rows.push({
      bench: NAME,
      engine,
      scenario: `mixed load, ${soak.rate} req/s for ${soak.seconds} s after ${soak.warmupSeconds} s warm-up`,
      requests: measured.requests,
      req_per_s: Math.round((measured.requests / soak.seconds) * 10) / 10,
      p50_ms: Math.round(percentile(latencies, 50)),
      p99_ms: Math.round(percentile(latencies, 99)),
      non_2xx: non2xx,
      errors: measured.errors,
      '5xx': fivexx,
      rss_warm_mb: Math.round(rssWarm * 10) / 10,
      rss_end_mb: Math.round(rssEnd * 10) / 10,
      rss_growth_pct: Math.round(growthPct * 10) / 10,
      rss_mb_per_min: Math.round(slopePerMin * 10) / 10,
      loop_p99_ms: Math.round(loop.loopDelayP99Ms * 10) / 10,
      loop_max_ms: Math.round(loop.loopDelayMaxMs),
      load_1m: Math.round(hostSample.load1m * 10) / 10,
      steal_pct: hostSample.stealPct === null ? null : Math.round(hostSample.stealPct * 10) / 10,
      target: `RSS growth < ${AIMS.rssGrowthPct} %, 0 5xx, loop p99 < ${AIMS.loopP99Ms} ms`,
      met: met.rss && met.errors && met.loop,
    });
    outcome.details![engine] = {
      statuses: measured.statuses,
      byKind: measured.byKind,
      warmup: { requests: warmup.requests, statuses: warmup.statuses },
      rssSamplesMb: samples.map((s) => Math.round(s.mb)),
      serverLoop: loop,
      host: hostSample,
    };
    const misses = [
      ...(met.rss ? [] : [`RSS grew ${growthPct.toFixed(1)} %`]),
      ...(met.errors ? [] : [`${fivexx} answers 5xx`]),
      ...(met.loop ? [] : [`event-loop delay p99 ${loop.loopDelayP99Ms.toFixed(0)} ms`]),
    ];
    if (misses.length) {
      outcome.notes.push(`soak ${engine}: aims missed: ${misses.join(', ')}`);
      outcome.failed = true;
    }
    if (non2xx > 0) outcome.notes.push(`soak ${engine}: non-2xx answers ${JSON.stringify(measured.statuses)}`);
    const createdAll = warmup.created + measured.created;
    if (incidentsAfter - incidentsBefore < createdAll)
      outcome.notes.push(
        `soak ${engine}: ${createdAll} creations answered 201 but only ${incidentsAfter - incidentsBefore} incidents were added`,
      );
    ctx.log(
      `${engine}: soak: ${measured.requests} requests, ${fivexx} 5xx, RSS ${rssWarm.toFixed(1)} -> ${rssEnd.toFixed(1)} MB (${growthPct.toFixed(1)} %, ${slopePerMin.toFixed(1)} MB/min), ` +
        `event-loop p99 ${loop.loopDelayP99Ms.toFixed(1)} ms, load ${hostSample.load1m.toFixed(1)}`,
    );
  } finally {
    await server?.stop();
    await db.drop();
    unregisterDrop();
  }
}

export const soakBench: BenchModule = {
  name: NAME,
  description: 'steady mixed load for minutes on a seeded database: RSS growth, 5xx, event-loop delay, per engine',
  async run(ctx) {
    const soak = soakSettings(ctx);
    const outcome: BenchOutcome = {
      rows: [],
      notes: [
        `soak: RSS from /proc every second, growth = mean of the last tenth of the measured window over the first tenth; ` +
          `event-loop delay measured in the server process (10 ms resolution); latencies from the load generator, all answers`,
      ],
      details: {},
    };
    for (const engine of soak.engines) {
      try {
        await runEngine(ctx, engine, soak, outcome);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        ctx.log(`${engine}: soak FAILED: ${error instanceof Error ? (error.stack ?? message) : message}`);
        outcome.notes.push(`soak ${engine}: FAILED: ${message.split('\n')[0]}`);
        outcome.failed = true;
      }
    }
    return outcome;
  },
};
