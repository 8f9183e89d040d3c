/**
 * Acceptance: the escalation worker survives being killed (SIGKILL, no chance to clean up) while
 * deadlines keep falling due. The real `palier` command runs as a child process against a database
 * seeded by the test; it is killed twice mid-stream and restarted, and afterwards every incident
 * must have escalated exactly once, with a consistent timeline, projection and outbox.
 */
import { hostname } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/database.js';
import { ENGINES, freshDatabase, type FreshDatabase } from '../helpers/engines.js';
import {
  countEscalated,
  createIncidentsAt,
  escalations,
  killAllChildren,
  measureStartup,
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

const INCIDENTS = 600;
const ACKNOWLEDGE_MS = 1000; // the L1 acknowledge target of P5, PT1S
/** How long a worker runs once it has escalated something (or made progress) before it is killed. */
const RUN_BEFORE_KILL_MS = 200;

describe.each(ENGINES)('the escalation worker killed while deadlines fall due, on %s', (engine) => {
  let db: FreshDatabase | undefined;
  let probe: Store | undefined;

  afterAll(async () => {
    await killAllChildren();
    await probe?.close();
    await db?.drop();
  });

  it('is restarted twice and, in the end, has escalated every incident exactly once, in deadline order', async () => {
    const began = Date.now();
    db = await freshDatabase(engine);
    const prepared = await prepareDatabase(db.config, 'PT1S', 'PT10H');

    // Deadlines must still be falling due across two restarts: size the window by how long a
    // child process takes to start on this machine right now (about 1 s when idle, much more when loaded).
    const startupMs = await measureStartup(db.config);
    // Generous: under a full parallel test run, children start slower than the measurement above.
    const windowMs = Math.max(8000, 4 * startupMs + 5000);
    const spacing = windowMs / (INCIDENTS - 1);
    const seedStart = Date.now();
    // Creations spread so that the first deadline falls about when the first child is up, some
    // already due by then (seeding takes time too), and the last one well after the second restart.
    const firstDeadline = seedStart + startupMs;
    const createdAt = Array.from({ length: INCIDENTS }, (_, i) => Math.round(firstDeadline - ACKNOWLEDGE_MS + i * spacing));
    const ids = await createIncidentsAt(prepared, createdAt, engine === 'postgres' ? 8 : 1);
    const seedMs = Date.now() - seedStart;
    expect(new Set(ids).size).toBe(INCIDENTS);
    await prepared.store.close();

    // The test reads the database while the children run; it never writes to it again.
    probe = openStore(db.config);
    const escalatedSoFar = () => countEscalated(probe!);
    expect(await escalatedSoFar()).toBe(0);
    const env = palierEnv(db.config);

    const runs: Array<{ child: PalierChild; worker: string; after: number }> = [];
    const runUntilKilled = async (args: string[], worker: (pid: number) => string, before: number) => {
      const child = startPalier(args, env);
      try {
        // Bounded: the child must start and escalate something it had not before.
        await waitFor(
          async () => ((await escalatedSoFar()) > before ? true : undefined),
          30_000 + 2 * startupMs,
          `${child.label} to escalate`,
        );
        await sleep(RUN_BEFORE_KILL_MS);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n--- output of ${child.label}:\n${child.output()}`);
      } finally {
        await child.kill('SIGKILL');
      }
      const after = await escalatedSoFar();
      runs.push({ child, worker: worker(child.pid), after });
      return after;
    };
    const serveWorker = (pid: number) => `${hostname()}:${pid}`;

    // 1. `palier serve` (HTTP server and worker), killed mid-stream.
    const first = await runUntilKilled(['serve'], serveWorker, 0);
    expect(first, 'escalations committed before the first kill').toBeGreaterThan(0);
    expect(first, 'escalations committed before the first kill').toBeLessThan(INCIDENTS);

    // 2. `palier worker` takes over, catches up with what fell due meanwhile, and is killed too.
    const second = await runUntilKilled(['worker', '--name', 'restart-1'], () => 'restart-1', first);
    expect(second, 'escalations committed before the second kill').toBeGreaterThan(first);
    expect(second, 'escalations committed before the second kill').toBeLessThan(INCIDENTS);

    // 3. `palier serve` again, left to finish the work.
    const last = startPalier(['serve'], env);
    try {
      await waitFor(
        async () => ((await escalatedSoFar()) >= INCIDENTS ? true : undefined),
        windowMs + 30_000 + 2 * startupMs,
        'every incident to be escalated',
      );
      // Nothing more may happen: let a few more polls run, then stop the process gracefully.
      await sleep(300);
    } catch (error) {
      throw new Error(`${(error as Error).message} (${await escalatedSoFar()} of ${INCIDENTS})\n--- output:\n${last.output()}`);
    } finally {
      await last.kill('SIGTERM');
    }
    runs.push({ child: last, worker: serveWorker(last.pid), after: await escalatedSoFar() });

    // Every incident: created, at most one warning, one missed L1 acknowledge target, one
    // escalation to L2; seq 1..n; projection at L2 with the last seq; one outbox row per event.
    const outcome = await readOutcome(probe);
    expect(outcome.incidents.size).toBe(INCIDENTS);
    expect(problemsWith(outcome)).toEqual([]);
    const escalated = escalations(outcome);
    expect(escalated).toHaveLength(INCIDENTS);

    // Each escalation names the deadline it was for, and came no earlier.
    const dueOf = new Map(ids.map((id, i) => [id, createdAt[i]! + ACKNOWLEDGE_MS]));
    const early = escalated.filter((e) => e.dueAt !== dueOf.get(e.incidentId) || e.at < e.dueAt);
    expect(early.slice(0, 5), 'escalations with a wrong dueAt or applied before it').toEqual([]);

    // Each process applied exactly the escalations committed while it ran: nothing applied twice.
    const byWorker = tally(escalated, (e) => e.worker ?? '(none)');
    const expectedByWorker = Object.fromEntries(runs.map((r, i) => [r.worker, r.after - (runs[i - 1]?.after ?? 0)]));
    console.log(
      `[crash/${engine}] startup ${startupMs} ms, seeding ${seedMs} ms, deadlines over ${Math.round(windowMs)} ms; ` +
        `escalated before kill 1: ${first}, before kill 2: ${second}, total ${INCIDENTS}; by process ${JSON.stringify(byWorker)}; ` +
        `${Date.now() - began} ms in all`,
    );
    expect(byWorker).toEqual(expectedByWorker);

    // Deadline order: no incident due later was escalated in an earlier transaction than one
    // due earlier that was still waiting. (Transactions are told apart by their instant, `at`.)
    const inOrder = [...escalated].sort((a, b) => a.dueAt - b.dueAt);
    const inversions: string[] = [];
    let latest = { at: -Infinity, incidentId: 0, dueAt: 0 };
    for (const e of inOrder) {
      if (e.at < latest.at)
        inversions.push(
          `incident ${e.incidentId} (due ${e.dueAt}) escalated at ${e.at}, before incident ${latest.incidentId} (due ${latest.dueAt}) at ${latest.at}`,
        );
      if (e.at > latest.at) latest = e;
    }
    expect(inversions.slice(0, 5), `${inversions.length} escalations out of deadline order`).toEqual([]);
  }, 240_000);
});
