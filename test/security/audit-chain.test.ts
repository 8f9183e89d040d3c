import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentEvent } from '../../src/domain/incident.js';
import { verifyAuditChains } from '../../src/services/audit.service.js';
import { openStore, type Store } from '../../src/store/database.js';
import { eventHash, GENESIS } from '../../src/store/event-chain.js';
import { eventFromRow } from '../../src/store/incident.repository.js';
import { migrateTo, migrateToLatest } from '../../src/store/migrate.js';
import { ENGINES, freshDatabase, type EngineName } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Runs `palier audit verify` from source against the test's database. */
function auditVerify(t: TestServer): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent', ...databaseEnv(t) };
  if (!env.DATABASE_URL) delete env.DATABASE_URL;
  return new Promise((done) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'audit', 'verify'],
      { cwd: ROOT, env, timeout: 50_000 },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    ),
  );
}

const databases = new WeakMap<TestServer, { PALIER_DB?: string; DATABASE_URL?: string }>();
const databaseEnv = (t: TestServer) => databases.get(t)!;

/** Lifts the append-only trigger, as someone with direct database access could. */
async function tamper(store: Store, change: (db: Store['db']) => Promise<unknown>) {
  if (store.engine === 'postgres') {
    await sql`alter table incident_events disable trigger incident_events_no_update`.execute(store.db);
    await change(store.db);
    await sql`alter table incident_events enable trigger incident_events_no_update`.execute(store.db);
  } else {
    await sql`drop trigger incident_events_no_update`.execute(store.db);
    await sql`drop trigger incident_events_no_delete`.execute(store.db);
    await change(store.db);
    await sql`create trigger incident_events_no_update before update on incident_events
      begin select raise(abort, 'incident_events is append-only'); end`.execute(store.db);
    await sql`create trigger incident_events_no_delete before delete on incident_events
      begin select raise(abort, 'incident_events is append-only'); end`.execute(store.db);
  }
}

describe.each(ENGINES)('tamper-evident audit on %s', (engine: EngineName) => {
  let t: TestServer;
  let requester: TestUser;
  let agent: TestUser;
  const ids: number[] = [];

  beforeAll(async () => {
    t = await startServer(engine);
    const c = t.palier.services.store.engine === 'sqlite' ? { PALIER_DB: (await dbPath(t))! } : { DATABASE_URL: await dbUrl(t) };
    databases.set(t, c);
    requester = await t.user('requester');
    agent = await t.user('agent', { tiers: ['L1', 'L2'] });
    for (let i = 0; i < 4; i++) {
      const res = await t.api('POST', '/api/v1/incidents', {
        as: requester,
        body: { title: `Printer ${i}`, description: 'Jams', category: 'network-downtime', impact: 2, urgency: 2 },
      });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    // A few events on each, so chains are longer than one link.
    for (const id of ids) {
      expect((await t.api('POST', `/api/v1/incidents/${id}/acknowledge`, { as: agent })).status).toBe(200);
      expect(
        (await t.api('POST', `/api/v1/incidents/${id}/comments`, { as: requester, body: { body: 'Still jammed' } })).status,
      ).toBe(201);
      expect((await t.api('POST', `/api/v1/incidents/${id}/escalate`, { as: agent, body: { reason: 'Needs L2' } })).status).toBe(
        200,
      );
    }
  }, 60_000);
  afterAll(async () => t?.close());

  it('stores on every event the hash of its content chained to the previous event', async () => {
    const rows = await t.palier.services.store.db
      .selectFrom('incident_events')
      .selectAll()
      .where('incident_id', '=', ids[0]!)
      .orderBy('seq')
      .execute();
    expect(rows.length).toBeGreaterThanOrEqual(4);
    let previous = GENESIS;
    for (const row of rows) {
      expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(row.hash).toBe(eventHash(eventFromRow(row), previous));
      previous = row.hash;
    }
    // The same event after another predecessor hashes differently: the chain binds the order.
    const first = eventFromRow(rows[0]!);
    expect(eventHash(first, 'x')).not.toBe(rows[0]!.hash);
  });

  it('verifies a clean database, in process and with `palier audit verify`', async () => {
    const report = await verifyAuditChains(t.palier.services.store);
    expect(report.broken).toBeNull();
    expect(report.incidents).toBe(4);
    expect(report.events).toBe(await t.count('incident_events'));
    const run = await auditVerify(t);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Audit chains verified: 4 incidents, ${report.events} events`);
  }, 60_000);

  it('reports a rewritten event at its own link, and exits non-zero', async () => {
    const store = t.palier.services.store;
    const where = (db: Store['db']) => db.updateTable('incident_events').where('incident_id', '=', ids[1]!).where('seq', '=', 3);
    const original = await store.db
      .selectFrom('incident_events')
      .select('data')
      .where('incident_id', '=', ids[1]!)
      .where('seq', '=', 3)
      .executeTakeFirstOrThrow();
    await tamper(store, (db) => where(db).set({ data: '{"body":"Fixed by itself"}' }).execute());
    const report = await verifyAuditChains(store);
    expect(report.broken).toEqual({ incidentId: ids[1], seq: 3, reason: 'hash_mismatch' });
    const run = await auditVerify(t);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Broken audit chain: incident ${ids[1]}, event 3 (hash mismatch)`);
    // Put back word for word, the chain holds again: the hash covers the content, nothing else.
    await tamper(store, (db) => where(db).set({ data: original.data }).execute());
    expect((await verifyAuditChains(store)).broken).toBeNull();
  }, 60_000);

  it('reports the next link when the rewritten event was given a fresh hash of its own', async () => {
    const store = t.palier.services.store;
    const rows = await store.db
      .selectFrom('incident_events')
      .selectAll()
      .where('incident_id', '=', ids[2]!)
      .orderBy('seq')
      .execute();
    const forged: IncidentEvent = { ...eventFromRow(rows[1]!), actorId: requester.id };
    const where = (db: Store['db']) => db.updateTable('incident_events').where('incident_id', '=', ids[2]!).where('seq', '=', 2);
    await tamper(store, (db) =>
      where(db)
        .set({ actor_id: requester.id, hash: eventHash(forged, rows[0]!.hash) })
        .execute(),
    );
    expect((await verifyAuditChains(store)).broken).toEqual({ incidentId: ids[2], seq: 3, reason: 'hash_mismatch' });
    await tamper(store, (db) => where(db).set({ actor_id: rows[1]!.actor_id, hash: rows[1]!.hash }).execute());
    expect((await verifyAuditChains(store)).broken).toBeNull();
  });

  it('reports removed events: a gap, and a lost tail', async () => {
    const store = t.palier.services.store;
    await tamper(store, (db) => db.deleteFrom('incident_events').where('incident_id', 'in', [ids[1]!, ids[2]!]).execute());
    // With ids[1] and ids[2] gone entirely, their projections still claim events: lost tails.
    expect((await verifyAuditChains(store)).broken).toEqual({ incidentId: ids[1], seq: 1, reason: 'events_missing_at_end' });
    await tamper(store, (db) =>
      db.deleteFrom('incident_events').where('incident_id', '=', ids[0]!).where('seq', '=', 2).execute(),
    );
    expect((await verifyAuditChains(store)).broken).toEqual({ incidentId: ids[0], seq: 2, reason: 'missing_event' });
  });
});

