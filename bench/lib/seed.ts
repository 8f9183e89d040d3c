import { sql, type Insertable, type Kysely } from 'kysely';
import {
  project,
  STATUSES,
  type IncidentChange,
  type IncidentEvent,
  type IncidentStatus,
} from '../../src/domain/incident.js';
import { DEFAULT_PRIORITY_TABLE, priorityOf, type Level } from '../../src/domain/priority.js';
import { addUser } from '../../src/services/auth.service.js';
import type { Services } from '../../src/services/context.js';
import { chainedEventRows, toRow } from '../../src/store/incident.repository.js';
import type { Database, IncidentEventsTable, IncidentsTable } from '../../src/store/schema.js';

/** Small deterministic PRNG (mulberry32), so two runs seed the same data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SeedOptions {
  count: number;
  /** Incidents per transaction; SQLite ~500 (bound-variable limit), PostgreSQL ~1000. */
  batchSize: number;
  /** Largest number of rows in one INSERT statement (events are chunked to this). */
  maxRowsPerStatement: number;
  now: number;
  seed?: number;
}

export interface SeedResult {
  incidents: number;
  events: number;
  users: number;
  ms: number;
  /** Part of `ms` spent generating rows in JS (the rest is users, SQL building and the database). */
  buildMs: number;
  /** How many incidents each (tier, status) pair got (kept in the JSON details). */
  byTierStatus: Record<string, number>;
}

const DAY = 86_400_000;
const STATUS_RANK: Record<IncidentStatus, number> = {
  new: 0,
  acknowledged: 1,
  in_progress: 2,
  pending: 3,
  resolved: 4,
  closed: 5,
};
const MINUTE = 60_000;

/**
 * Pre-fills incidents through direct bulk inserts. Each incident gets a plausible history
 * (created, then acknowledged + escalated once per tier climbed, then the steps to its status),
 * and its row is the domain's own fold of those events, so it is consistent with the schema:
 * matrix_version of the current matrix, seq = number of events, tier_entered_at, checklist '{}'…
 */
