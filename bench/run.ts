/**
 * Entry point of `npm run bench`: runs every bench module of BENCHES (or those picked with
 * `--only`), prints one aligned table and writes the same results to bench/results/latest.json.
 *
 *   npm run bench                                  everything
 *   npm run bench -- --only http                   modules whose name contains "http"
 *   npm run bench -- --only http/queue-1c          one scenario (exact name) of the modules matching "http"
 *   BENCH_SECONDS=3 BENCH_WARMUP_SECONDS=1 npm run bench     quick check
 *
 * The soak module has its own settings (PALIER_SOAK_SECONDS, PALIER_SOAK_WARMUP_SECONDS, PALIER_SOAK_RATE,
 * PALIER_SOAK_INCIDENTS, PALIER_SOAK_ENGINES): see bench/soak.ts.
 *
 * Environment: BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (50),
 * BENCH_INCIDENTS (100000), BENCH_ENGINES (sqlite,postgres), BENCH_PG_URL (PALIER_TEST_PG_URL or
 * postgres://postgres@127.0.0.1:5432/postgres), BENCH_CPU_PROF=1 or --cpu-prof (V8 profile of the
 * server during each measured window, in bench/results/profiles, summarised in the log), BENCH_TIMEOUT_SECONDS (1500: the whole run is aborted after), BENCH_REPORT_INCIDENTS (1000000).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { engineBench } from './engine.js';
import { httpIncidents } from './http-incidents.js';
import { intakeBench } from './intake.js';
import { reportsBench } from './reports.js';
import { soakBench } from './soak.js';
import type { BenchContext, BenchModule, BenchOutcome, BenchSettings } from './lib/types.js';
import { renderTable } from './table.js';
import { webFirstPage } from './web-first-page.js';

/** Every bench, in the order they run. Add new modules (escalation engine, reports, soak…) here. */
const BENCHES: BenchModule[] = [httpIncidents, engineBench, intakeBench, reportsBench, webFirstPage, soakBench];

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

function envNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min}, got "${raw}"`);
  return n;
}

function settingsFromEnv(cpuProfileFlag: boolean): BenchSettings {
  const engines = (process.env.BENCH_ENGINES ?? 'sqlite,postgres')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const e of engines) if (e !== 'sqlite' && e !== 'postgres') throw new Error(`BENCH_ENGINES: unknown engine "${e}"`);
  return {
    seconds: envNumber('BENCH_SECONDS', 10, 1),
    warmupSeconds: envNumber('BENCH_WARMUP_SECONDS', 2, 0),
    connections: Math.round(envNumber('BENCH_CONNECTIONS', 50, 1)),
    incidents: Math.round(envNumber('BENCH_INCIDENTS', 100_000, 0)),
    engines: engines as BenchSettings['engines'],
    pgAdminUrl: process.env.BENCH_PG_URL ?? process.env.PALIER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    cpuProfile: cpuProfileFlag || process.env.BENCH_CPU_PROF === '1',
    resultsDir: RESULTS_DIR,
  };
}

const { values } = parseArgs({
  options: {
    only: { type: 'string', multiple: true },
    'cpu-prof': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
  allowPositionals: false,
});
if (values.help) {
  console.log(
    `usage: npm run bench -- [--only <module>[/<scenario>]]... [--cpu-prof]\nmodules: ${BENCHES.map((b) => `${b.name} (${b.description})`).join('; ')}`,
  );
  process.exit(0);
}

const filters = (values.only ?? [])
  .flatMap((f) => f.split(','))
  .map((f) => f.trim())
  .filter(Boolean);
const settings = settingsFromEnv(values['cpu-prof'] ?? false);
const filtersFor = (module: string) => filters.filter((f) => module.includes(f.split('/')[0]!));
const selected = BENCHES.filter((b) => filters.length === 0 || filtersFor(b.name).length > 0);
if (selected.length === 0) {
  console.error(`no bench matches --only ${filters.join(',')}; modules: ${BENCHES.map((b) => b.name).join(', ')}`);
  process.exit(2);
}

const started = Date.now();
const measuredRevision = revision(); // before running: the tree may change meanwhile
const log = (message: string) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`);
const cleanups = new Set<() => Promise<void> | void>();
async function runCleanups() {
  for (const fn of [...cleanups].reverse()) {
    cleanups.delete(fn);
    try {
      await fn();
    } catch (error) {
      log(`clean-up failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

const ctx: BenchContext = {
  settings,
  log,
  wants(key) {
    const [module, scenario = ''] = key.split('/');
    const mine = filtersFor(module!);
    if (filters.length === 0) return true;
    return mine.some((f) => !f.includes('/') || scenario === f.split('/')[1]);
  },
  onCleanup(fn) {
    cleanups.add(fn);
    return () => void cleanups.delete(fn);
  },
};

// Bound everything: a stuck server or database must not hang the run forever.
const timeoutSeconds = envNumber('BENCH_TIMEOUT_SECONDS', 1500, 1);
const watchdog = setTimeout(() => {
  log(`aborting: the run exceeded BENCH_TIMEOUT_SECONDS=${timeoutSeconds}`);
  void runCleanups().finally(() => process.exit(3));
}, timeoutSeconds * 1000);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void runCleanups().finally(() => process.exit(130));
  });

log(
  `settings: ${settings.seconds} s per scenario (+${settings.warmupSeconds} s warm-up), ${settings.connections} connections, ` +
    `${settings.incidents.toLocaleString('en-US')} incidents, engines ${settings.engines.join(', ')}; modules: ${selected.map((b) => b.name).join(', ')}`,
);

const results: Array<{ module: string; outcome?: BenchOutcome; error?: string }> = [];
for (const bench of selected) {
  log(`${bench.name}: ${bench.description}`);
  try {
    results.push({ module: bench.name, outcome: await bench.run(ctx) });
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`${bench.name} failed: ${message}`);
    results.push({ module: bench.name, error: message.split('\n')[0] });
  }
  await runCleanups();
}
clearTimeout(watchdog);

const rows = results.flatMap((r) => r.outcome?.rows ?? []);
const revisionAtEnd = revision();
const notes = [
  ...(revisionAtEnd !== measuredRevision
    ? [`the code changed during the run (${measuredRevision} at the start, ${revisionAtEnd} at the end)`]
    : []),
  ...results.flatMap((r) => r.outcome?.notes ?? []),
  ...results.filter((r) => r.error).map((r) => `${r.module}: FAILED: ${r.error}`),
];
/** Which code was measured: commit, and whether src/ had uncommitted changes (read-only git commands). */
function revision(): string {
  try {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd, encoding: 'utf8' }).trim();
    return dirty ? `${head} + uncommitted changes in src/` : head;
  } catch {
    return 'unknown';
  }
}
const machine = {
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? '?',
  memoryGb: Math.round(totalmem() / 2 ** 30),
};

console.log('');
console.log(renderTable(rows));
console.log('');
console.log(
  `${settings.seconds} s measured per scenario after ${settings.warmupSeconds} s warm-up, ${settings.connections} connections (autocannon), ` +
    `server in its own process.\nLatencies in whole ms (autocannon, 2xx only). rss_peak_mb: server RSS peak, sampled every 100 ms during the measured window. ` +
    `srv_cpu_pct: server CPU time / wall time (100 = one core). srv_cpu_ms_per_req: server CPU per response. load_1m: 1-minute load average (CPUs: ${cpus().length}); ` +
    `steal_pct: CPU time the hypervisor gave to other VMs. Load far above the CPU count or steal above a few % mean others competed for the CPUs: figures are then pessimistic.`,
);
console.log(
  `machine: ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGb} GB, Node ${machine.node}; code: ${measuredRevision}`,
);
for (const note of notes) console.log(`- ${note}`);

mkdirSync(RESULTS_DIR, { recursive: true });
const json = {
  startedAt: new Date(started).toISOString(),
  finishedAt: new Date().toISOString(),
  durationSeconds: (Date.now() - started) / 1000,
  machine,
  revision: measuredRevision,
  settings: { ...settings, pgAdminUrl: settings.pgAdminUrl.replace(/\/\/[^@/]*@/, '//…@'), resultsDir: undefined },
  filters,
  rows,
  notes,
  modules: results.map((r) => ({ module: r.module, error: r.error ?? null, details: r.outcome?.details ?? null })),
};
const out = fileURLToPath(new URL('./results/latest.json', import.meta.url));
writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
log(`results written to ${out}`);

const invalid =
  rows.some((r) => typeof r.non_2xx === 'number' && r.non_2xx > 0) || results.some((r) => r.error || r.outcome?.failed);
process.exitCode = invalid ? 1 : 0;
// Something a failed module left open (a socket, a pool) must not keep the run alive.
setTimeout(() => process.exit(), 2000).unref();
