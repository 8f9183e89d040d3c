/**
 * Inbound integrations over HTTP, on SQLite and on PostgreSQL (empty database, worker on):
 *   events-trigger:   POST /api/v1/intake/events/v2/enqueue, a trigger with a fresh dedup_key each
 *                     time: every request stores the message, then opens an incident in one transaction
 *   events-duplicate: the same trigger again and again: stored, then deduplicated (no incident)
 *   alertmanager-repeat: the Alertmanager v4 fixture (two firing alerts) resent: stored, then unchanged
 * After the load, the bench checks that the incidents opened match the 2xx answers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPalier } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createIntegration } from '../src/intake/integrations.js';
import { addUser } from '../src/services/auth.service.js';
import { openStore } from '../src/store/database.js';
import { freshDatabase, postgresReachable, type BenchDatabase, type EngineName } from './lib/databases.js';
import { hostWindow } from './lib/host.js';
import { runLoad, type LoadOptions, type LoadResult } from './lib/load.js';
import { summarizeProfile } from './lib/profile.js';
import { spawnServer, type ServerProcess } from './lib/server.js';
import type { BenchContext, BenchModule, BenchOutcome } from './lib/types.js';

const NAME = 'intake';
const EVENTS_PATH = '/api/v1/intake/events/v2/enqueue';
const ALERTMANAGER_PATH = '/api/v1/intake/alertmanager';
const ALERTMANAGER_BODY = readFileSync(new URL('../test/fixtures/alertmanager-v4-firing.json', import.meta.url), 'utf8');
const TRIGGER = JSON.parse(readFileSync(new URL('../test/fixtures/events-v2-trigger.json', import.meta.url), 'utf8')) as Record<
  string,
  unknown
>;

interface Keys {
  events: string;
  alertmanager: string;
}

interface Scenario {
  key: string;
  label: string;
  request: (server: ServerProcess, keys: Keys) => Omit<LoadOptions, 'connections' | 'seconds'>;
  /** Incidents each 2xx answer should open. */
  opensPerRequest: number;
}

