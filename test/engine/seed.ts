/**
 * Shared pieces of the engine acceptance tests: preparing a database with short SLA targets,
 * seeding incidents at chosen instants, running the real `palier` command as a child process, and
 * checking the stored timelines once the workers are done.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { DatabaseConfig } from '../../src/config.js';
import type { Clock } from '../../src/domain/clock.js';
import { nextWakeUp } from '../../src/domain/escalation.js';
import { apply, decideCreate, type Incident, type IncidentEvent } from '../../src/domain/incident.js';
import type { Matrix } from '../../src/domain/matrix.js';
import type { Actor } from '../../src/domain/policy.js';
import { SEED_MATRIX } from '../../src/domain/seed-matrix.js';
import { addUser } from '../../src/services/auth.service.js';
import { createServices, type Services } from '../../src/services/context.js';
import { createIncident } from '../../src/services/incident.service.js';
import { ensureSeedMatrix, saveMatrix } from '../../src/services/matrix.service.js';
import { openStore, type Store } from '../../src/store/database.js';
import { NOTIFIED_EVENTS } from '../../src/store/escalation.repository.js';
import { eventFromRow } from '../../src/store/incident.repository.js';
import { migrateToLatest } from '../../src/store/migrate.js';

export const ROOT = resolve(import.meta.dirname, '../..');

/** The clock the seeding services read: set `t` before each creation. */
export interface ManualClock extends Clock {
  t: number;
}

export function manualClock(t = Date.now()): ManualClock {
  const clock = { t, now: () => clock.t };
  return clock;
}

export interface Prepared {
  store: Store;
  services: Services;
  clock: ManualClock;
  requester: Actor;
  matrix: Matrix;
}

/**
 * Migrates a fresh database, loads the default matrix, then stores a version in which P5 at L1 must
 * be acknowledged within `l1Acknowledge` on the 24x7 calendar and P5 at L2 has long targets, so
 * that an unacknowledged P5 incident escalates exactly once (L1 to L2) during the test.
 */
export async function prepareDatabase(config: DatabaseConfig, l1Acknowledge = 'PT1S', l2Targets = 'PT10H'): Promise<Prepared> {
  const store = openStore(config);
  try {
    await migrateToLatest(store);
    const clock = manualClock();
    const services = createServices(store, clock);
    await ensureSeedMatrix(services);
    const definition = structuredClone(SEED_MATRIX);
    for (const target of definition.sla) {
      if (target.priority !== 'P5') continue;
      if (target.tier === 'L1') Object.assign(target, { acknowledge: l1Acknowledge, resolve: 'PT1H', calendar: '24x7' });
      if (target.tier === 'L2') Object.assign(target, { acknowledge: l2Targets, resolve: l2Targets, calendar: '24x7' });
    }
    const matrix = await saveMatrix(services, null, definition, { comment: `P5 at L1: acknowledge within ${l1Acknowledge}` });
    const user = await addUser(services, { email: `requester-${Date.now()}@example.test`, role: 'requester' });
    return { store, services, clock, requester: { id: user.id, role: user.role, tiers: [] }, matrix };
  } catch (error) {
    await store.close();
    throw error;
  }
}

const P5_INPUT = {
  title: 'Printer driver will not install',
  description: 'The installer stops at 40 % with error 0x80070643',
  category: 'software-installation-failure',
  impact: 3,
  urgency: 3,
} as const;

/**
 * Creates one P5 incident per instant through the real use case (createIncident), each with its
 * creation time set to that instant; `concurrency` transactions run at once. Returns the ids in
 * the order of `instants`.
 */
