/**
 * Acceptance: several `palier worker` processes share one PostgreSQL database. 10,000 incidents
 * fall due at the same instant; three workers started at once must escalate each exactly once
 * (FOR UPDATE SKIP LOCKED: no incident handled twice, none waited on) and share the work.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/database.js';
import { ENGINES, freshDatabase, type FreshDatabase } from '../helpers/engines.js';
import {
  bulkCreateIncidents,
  countEscalated,
  escalations,
  killAllChildren,
  palierEnv,
  prepareDatabase,
  problemsWith,
  readOutcome,
  sleep,
  startPalier,
  tally,
  waitFor,
  type PalierChild,
} from './seed.js';

const INCIDENTS = 10_000;
const WORKERS = ['w1', 'w2', 'w3'];

describe.skipIf(!ENGINES.includes('postgres'))('three escalation workers sharing one PostgreSQL database', () => {
  let db: FreshDatabase | undefined;
  let probe: Store | undefined;

  afterAll(async () => {
    await killAllChildren();
    await probe?.close();
    await db?.drop();
  });

  it('escalates each of 10,000 incidents due at the same instant exactly once, the three sharing the work', async () => {
    db = await freshDatabase('postgres');
    const prepared = await prepareDatabase(db.config, 'PT1S', 'PT10H');

    // All created at T0, two seconds ago: their warning and their missed L1 acknowledge target
    // (T0 + 1 s) are both due before any worker is up, at the same instant for all.
    const seedStart = Date.now();
    const t0 = seedStart - 2000;
    await bulkCreateIncidents(prepared, INCIDENTS, t0, 500, 4);
    const seedMs = Date.now() - seedStart;
    const scheduled = await prepared.store.db
      .selectFrom('escalation_schedule')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('due_at').as('first'), eb.fn.max('due_at').as('last')])
      .executeTakeFirstOrThrow();
    expect(Number(scheduled.n)).toBe(INCIDENTS);
    expect(Number(scheduled.first)).toBe(Number(scheduled.last)); // one instant for all
    expect(Number(scheduled.last)).toBeLessThan(Date.now());
    await prepared.store.close();

    probe = openStore(db.config);
    const env = palierEnv(db.config);
    const started = Date.now();
    const workers: PalierChild[] = WORKERS.map((name) => startPalier(['worker', '--name', name], env, `palier worker ${name}`));
    let elapsedMs: number;
    try {
      await waitFor(
        async () => ((await countEscalated(probe!)) >= INCIDENTS ? true : undefined),
        90_000,
        'every incident to be escalated',
        100,
      );
      elapsedMs = Date.now() - started;
      // Let any straggling batch commit, then stop the workers gracefully.
      await sleep(500);
    } catch (error) {
      const outputs = workers.map((w) => `--- ${w.label}:\n${w.output()}`).join('\n');
      throw new Error(`${(error as Error).message} (${await countEscalated(probe)} of ${INCIDENTS})\n${outputs}`);
    } finally {
      await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    }

    const outcome = await readOutcome(probe);
    expect(outcome.incidents.size).toBe(INCIDENTS);
    // Exactly one escalation, one missed target, at most one warning per incident; gap-free seq;
    // projection at L2 with the last seq; one outbox row per notified event, none twice.
    expect(problemsWith(outcome)).toEqual([]);
    const escalated = escalations(outcome);
    expect(escalated).toHaveLength(INCIDENTS);
    expect(new Set(escalated.map((e) => e.incidentId)).size).toBe(INCIDENTS);

    const byWorker = tally(escalated, (e) => e.worker ?? '(none)');
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      `[multi-worker] ${INCIDENTS} incidents seeded in ${seconds(seedMs)}; escalated by ${JSON.stringify(byWorker)} ` +
        `in ${seconds(elapsedMs)} from the start of the three processes`,
    );
    expect(Object.keys(byWorker).sort()).toEqual(WORKERS);
    for (const name of WORKERS) expect(byWorker[name], `escalations applied by ${name}`).toBeGreaterThan(INCIDENTS * 0.05);
  }, 180_000);
});
