/**
 * The browser app's first page on a database pre-filled with BENCH_INCIDENTS incidents (100,000 by
 * default), per engine: an L1 agent, already signed in, opens /queue in a fresh Chromium profile
 * (no cache); the figure is the time from navigation start to the queue rendered, as the app marks it
 * (performance.mark), and as seen from the driver (goto to the first row visible). The server is the
 * built one (`npm run bench` builds server and app first), in its own process.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { chromium, type Browser } from 'playwright-core';
import { createPalier } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { addUser } from '../src/services/auth.service.js';
import { freshDatabase, postgresReachable, type EngineName } from './lib/databases.js';
import { hostWindow } from './lib/host.js';
import { seedIncidents } from './lib/seed.js';
import { spawnServer } from './lib/server.js';
import type { BenchContext, BenchModule, BenchOutcome } from './lib/types.js';

const NAME = 'web-first-page';
const AGENT = { email: 'bench-web-agent@bench.test', password: 'bench-password-123' };
const CHROMIUM = process.env.PALIER_CHROMIUM ?? '/usr/bin/chromium';
const WEB_INDEX = fileURLToPath(new URL('../web/dist/index.html', import.meta.url));
const LOADS = 7;
const TARGET_MS = 1000;

async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

async function runEngine(ctx: BenchContext, browser: Browser, engine: EngineName, outcome: BenchOutcome): Promise<void> {
  const { settings } = ctx;
  if (engine === 'postgres') {
    const problem = await postgresReachable(settings.pgAdminUrl);
    if (problem) {
      outcome.notes.push(`postgres: skipped, ${settings.pgAdminUrl.replace(/\/\/[^@/]*@/, '//…@')} does not answer (${problem})`);
      return;
    }
  }
  const db = await freshDatabase(engine, settings.pgAdminUrl);
  const unregisterDrop = ctx.onCleanup(() => db.drop());
  try {
    const palier = await createPalier(loadConfig({ LOG_LEVEL: 'silent', PALIER_WORKER: 'off' }, { database: db.config }));
    try {
      await addUser(palier.services, { ...AGENT, role: 'agent', tiers: ['L1'] });
      const sqlite = engine === 'sqlite';
      const seed = await seedIncidents(palier.services, {
        count: settings.incidents,
        batchSize: sqlite ? 500 : 1000,
        maxRowsPerStatement: sqlite ? 500 : 1000,
        now: Date.now(),
      });
      ctx.log(`${engine}: seeded ${seed.incidents.toLocaleString('en-US')} incidents in ${(seed.ms / 1000).toFixed(1)} s`);
      // Fresh tables: give the PostgreSQL planner its statistics now, as http-incidents does.
      if (!sqlite) await sql`analyze`.execute(palier.services.store.db);
    } finally {
      await palier.close();
    }

    const server = await spawnServer({ env: db.env });
    const unregisterStop = ctx.onCleanup(async () => void (await server.stop()));
    try {
      const res = await fetch(`${server.url}/api/v1/auth/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(AGENT),
      });
      const cookie = /palier_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
      if (res.status !== 200 || !cookie) throw new Error(`session sign-in failed: ${res.status}`);

      const times: number[] = [];
      const walls: number[] = [];
      const host = hostWindow();
      // The first load warms nothing on the browser side (fresh profile each time) but does warm the server.
      for (let n = 0; n <= LOADS; n++) {
        const context = await browser.newContext();
        await context.addCookies([{ name: 'palier_session', value: cookie, url: server.url }]);
        const page = await context.newPage();
        const started = performance.now();
        await page.goto(`${server.url}/queue`, { waitUntil: 'commit' });
        await page.locator('[data-testid=queue] tbody tr').first().waitFor({ timeout: 30_000 });
        const wall = performance.now() - started;
        // The app marks the moment its first queue is rendered, from the browser's navigation start.
        const ms = await page.evaluate(
          (mark) =>
            (
              globalThis as unknown as { performance: { getEntriesByName(n: string): Array<{ startTime: number }> } }
            ).performance.getEntriesByName(mark)[0]?.startTime ?? NaN,
          'palier:queue-rendered',
        );
        const rows = await page.locator('[data-testid=queue] tbody tr').count();
        if (rows === 0) throw new Error('the queue rendered no row');
        if (!Number.isFinite(ms)) throw new Error('the app did not mark its first queue render');
        if (n > 0) {
          times.push(ms);
          walls.push(wall);
        }
        ctx.log(
          `${engine}: load ${n === 0 ? 'warm-up' : n}: ${ms.toFixed(0)} ms to ${rows} rows rendered (${wall.toFixed(0)} ms seen from the driver)`,
        );
        await context.close();
      }
      const { load1m } = host();
      const sorted = [...times].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      const wallMedian = [...walls].sort((a, b) => a - b)[Math.floor(walls.length / 2)]!;
      outcome.rows.push({
        bench: NAME,
        engine,
        scenario: `/queue, fresh Chromium profile, navigation start to queue rendered (${LOADS} loads)`,
        p50_ms: Math.round(median),
        max_ms: Math.round(sorted.at(-1)!),
        driver_p50_ms: Math.round(wallMedian),
        load_1m: Number(load1m.toFixed(1)),
        target: `< ${TARGET_MS} ms`,
        met: median < TARGET_MS,
      });
      if (median >= TARGET_MS) outcome.failed = true;
    } finally {
      await server.stop();
      unregisterStop();
    }
  } finally {
    await db.drop();
    unregisterDrop();
  }
}

export const webFirstPage: BenchModule = {
  name: NAME,
  description: 'first page of the browser app (the tier queue) in Chromium, on a pre-filled database, per engine',
  async run(ctx) {
    const outcome: BenchOutcome = { rows: [], notes: [] };
    if (!existsSync(CHROMIUM)) {
      outcome.notes.push(`${NAME}: skipped, no Chromium at ${CHROMIUM}`);
      outcome.failed = true;
      return outcome;
    }
    if (!existsSync(WEB_INDEX)) throw new Error(`${WEB_INDEX} is missing: npm run build builds the app`);
    const browser = await launch();
    const stop = ctx.onCleanup(() => browser.close());
    try {
      for (const engine of ctx.settings.engines) {
        try {
          await runEngine(ctx, browser, engine, outcome);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          ctx.log(`${engine}: FAILED: ${error instanceof Error ? (error.stack ?? message) : message}`);
          outcome.notes.push(`${engine}: FAILED: ${message.split('\n')[0]}`);
          outcome.failed = true;
        }
      }
    } finally {
      await browser.close();
      stop();
    }
    return outcome;
  },
};