export async function createIncidentsAt(p: Prepared, instants: number[], concurrency = 1): Promise<number[]> {
  const ids: number[] = new Array(instants.length);
  let next = 0;
  const lane = async () => {
    for (;;) {
      const i = next++;
      if (i >= instants.length) return;
      // Each creation reads its own clock, so concurrent creations do not share an instant by accident.
      const at = instants[i]!;
      const s: Services = { ...p.services, clock: { now: () => at } };
      ids[i] = (await createIncident(s, p.requester, { ...P5_INPUT, title: `${P5_INPUT.title} #${i}` })).id;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  return ids;
}

/**
 * Creates `count` P5 incidents all at instant `at`, `batchSize` per transaction and `lanes`
 * transactions at once, with the same domain functions and repository calls as createIncident
 * (decideCreate + apply, insert, appendEvents, setWakeUps, enqueue), batched.
 */
export async function bulkCreateIncidents(p: Prepared, count: number, at: number, batchSize = 500, lanes = 4): Promise<void> {
  const s = p.services;
  const matrix = p.matrix;
  let next = 0;
  const lane = async () => {
    for (;;) {
      const start = next;
      next += batchSize;
      if (start >= count) return;
      const n = Math.min(batchSize, count - start);
      await s.store.db.transaction().execute(async (trx) => {
        const events: IncidentEvent[] = [];
        const wakeUps: Array<{ incidentId: number; dueAt: number | null }> = [];
        for (let k = 0; k < n; k++) {
          const change = decideCreate(
            { ...P5_INPUT, title: `${P5_INPUT.title} #${start + k}`, requesterId: p.requester.id },
            matrix,
          );
          const draft = apply(undefined, { ...change, incidentId: 0, seq: 1, at, actorId: p.requester.id });
          const id = await s.incidents.insert(trx, draft);
          const created: IncidentEvent = { ...change, incidentId: id, seq: 1, at, actorId: p.requester.id };
          events.push(created);
          wakeUps.push({ incidentId: id, dueAt: nextWakeUp({ ...draft, id }, [created], matrix, at) });
        }
        await s.incidents.appendEvents(trx, events);
        await s.escalations.setWakeUps(trx, wakeUps);
        await s.escalations.enqueue(trx, events, at);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, lanes) }, lane));
}

/** Polls `probe` until it returns a value other than undefined, at most `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** How many `escalated` events are stored. */
export async function countEscalated(store: Store): Promise<number> {
  const row = await store.db
    .selectFrom('incident_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('kind', '=', 'escalated')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

// ---------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------

/** The environment of a `palier` child: only the given database, nothing inherited that points elsewhere. */
export function palierEnv(config: DatabaseConfig, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    PALIER_WORKER: 'on',
    PALIER_WORKER_POLL_MS: '50',
    ...extra,
  };
  delete env.DATABASE_URL;
  delete env.PALIER_DB;
  if (config.engine === 'sqlite') env.PALIER_DB = config.path;
  else env.DATABASE_URL = config.url;
  return env;
}

export interface PalierChild {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly label: string;
  /** Everything the child wrote so far (stdout and stderr interleaved), for failure messages. */
  output(): string;
  /** Resolves when the child has exited, with its exit code or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when a line of output matches, rejects if the child exits first or time runs out. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  /** SIGKILL (or the given signal), then waits for the exit, bounded. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const living = new Set<PalierChild>();

/** Starts `palier <args>` from source, as `node --import tsx src/cli/main.ts`. */
export function startPalier(args: string[], env: NodeJS.ProcessEnv, label = args.join(' ')): PalierChild {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start palier ${args.join(' ')}`);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.once('exit', (code, signal) => {
      done = true;
      living.delete(handle);
      for (const l of listeners) l();
      resolveExit({ code, signal });
    });
  });
  const handle: PalierChild = {
    process: child,
    pid: child.pid,
    label,
    output: () => out,
    exited,
    waitForOutput(pattern, timeoutMs) {
      return new Promise((resolveWait, rejectWait) => {
        const check = () => {
          if (pattern.test(out)) finish();
          else if (done) finish(new Error(`${label} exited before printing ${pattern}:\n${out}`));
        };
        const timer = setTimeout(
          () => finish(new Error(`${label} did not print ${pattern} within ${timeoutMs} ms:\n${out}`)),
          timeoutMs,
        );
        const finish = (error?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) rejectWait(error);
          else resolveWait();
        };
        listeners.add(check);
        check();
      });
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (!done) child.kill(signal);
      const bounded = await Promise.race([exited, sleep(10_000).then(() => 'timeout' as const)]);
      if (bounded === 'timeout') {
        child.kill('SIGKILL');
        await Promise.race([exited, sleep(5_000)]);
      }
    },
  };
  living.add(handle);
  return handle;
}

/** Kills every child these helpers started that is still running (for afterAll and finally blocks). */
export async function killAllChildren(): Promise<void> {
  await Promise.all([...living].map((c) => c.kill('SIGKILL')));
}

/** How long a `palier` child takes to start on this machine right now, measured with `palier migrate` (a no-op here). */
export async function measureStartup(config: DatabaseConfig): Promise<number> {
  const started = Date.now();
  const child = startPalier(['migrate'], palierEnv(config), 'palier migrate');
  const result = await Promise.race([child.exited, sleep(60_000).then(() => undefined)]);
  if (!result) {
    await child.kill();
    throw new Error(`palier migrate did not finish within 60 s:\n${child.output()}`);
  }
  if (result.code !== 0) throw new Error(`palier migrate failed (${result.code ?? result.signal}):\n${child.output()}`);
  return Date.now() - started;
}

// ---------------------------------------------------------------------------------------------
// Checking the outcome
// ---------------------------------------------------------------------------------------------

export type IncidentRowView = Pick<Incident, 'id' | 'tier' | 'seq' | 'status'>;

export interface Outcome {
  incidents: Map<number, IncidentRowView>;
  events: Map<number, IncidentEvent[]>;
  outbox: Array<{ idempotency_key: string; incident_id: number | null; event_seq: number | null; topic: string }>;
}

/** Reads every incident, event and outbox row. */
export async function readOutcome(store: Store): Promise<Outcome> {
  const incidentRows = await store.db.selectFrom('incidents').select(['id', 'tier', 'seq', 'status']).orderBy('id').execute();
  const incidents = new Map<number, IncidentRowView>(
    incidentRows.map((r) => [
      Number(r.id),
      { id: Number(r.id), tier: r.tier, seq: r.seq, status: r.status as Incident['status'] },
    ]),
  );
  const events = new Map<number, IncidentEvent[]>([...incidents.keys()].map((id) => [id, []]));
  const rows = await store.db.selectFrom('incident_events').selectAll().orderBy('incident_id').orderBy('seq').execute();
  for (const r of rows) {
    const e = eventFromRow(r);
    let list = events.get(e.incidentId);
    if (!list) events.set(e.incidentId, (list = []));
    list.push(e);
  }
  const outbox = (
    await store.db.selectFrom('outbox').select(['idempotency_key', 'incident_id', 'event_seq', 'topic']).execute()
  ).map((r) => ({
    ...r,
    incident_id: r.incident_id == null ? null : Number(r.incident_id),
  }));
  return { incidents, events, outbox };
}

/**
 * Checks that every incident escalated exactly once from L1 to L2 for its missed L1 acknowledge
 * target, with a gap-free timeline, a projection that agrees with it, and exactly one outbox row per
 * notified event. Returns the problems found (at most `limit`), empty when all is well.
 */
export function problemsWith(o: Outcome, limit = 20): string[] {
  const problems: string[] = [];
  const report = (msg: string) => {
    if (problems.length < limit) problems.push(msg);
  };
  for (const [id, incident] of o.incidents) {
    const events = o.events.get(id) ?? [];
    events.forEach((e, i) => {
      if (e.seq !== i + 1) report(`incident ${id}: event #${i} has seq ${e.seq}, expected ${i + 1}`);
    });
    const kinds = events.map((e) => e.kind);
    const of = (kind: string) => events.filter((e) => e.kind === kind);
    const clockOf = (e: IncidentEvent) => (e.data as { clock?: string }).clock;
    if (kinds[0] !== 'created') report(`incident ${id}: first event is ${kinds[0]}`);
    if (of('escalated').length !== 1) report(`incident ${id}: ${of('escalated').length} escalated events (${kinds.join(', ')})`);
    const missed = of('deadline_missed');
    if (missed.length !== 1 || clockOf(missed[0]!) !== 'L1@1:acknowledge')
      report(
        `incident ${id}: deadline_missed events ${JSON.stringify(missed.map(clockOf))}, expected exactly one for L1@1:acknowledge`,
      );
    const warnings = of('deadline_warning');
    if (warnings.length > 1 || warnings.some((w) => clockOf(w) !== 'L1@1:acknowledge'))
      report(
        `incident ${id}: deadline_warning events ${JSON.stringify(warnings.map(clockOf))}, expected at most one for L1@1:acknowledge`,
      );
    const unexpected = kinds.filter((k) => !['created', 'deadline_warning', 'deadline_missed', 'escalated'].includes(k));
    if (unexpected.length) report(`incident ${id}: unexpected events ${unexpected.join(', ')}`);
    const escalated = of('escalated')[0];
    if (escalated && (escalated.fromTier !== 'L1' || escalated.toTier !== 'L2'))
      report(`incident ${id}: escalated ${escalated.fromTier} -> ${escalated.toTier}, expected L1 -> L2`);
    if (incident.tier !== 'L2') report(`incident ${id}: projection tier ${incident.tier}, expected L2`);
    const last = events.at(-1);
    if (!last || incident.seq !== last.seq) report(`incident ${id}: projection seq ${incident.seq}, last event seq ${last?.seq}`);
  }
  for (const id of o.events.keys()) if (!o.incidents.has(id)) report(`events for unknown incident ${id}`);
  for (const p of outboxProblems(o, limit)) report(p);
  return problems;
}

/** One outbox row per notified event, none without its event, none twice. Returns the problems found. */
export function outboxProblems(o: Outcome, limit = 20): string[] {
  const problems: string[] = [];
  const report = (msg: string) => {
    if (problems.length < limit) problems.push(msg);
  };
  const expected = new Map<string, string>();
  for (const events of o.events.values())
    for (const e of events) if (NOTIFIED_EVENTS.has(e.kind)) expected.set(`incident:${e.incidentId}:event:${e.seq}`, e.kind);
  const seen = new Set<string>();
  for (const row of o.outbox) {
    if (seen.has(row.idempotency_key)) report(`outbox row ${row.idempotency_key} twice`);
    seen.add(row.idempotency_key);
    const kind = expected.get(row.idempotency_key);
    if (kind === undefined) report(`outbox row ${row.idempotency_key} (${row.topic}) has no notified event`);
    else if (kind !== row.topic || row.idempotency_key !== `incident:${row.incident_id}:event:${row.event_seq}`)
      report(
        `outbox row ${row.idempotency_key} is ${row.topic} for incident ${row.incident_id} seq ${row.event_seq}, event is ${kind}`,
      );
  }
  for (const key of expected.keys()) if (!seen.has(key)) report(`no outbox row for ${key} (${expected.get(key)})`);
  return problems;
}

/** The escalated event of each incident. */
export function escalations(o: Outcome): Array<{ incidentId: number; at: number; dueAt: number; worker: string | undefined }> {
  const out = [];
  for (const events of o.events.values())
    for (const e of events)
      if (e.kind === 'escalated') {
        const missed = (e.data as { missed?: { dueAt: number; worker?: string } }).missed;
        out.push({ incidentId: e.incidentId, at: e.at, dueAt: missed?.dueAt ?? NaN, worker: missed?.worker });
      }
  return out;
}

/** Counts by key, in a plain object (for messages and console output). */
export function tally<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
