/** What every bench module receives and returns; `bench/run.ts` runs a list of them. */

export type Cell = string | number | boolean | null;

/**
 * One line of the results table. `bench`, `engine` and `scenario` identify it; the other keys are
 * measurements (units in the key: `p99_ms`, `rss_peak_mb`). Later benches may add their own keys:
 * the table shows the union of the keys in order of first appearance.
 */
export interface BenchRow {
  bench: string;
  engine: string;
  scenario: string;
  [metric: string]: Cell;
}

export interface BenchOutcome {
  rows: BenchRow[];
  /** Printed under the table: skipped engines, targets missed, sanity checks, caveats. */
  notes: string[];
  /** Anything else worth keeping in the JSON (raw autocannon results, seed timings…). */
  details?: Record<string, unknown>;
  /** Set when part of the module failed but its other rows are still worth showing. */
  failed?: boolean;
}

export interface BenchSettings {
  /** Measured seconds per load scenario (BENCH_SECONDS, default 10). */
  seconds: number;
  /** Warm-up seconds before each measured run, not counted (BENCH_WARMUP_SECONDS, default 2). */
  warmupSeconds: number;
  /** Concurrent HTTP connections (BENCH_CONNECTIONS, default 50). */
  connections: number;
  /** Incidents pre-filled before measuring (BENCH_INCIDENTS, default 100000). */
  incidents: number;
  /** Engines to run on (BENCH_ENGINES, default "sqlite,postgres"). */
  engines: Array<'sqlite' | 'postgres'>;
  /** Admin connection on which a throwaway PostgreSQL database is created (BENCH_PG_URL). */
  pgAdminUrl: string;
  /** Profiles the server during each measured window, to bench/results/profiles (BENCH_CPU_PROF=1 or --cpu-prof). */
  cpuProfile: boolean;
  /** Where results and profiles go. */
  resultsDir: string;
}

export interface BenchContext {
  settings: BenchSettings;
  log(message: string): void;
  /**
   * Whether a scenario `<module>/<scenario>` was asked for: everything by default; with
   * `--only http-incidents/queue` only that one.
   */
  wants(key: string): boolean;
  /** Registers a clean-up that also runs if the bench is interrupted or times out. */
  onCleanup(fn: () => Promise<void> | void): () => void;
}

export interface BenchModule {
  /** Short name matched by `npm run bench -- --only <name>` (substring match). */
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchOutcome>;
}