async function dbPath(t: TestServer): Promise<string | undefined> {
  const row = await sql<{ file: string }>`select file from pragma_database_list where name = 'main'`.execute(
    t.palier.services.store.db,
  );
  return row.rows[0]?.file;
}
async function dbUrl(t: TestServer): Promise<string> {
  const row = await sql<{ db: string }>`select current_database() as db`.execute(t.palier.services.store.db);
  const url = new URL(process.env.PALIER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  url.pathname = `/${row.rows[0]!.db}`;
  return url.toString();
}

describe.each(ENGINES)('migration 0006 on %s', (engine: EngineName) => {
  it('chains the events stored before it, and they verify', async () => {
    const fresh = await freshDatabase(engine);
    const store = openStore(fresh.config);
    try {
      await migrateTo(store, '0005_report_figures');
      const db = store.db;
      const user = await db
        .insertInto('users')
        .values({
          email: 'old@example.test',
          password_hash: null,
          role: 'requester',
          display_name: 'Old',
          locale: 'fr',
          tiers: '[]',
          created_at: 1,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await db
        .insertInto('matrix_versions')
        .values({ version: 1, definition: '{}', created_at: 1, created_by: null, comment: null })
        .execute();
      for (let n = 0; n < 2; n++) {
        const inc = await db
          .insertInto('incidents')
          .values({
            title: 'Old',
            description: '',
            category: 'c',
            impact: 3,
            urgency: 3,
            priority: 'P5',
            requester_id: user.id,
            assignee_id: null,
            tier: 'L1',
            status: 'new',
            is_open: 1,
            pending_reason: null,
            matrix_version: 1,
            checklist: '{}',
            reopen_count: 0,
            escalation_count: 0,
            resolution: null,
            tier_entered_at: 1,
            created_at: 1,
            updated_at: 1,
            acknowledged_at: null,
            resolved_at: null,
            closed_at: null,
            seq: 3,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        for (let seq = 1; seq <= 3; seq++)
          await sql`insert into incident_events (incident_id, seq, at, actor_id, kind, from_tier, to_tier, data)
            values (${inc.id}, ${seq}, ${1000 + seq}, null, 'commented', 'L1', 'L1', ${JSON.stringify({ body: `note ${seq}`, n })})`.execute(
            db,
          );
      }
      await migrateToLatest(store);
      const report = await verifyAuditChains(store);
      expect(report).toEqual({ incidents: 2, events: 6, broken: null });
      // The trigger is back in place after the backfill.
      await expect(db.updateTable('incident_events').set({ hash: 'x' }).execute()).rejects.toThrow(/append-only/);
    } finally {
      await store.close();
      await fresh.drop();
    }
  });
});