const SCENARIOS: Scenario[] = [
  {
    key: 'events-trigger',
    label: 'Events v2 trigger, new dedup_key each (opens an incident)',
    opensPerRequest: 1,
    request: (server, keys) => {
      let n = 0;
      return {
        url: server.url,
        method: 'POST',
        path: EVENTS_PATH,
        headers: { 'content-type': 'application/json' },
        body: () => JSON.stringify({ ...TRIGGER, routing_key: keys.events, dedup_key: `bench-${process.pid}-${++n}` }),
      };
    },
  },
  {
    key: 'events-duplicate',
    label: 'Events v2 trigger, same dedup_key (deduplicated)',
    opensPerRequest: 0,
    request: (server, keys) => ({
      url: server.url,
      method: 'POST',
      path: EVENTS_PATH,
      headers: { 'content-type': 'application/json' },
      body: () => JSON.stringify({ ...TRIGGER, routing_key: keys.events, dedup_key: 'bench-duplicate' }),
    }),
  },
  {
    key: 'alertmanager-repeat',
    label: 'Alertmanager v4, 2 firing alerts resent (unchanged)',
    opensPerRequest: 0,
    request: (server, keys) => ({
      url: server.url,
      method: 'POST',
      path: ALERTMANAGER_PATH,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.alertmanager}` },
      body: () => ALERTMANAGER_BODY,
    }),
  },
];

async function prepare(db: BenchDatabase): Promise<Keys> {
  const palier = await createPalier(loadConfig({ LOG_LEVEL: 'silent', PALIER_WORKER: 'off' }, { database: db.config }));
  try {
    const s = palier.services;
    const admin = await addUser(s, { email: 'bench-admin@bench.test', role: 'admin' });
    const actor = { id: admin.id, role: 'admin' as const, tiers: [] };
    const events = await createIntegration(s, actor, { kind: 'events-v2', name: 'bench events', category: 'network-downtime' });
    const alertmanager = await createIntegration(s, actor, {
      kind: 'alertmanager',
      name: 'bench am',
      category: 'network-downtime',
    });
    return { events: events.key, alertmanager: alertmanager.key };
  } finally {
    await palier.close();
  }
}

async function count(db: BenchDatabase, table: 'incidents' | 'inbound_messages'): Promise<number> {
  const store = openStore(db.config);
  try {
    const row = await store.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  } finally {
    await store.close();
  }
}

async function runEngine(ctx: BenchContext, engine: EngineName, outcome: BenchOutcome) {
  const { settings } = ctx;
  if (engine === 'postgres') {
    const problem = await postgresReachable(settings.pgAdminUrl);
    if (problem) return void outcome.notes.push(`postgres: SKIPPED (${problem})`);
  }
  const db = await freshDatabase(engine, settings.pgAdminUrl);
  const unregisterDrop = ctx.onCleanup(() => db.drop());
  let server: ServerProcess | undefined;
  try {
    const keys = await prepare(db);
    // The per-integration rate limit would answer 429 to a load generator.
    server = await spawnServer({ env: { ...db.env, PALIER_INTAKE_RATE_PER_MINUTE: '100000000' } });
    const srv = server;
    ctx.onCleanup(async () => void (await srv.stop()));
    const settle = () => new Promise((r) => setTimeout(r, 500)); // requests cut off at the end of a run finish meanwhile
    for (const scenario of SCENARIOS.filter((s) => ctx.wants(`${NAME}/${s.key}`))) {
      const request = scenario.request(srv, keys);
      if (settings.warmupSeconds > 0)
        await runLoad({ ...request, connections: settings.connections, seconds: settings.warmupSeconds });
      await settle();
      const incidentsBefore = await count(db, 'incidents');
      const messagesBefore = await count(db, 'inbound_messages');
      await srv.resetRss();
      ctx.log(`${engine}: ${scenario.key}: measuring ${settings.seconds} s with ${settings.connections} connections`);
      const host = hostWindow();
      if (settings.cpuProfile) await srv.startProfile();
      const result: LoadResult = await runLoad({ ...request, connections: settings.connections, seconds: settings.seconds });
      const rss = await srv.rss();
      const { load1m } = host();
      if (settings.cpuProfile) {
        const file = join(settings.resultsDir, 'profiles', `${NAME}-${engine}-${scenario.key}.cpuprofile`);
        await srv.stopProfile(file);
        const summary = summarizeProfile(file);
        ctx.log(`${engine}: ${scenario.key}: CPU profile ${file}; self time by function:`);
        for (const f of summary.byFunction) ctx.log(`    ${f.pct.toFixed(1).padStart(5)}%  ${f.fn}`);
      }
      await settle();
      const opened = (await count(db, 'incidents')) - incidentsBefore;
      const stored = (await count(db, 'inbound_messages')) - messagesBefore;
      outcome.rows.push({
        bench: NAME,
        engine,
        scenario: scenario.label,
        conns: settings.connections,
        req_per_s: Math.round(result.requestsPerSec),
        p50_ms: result.p50Ms,
        p99_ms: result.p99Ms,
        non_2xx: result.non2xx,
        errors: result.errors + result.timeouts,
        rss_peak_mb: Math.round(rss.peakMb),
        srv_cpu_ms_per_req: result.total > 0 ? Math.round((100 * rss.cpuMs) / result.total) / 100 : null,
        // Other work on the machine (load far above the 2 CPUs) makes these figures pessimistic.
        load_1m: Math.round(load1m * 10) / 10,
      });
      if (stored < result.ok2xx)
        outcome.notes.push(`${engine} ${scenario.key}: ${result.ok2xx} answers 2xx but only ${stored} messages stored`);
      // A request cut off by the end of the run may still have been processed: at most `connections` more.
      if (
        opened < scenario.opensPerRequest * result.ok2xx ||
        opened > scenario.opensPerRequest * (result.ok2xx + settings.connections)
      )
        outcome.notes.push(
          `${engine} ${scenario.key}: ${opened} incidents opened for ${result.ok2xx} 2xx answers (expected ${scenario.opensPerRequest * result.ok2xx})`,
        );
      if (result.non2xx > 0) outcome.notes.push(`${engine} ${scenario.key}: non-2xx ${JSON.stringify(result.statusCodes)}`);
    }
  } finally {
    await server?.stop();
    await db.drop();
    unregisterDrop();
  }
}

export const intakeBench: BenchModule = {
  name: NAME,
  description: 'Events API v2 and Alertmanager intake over HTTP: stored, then processed, per engine',
  async run(ctx) {
    const outcome: BenchOutcome = { rows: [], notes: [] };
    for (const engine of ctx.settings.engines) {
      try {
        await runEngine(ctx, engine, outcome);
      } catch (error) {
        outcome.notes.push(`${engine}: FAILED: ${error instanceof Error ? error.message : String(error)}`);
        outcome.failed = true;
      }
    }
    return outcome;
  },
};