export async function seedIncidents(services: Services, options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const db = services.store.db;
  const matrix = await services.matrices.current();
  if (!matrix) throw new Error('no matrix: createPalier should have seeded one');
  const tiers = matrix.tiers.map((t) => t.key);
  const categories = matrix.categories.map((c) => c.key);
  const table = matrix.priorityTable ?? DEFAULT_PRIORITY_TABLE;

  // One agent per tier (they acknowledge and work the incidents) and a few requesters, no passwords (no hashing).
  const agents: number[] = [];
  for (const tier of tiers)
    agents.push(
      (await addUser(services, { email: `seed-agent-${tier.toLowerCase()}@bench.test`, role: 'agent', tiers: [tier] })).id,
    );
  const requesters: number[] = [];
  for (let i = 0; i < 20; i++)
    requesters.push((await addUser(services, { email: `seed-requester-${i}@bench.test`, role: 'requester' })).id);

  const random = rng(options.seed ?? 20240601);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const level = () => (1 + Math.floor(random() * 3)) as Level;
  const byTierStatus: Record<string, number> = {};
  let eventCount = 0;

  const build = (id: number) => {
    const category = pick(categories);
    const tierIndex = Math.floor(random() * tiers.length);
    const status = pick(STATUSES);
    const impact = level();
    const urgency = level();
    // Created within the last 90 days, at least a day ago so every later event is in the past.
    let at = options.now - DAY - Math.floor(random() * 89 * DAY);
    const events: IncidentEvent[] = [];
    const push = (change: IncidentChange, actorId: number | null, fromTier: string | null, toTier: string | null) => {
      events.push({ ...change, incidentId: id, seq: events.length + 1, at, actorId, fromTier, toTier } as IncidentEvent);
      at += MINUTE + Math.floor(random() * 30 * MINUTE);
    };
    const requesterId = pick(requesters);
    push(
      {
        kind: 'created',
        data: {
          title: `Bench incident ${id}`,
          description: `Seeded by bench/lib/seed.ts for the ${category} category.`,
          category,
          impact,
          urgency,
          priority: priorityOf(table, impact, urgency),
          requesterId,
          tier: tiers[0]!,
          matrixVersion: matrix.version,
        },
      },
      requesterId,
      null,
      tiers[0]!,
    );
    for (let k = 1; k <= tierIndex; k++) {
      const here = tiers[k - 1]!;
      push({ kind: 'acknowledged', data: { assigneeId: agents[k - 1]! } }, agents[k - 1]!, here, here);
      push(
        { kind: 'escalated', data: { reason: 'Needs the next tier (bench seed)', automatic: false } },
        agents[k - 1]!,
        here,
        tiers[k]!,
      );
    }
    const tier = tiers[tierIndex]!;
    const agent = agents[tierIndex]!;
    const rank = STATUS_RANK[status];
    // new < acknowledged < in_progress < pending | resolved < closed: each status has the steps of the ones before.
    if (rank >= 1) push({ kind: 'acknowledged', data: { assigneeId: agent } }, agent, tier, tier);
    if (rank >= 2) push({ kind: 'work_started', data: { assigneeId: agent } }, agent, tier, tier);
    if (status === 'pending')
      push({ kind: 'pended', data: { reason: 'requester', note: 'Waiting for the requester (bench seed)' } }, agent, tier, tier);
    if (rank >= 4) push({ kind: 'resolved', data: { resolution: 'Fixed (bench seed)' } }, agent, tier, tier);
    if (status === 'closed') push({ kind: 'closed', data: {} }, requesterId, tier, tier);
    const incident = project(events)!;
    if (incident.status !== status || incident.tier !== tier || incident.seq !== events.length)
      throw new Error(`seed: incident ${id} folded to ${incident.tier}/${incident.status}, expected ${tier}/${status}`);
    byTierStatus[`${tier}/${status}`] = (byTierStatus[`${tier}/${status}`] ?? 0) + 1;
    eventCount += events.length;

    const row: Insertable<IncidentsTable> = { id, ...toRow(incident) };
    const eventRows: Array<Insertable<IncidentEventsTable>> = chainedEventRows(events);
    return { row, eventRows };
  };

  const first = (await maxIncidentId(db)) + 1;
  let buildMs = 0;
  // One transaction per batch. While PostgreSQL writes a batch, the next one is generated here
  // (with SQLite the driver is synchronous, so this changes nothing there).
  let writing: Promise<void> | undefined;
  for (let start = 0; start < options.count; start += options.batchSize) {
    const t0 = performance.now();
    const size = Math.min(options.batchSize, options.count - start);
    const built = Array.from({ length: size }, (_, i) => build(first + start + i));
    const rows = built.map((b) => b.row);
    const eventRows = built.flatMap((b) => b.eventRows);
    buildMs += performance.now() - t0;
    await writing;
    writing = db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += options.maxRowsPerStatement)
        await trx
          .insertInto('incidents')
          .values(rows.slice(i, i + options.maxRowsPerStatement))
          .execute();
      for (let i = 0; i < eventRows.length; i += options.maxRowsPerStatement)
        await trx
          .insertInto('incident_events')
          .values(eventRows.slice(i, i + options.maxRowsPerStatement))
          .execute();
    });
    writing.catch(() => {}); // awaited on the next turn or below; avoids an unhandled rejection meanwhile
  }
  await writing;

  if (services.store.engine === 'postgres') {
    // Explicit ids do not move the bigserial sequence: without this the first POST would collide with id 1.
    await sql`select setval(pg_get_serial_sequence('incidents', 'id'), (select max(id) from incidents))`.execute(db);
  }
  return {
    incidents: options.count,
    events: eventCount,
    users: agents.length + requesters.length,
    ms: performance.now() - started,
    buildMs,
    byTierStatus,
  };
}

async function maxIncidentId(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('incidents')
    .select((eb) => eb.fn.max('id').as('max'))
    .executeTakeFirst();
  return row?.max == null ? 0 : Number(row.max);
}

/** Cross-checks what was written: row counts, and seq equal to the number of events of each incident. */
export async function checkSeed(
  db: Kysely<Database>,
): Promise<{ incidents: number; events: number; seqSum: number; badSeq: number }> {
  const inc = await db
    .selectFrom('incidents')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('seq').as('seqSum')])
    .executeTakeFirstOrThrow();
  const ev = await db
    .selectFrom('incident_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const bad = await db
    .selectFrom('incidents as i')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where((eb) =>
      eb(
        'i.seq',
        '!=',
        eb
          .selectFrom('incident_events as e')
          .select((e2) => e2.fn.countAll<number>().as('c'))
          .whereRef('e.incident_id', '=', 'i.id'),
      ),
    )
    .executeTakeFirstOrThrow();
  return { incidents: Number(inc.n), events: Number(ev.n), seqSum: Number(inc.seqSum), badSeq: Number(bad.n) };
}
