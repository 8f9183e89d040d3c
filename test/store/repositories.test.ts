import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/domain/clock.js';
import { DomainError } from '../../src/domain/errors.js';
import type { Incident, IncidentEvent, IncidentStatus } from '../../src/domain/incident.js';
import type { Priority } from '../../src/domain/priority.js';
import { SEED_MATRIX } from '../../src/domain/seed-matrix.js';
import { createServices, type Services } from '../../src/services/context.js';
import { ensureSeedMatrix, saveMatrix } from '../../src/services/matrix.service.js';
import { openStore, type Store } from '../../src/store/database.js';
import { INCIDENT_SORTS, type IncidentFilter, type IncidentSort } from '../../src/store/incident.repository.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import type { NewUser, User } from '../../src/store/user.repository.js';
import { ENGINES, freshDatabase, type EngineName, type FreshDatabase } from '../helpers/engines.js';
import { seedCopy } from '../helpers/builders.js';

/** Instants past 2^31 ms and 2^32 s, so that a bigint read back as text or truncated shows. */
const T0 = 1_767_225_600_123;

class TestClock implements Clock {
  constructor(public t: number) {}
  now() {
    return this.t;
  }
}

interface Env {
  db: FreshDatabase;
  store: Store;
  s: Services;
  clock: TestClock;
  migrated: string[];
}

/** A fresh, migrated database with the services over it. */
function useFreshDatabase(engine: EngineName, seed: boolean) {
  const env = {} as Env;
  beforeAll(async () => {
    env.db = await freshDatabase(engine);
    env.store = openStore(env.db.config);
    env.migrated = await migrateToLatest(env.store);
    env.clock = new TestClock(T0);
    env.s = createServices(env.store, env.clock);
    if (seed) await ensureSeedMatrix(env.s);
  });
  afterAll(async () => {
    await env.store?.close();
    await env.db?.drop();
  });
  return env;
}

let emails = 0;
const newUser = (overrides: Partial<NewUser> = {}): NewUser => ({
  email: `user${++emails}@example.test`,
  passwordHash: null,
  role: 'requester',
  displayName: `User ${emails}`,
  locale: 'fr',
  tiers: [],
  ...overrides,
});

function incidentValues(overrides: Partial<Omit<Incident, 'id'>> & { requesterId: number }): Omit<Incident, 'id'> {
  return {
    title: 'VPN down',
    description: 'Nobody can connect',
    category: 'network-downtime',
    impact: 2,
    urgency: 2,
    priority: 'P3',
    assigneeId: null,
    tier: 'L1',
    status: 'new',
    pendingReason: null,
    matrixVersion: 1,
    checklist: {},
    reopenCount: 0,
    escalationCount: 0,
    resolution: null,
    tierEnteredAt: T0,
    createdAt: T0,
    updatedAt: T0,
    acknowledgedAt: null,
    resolvedAt: null,
    closedAt: null,
    vendorId: null,
    vendorTicket: null,
    vendorStatus: null,
    seq: 1,
    ...overrides,
  };
}

const NUMERIC_FIELDS = [
  'id',
  'impact',
  'urgency',
  'requesterId',
  'matrixVersion',
  'reopenCount',
  'escalationCount',
  'tierEnteredAt',
  'createdAt',
  'updatedAt',
  'seq',
] as const;

function expectNumbers(incident: Incident) {
  for (const field of NUMERIC_FIELDS) expect(typeof incident[field], field).toBe('number');
  for (const field of ['assigneeId', 'acknowledgedAt', 'resolvedAt', 'closedAt'] as const)
    if (incident[field] !== null) expect(typeof incident[field], field).toBe('number');
}

describe.each(ENGINES)('repositories on %s', (engine) => {
  const env = useFreshDatabase(engine, false);
  let requester: User;
  let agent: User;

  describe('migrations and matrices', () => {
    it('runs every migration once; a second run applies nothing', async () => {
      expect(env.migrated).toEqual(expect.arrayContaining(['0001_initial', '0002_escalation']));
      expect(env.migrated).toEqual([...env.migrated].sort());
      expect(await migrateToLatest(env.store)).toEqual([]);
      // The schema is there: an empty table can be read.
      expect(await env.store.db.selectFrom('incidents').selectAll().execute()).toEqual([]);
    });

    it('loads the seed matrix as version 1 exactly once, even when asked twice at the same time', async () => {
      expect(await env.s.matrices.latestVersion()).toBeUndefined();
      const other = createServices(env.store, env.clock);
      await Promise.all([ensureSeedMatrix(env.s), ensureSeedMatrix(other), ensureSeedMatrix(env.s)]);
      await ensureSeedMatrix(env.s);
      const rows = await env.store.db.selectFrom('matrix_versions').select(['version', 'comment']).execute();
      expect(rows).toEqual([{ version: 1, comment: 'Default matrix' }]);
      const v1 = await createServices(env.store, env.clock).matrices.get(1);
      const { version, createdAt, createdBy, comment, ...definition } = v1!;
      expect(version).toBe(1);
      expect(createdAt).toBe(new Date(T0).toISOString());
      expect(createdBy).toBeNull();
      expect(comment).toBe('Default matrix');
      expect(definition).toEqual(JSON.parse(JSON.stringify(SEED_MATRIX)));
    });

    it('stores an edited matrix as version 2 and keeps version 1 readable and unchanged', async () => {
      const edited = seedCopy();
      edited.cells[0]!.actions.push({ fr: 'Redémarrer le poste.', en: 'Restart the workstation.' });
      env.clock.t = T0 + 60_000;
      const v2 = await saveMatrix(env.s, null, edited, { baseVersion: 1, comment: 'Restart first' });
      expect(v2).toMatchObject({ version: 2, comment: 'Restart first', createdAt: new Date(T0 + 60_000).toISOString() });
      expect(v2.cells[0]!.actions).toHaveLength(2);

      // Read through a fresh repository, so nothing comes from a cache.
      const fresh = createServices(env.store, env.clock).matrices;
      expect(await fresh.latestVersion()).toBe(2);
      expect((await fresh.current())!.cells[0]!.actions).toEqual(edited.cells[0]!.actions);
      const v1 = await fresh.get(1);
      expect(v1!.cells).toEqual(SEED_MATRIX.cells);
      expect(v1!.cells[0]!.actions).toHaveLength(1);
      expect(v1!.comment).toBe('Default matrix');
      expect((await fresh.list()).map((v) => v.version)).toEqual([2, 1]);

      // An edit made on version 1 no longer applies.
      const stale = await saveMatrix(env.s, null, edited, { baseVersion: 1 }).catch((e: unknown) => e);
      expect(stale).toBeInstanceOf(DomainError);
      expect(stale).toMatchObject({ kind: 'conflict', code: 'version_conflict' });
      expect(await fresh.latestVersion()).toBe(2);
      env.clock.t = T0;
    });
  });

  describe('users and tokens', () => {
    it('inserts a user, with its e-mail lower-cased, and finds it by id and e-mail in any case', async () => {
      const alice = await env.s.users.insert(
        {
          email: 'Alice.Martin@Example.TEST',
          passwordHash: '$argon2id$fake',
          role: 'agent',
          displayName: 'Alice',
          locale: 'en',
          tiers: ['L1', 'L2'],
        },
        T0,
      );
      expect(alice).toEqual({
        id: expect.any(Number),
        email: 'alice.martin@example.test',
        role: 'agent',
        displayName: 'Alice',
        locale: 'en',
        tiers: ['L1', 'L2'],
        vendorId: null,
        disabled: false,
        createdAt: T0,
      });
      expect(await env.s.users.byEmail('ALICE.MARTIN@example.test')).toEqual({ ...alice, passwordHash: '$argon2id$fake' });
      expect(await env.s.users.byEmail('alice.martin@example.test')).toEqual({ ...alice, passwordHash: '$argon2id$fake' });
      expect(await env.s.users.byEmail('bob@example.test')).toBeUndefined();
      expect(await env.s.users.byId(alice.id)).toEqual(alice);
      agent = alice;
      requester = await env.s.users.insert(newUser(), T0);
    });

    it('refuses a second user with the same e-mail, whatever its case', async () => {
      await expect(env.s.users.insert(newUser({ email: 'alice.martin@example.test' }), T0)).rejects.toThrow();
      await expect(env.s.users.insert(newUser({ email: 'ALICE.MARTIN@EXAMPLE.TEST' }), T0)).rejects.toThrow();
      const rows = await env.store.db.selectFrom('users').select('id').where('email', '=', 'alice.martin@example.test').execute();
      expect(rows).toHaveLength(1);
    });

    it('maps a live token to its actor', async () => {
      await env.s.users.insertToken(agent.id, 'hash-live', 'api', T0, null);
      await env.s.users.insertToken(agent.id, 'hash-session', 'session', T0, T0 + 1_000);
      expect(await env.s.users.actorForToken('hash-live', T0 + 10 * 365 * 86_400_000)).toEqual({
        id: agent.id,
        role: 'agent',
        tiers: ['L1', 'L2'],
        vendorId: null,
        tokenKind: 'api',
        expiresAt: null,
      });
      expect(await env.s.users.actorForToken('hash-session', T0 + 999)).toMatchObject({
        id: agent.id,
        tokenKind: 'session',
        expiresAt: T0 + 1_000,
      });
      expect(await env.s.users.actorForToken('hash-unknown', T0)).toBeUndefined();
    });

    it('refuses an expired token, from its expiry instant on', async () => {
      expect(await env.s.users.actorForToken('hash-session', T0 + 1_000)).toBeUndefined();
      expect(await env.s.users.actorForToken('hash-session', T0 + 5_000)).toBeUndefined();
    });

    it('refuses a revoked token', async () => {
      await env.s.users.insertToken(agent.id, 'hash-revoked', 'api', T0, null);
      expect(await env.s.users.actorForToken('hash-revoked', T0)).toBeDefined();
      await env.s.users.revokeToken('hash-revoked', T0 + 1);
      expect(await env.s.users.actorForToken('hash-revoked', T0 + 2)).toBeUndefined();
      expect(await env.s.users.actorForToken('hash-live', T0 + 2)).toBeDefined();
    });

    it('refuses the token of a disabled user', async () => {
      const bob = await env.s.users.insert(newUser({ role: 'manager' }), T0);
      await env.s.users.insertToken(bob.id, 'hash-bob', 'api', T0, null);
      expect(await env.s.users.actorForToken('hash-bob', T0)).toMatchObject({ id: bob.id, role: 'manager', tiers: [] });
      await env.store.db
        .updateTable('users')
        .set({ disabled_at: T0 + 5 })
        .where('id', '=', bob.id)
        .execute();
      expect(await env.s.users.actorForToken('hash-bob', T0 + 6)).toBeUndefined();
      expect((await env.s.users.byId(bob.id))!.disabled).toBe(true);
    });
  });

  describe('incidents', () => {
    let full: Omit<Incident, 'id'>;
    let fullId: number;

    it('round-trips every field of an incident', async () => {
      full = incidentValues({
        title: 'Imprimante « Brother » en panne',
        description: 'Ligne 1\nLigne 2 : 100 % _bloqué_ ’quotes’ "double" \\ backslash',
        category: 'software-installation-failure',
        impact: 1,
        urgency: 3,
        priority: 'P3',
        requesterId: requester.id,
        assigneeId: agent.id,
        tier: 'L2',
        status: 'pending',
        pendingReason: 'vendor',
        matrixVersion: 2,
        checklist: { L1: [0, 1], L2: [0], LX: [] },
        reopenCount: 2,
        escalationCount: 3,
        resolution: 'Pilote réinstallé',
        tierEnteredAt: T0 + 1,
        createdAt: T0 - 86_400_000,
        updatedAt: T0 + 2,
        acknowledgedAt: T0 - 3_600_000,
        resolvedAt: T0 + 3,
        closedAt: T0 + 4,
        seq: 17,
      });
      fullId = await env.s.incidents.insert(env.store.db, full);
      expect(typeof fullId).toBe('number');
      const got = await env.s.incidents.get(fullId);
      expect(got).toEqual({ ...full, id: fullId });
      expectNumbers(got!);
      expect(typeof got!.assigneeId).toBe('number');
      expect(typeof got!.closedAt).toBe('number');
    });

    it('round-trips nulls and an empty checklist', async () => {
      const bare = incidentValues({ requesterId: requester.id });
      const id = await env.s.incidents.insert(env.store.db, bare);
      expect(id).not.toBe(fullId);
      const got = await env.s.incidents.get(id);
      expect(got).toEqual({ ...bare, id });
      expect(got).toMatchObject({
        assigneeId: null,
        pendingReason: null,
        resolution: null,
        acknowledgedAt: null,
        resolvedAt: null,
        closedAt: null,
      });
      expectNumbers(got!);
      expect(await env.s.incidents.get(987_654)).toBeUndefined();
    });

    it('updates an incident when the expected seq matches, and not when it is stale', async () => {
      const current = (await env.s.incidents.get(fullId))!;
      const next: Incident = {
        ...current,
        tier: 'LX',
        status: 'new',
        assigneeId: null,
        pendingReason: null,
        checklist: { ...current.checklist, L3: [0] },
        escalationCount: 4,
        resolution: null,
        resolvedAt: null,
        closedAt: null,
        tierEnteredAt: T0 + 10,
        updatedAt: T0 + 10,
        seq: current.seq + 2,
      };
      expect(await env.s.incidents.update(env.store.db, next, current.seq)).toBe(true);
      expect(await env.s.incidents.get(fullId)).toEqual(next);

      // Someone else's write based on the old seq loses.
      const late: Incident = { ...current, title: 'Overwritten', seq: current.seq + 1 };
      expect(await env.s.incidents.update(env.store.db, late, current.seq)).toBe(false);
      expect(await env.s.incidents.get(fullId)).toEqual(next);

      // A change without a new event would leave readers' (id, seq) caches stale: refused.
      const silent: Incident = { ...next, title: 'Silently changed' };
      await expect(env.s.incidents.update(env.store.db, silent, next.seq)).rejects.toThrow(/without a new event/);
      expect(await env.s.incidents.get(fullId)).toEqual(next);
    });

    it('appends events and reads them back in seq order with their data parsed', async () => {
      const id = await env.s.incidents.insert(env.store.db, incidentValues({ requesterId: requester.id }));
      const other = await env.s.incidents.insert(env.store.db, incidentValues({ requesterId: requester.id }));
      const base = { incidentId: id, actorId: agent.id as number | null };
      const events: IncidentEvent[] = [
        {
          ...base,
          seq: 1,
          at: T0,
          actorId: requester.id,
          kind: 'created',
          fromTier: null,
          toTier: 'L1',
          data: {
            title: 'VPN down',
            description: 'Nobody can connect',
            category: 'network-downtime',
            impact: 2,
            urgency: 2,
            priority: 'P3',
            requesterId: requester.id,
            tier: 'L1',
            matrixVersion: 1,
          },
        },
        {
          ...base,
          seq: 2,
          at: T0 + 1,
          kind: 'action_checked',
          fromTier: 'L1',
          toTier: 'L1',
          data: { index: 0, note: 'Fait à distance' },
        },
        {
          ...base,
          seq: 3,
          at: T0 + 2,
          kind: 'escalated',
          fromTier: 'L1',
          toTier: 'L2',
          data: { reason: 'Besoin du N2', automatic: false, skipped: [{ index: 1, reason: 'Pas de commutateur' }] },
        },
        {
          ...base,
          seq: 4,
          at: T0 + 3,
          actorId: null,
          kind: 'commented',
          fromTier: 'L2',
          toTier: 'L2',
          data: { body: 'Système' },
        },
      ];
      // Written in two batches, each out of order (each event's predecessor must exist: hash chain).
      await env.s.incidents.appendEvents(env.store.db, [events[1]!, events[0]!]);
      await env.s.incidents.appendEvents(env.store.db, [events[3]!, events[2]!]);
      await env.s.incidents.appendEvents(env.store.db, [{ ...events[3]!, incidentId: other, seq: 1 }]);
      await env.s.incidents.appendEvents(env.store.db, []);

      const read = await env.s.incidents.events(id);
      expect(read).toEqual(events);
      for (const e of read) {
        expect(typeof e.at).toBe('number');
        expect(typeof e.incidentId).toBe('number');
        expect(typeof e.seq).toBe('number');
      }
      expect(read[1]!.actorId).toBe(agent.id);
      expect(read[3]!.actorId).toBeNull();
      expect((await env.s.incidents.events(other)).map((e) => e.seq)).toEqual([1]);
    });

    it('rejects a second event with the same incident and seq', async () => {
      const id = await env.s.incidents.insert(env.store.db, incidentValues({ requesterId: requester.id }));
      const event: IncidentEvent = {
        incidentId: id,
        seq: 1,
        at: T0,
        actorId: null,
        kind: 'commented',
        fromTier: 'L1',
        toTier: 'L1',
        data: { body: 'a' },
      };
      await env.s.incidents.appendEvents(env.store.db, [event]);
      await expect(env.s.incidents.appendEvents(env.store.db, [{ ...event, data: { body: 'b' } }])).rejects.toThrow();
      await expect(
        env.s.incidents.appendEvents(env.store.db, [
          { ...event, seq: 2 },
          { ...event, seq: 2, data: { body: 'c' } },
        ]),
      ).rejects.toThrow();
      expect(await env.s.incidents.events(id)).toEqual([event]);
    });

    it('keeps incident_events append-only: UPDATE and DELETE are refused by the database', async () => {
      const id = await env.s.incidents.insert(env.store.db, incidentValues({ requesterId: requester.id }));
      const event: IncidentEvent = {
        incidentId: id,
        seq: 1,
        at: T0,
        actorId: null,
        kind: 'commented',
        fromTier: 'L1',
        toTier: 'L1',
        data: { body: 'original' },
      };
      await env.s.incidents.appendEvents(env.store.db, [event]);
      await expect(
        env.store.db.updateTable('incident_events').set({ data: '{"body":"rewritten"}' }).where('incident_id', '=', id).execute(),
      ).rejects.toThrow(/append-only/);
      await expect(env.store.db.deleteFrom('incident_events').where('incident_id', '=', id).execute()).rejects.toThrow(
        /append-only/,
      );
      await expect(env.store.db.deleteFrom('incident_events').execute()).rejects.toThrow(/append-only/);
      expect(await env.s.incidents.events(id)).toEqual([event]);
    });
  });
});

describe.each(ENGINES)('IncidentRepository.list on %s', (engine) => {
  const env = useFreshDatabase(engine, true);
  let r1: number, r2: number, a1: number, a2: number;
  let all: Incident[];

  type Row = [
    title: string,
    description: string,
    category: string,
    tier: string,
    status: IncidentStatus,
    priority: Priority,
    requester: 1 | 2,
    assignee: 0 | 1 | 2,
    created: number,
    updated: number,
  ];
  const ROWS: Row[] = [
    ['VPN down', 'Nobody can connect', 'network-downtime', 'L1', 'new', 'P2', 1, 0, 1000, 5000],
    ['Printer 100% broken', 'Toner everywhere', 'software-installation-failure', 'L1', 'in_progress', 'P3', 1, 1, 2000, 2000],
    ['Load at 100 percent', 'CPU pegged', 'cloud-service-interruption', 'L2', 'acknowledged', 'P1', 2, 2, 2000, 9000],
    ['Disk_full on server', 'backup failed', 'software-installation-failure', 'L3', 'pending', 'P4', 2, 1, 3000, 3000],
    ['Diskofull alert', 'monitoring noise', 'network-downtime', 'L2', 'resolved', 'P5', 1, 2, 4000, 4500],
    ['Fuite de données', 'Fichier copié depuis C:\\temp\\new', 'data-security-breach', 'LX', 'closed', 'P1', 2, 2, 500, 10000],
    ['ÉCRAN noir', 'Le poste ne démarre plus', 'software-installation-failure', 'L1', 'new', 'P3', 1, 0, 2000, 2000],
    ['Wi-Fi lent', 'Débit faible, vpn OK', 'network-downtime', 'L2', 'new', 'P2', 2, 0, 6000, 6000],
  ];

  beforeAll(async () => {
    const users = env.s.users;
    r1 = (await users.insert(newUser(), T0)).id;
    r2 = (await users.insert(newUser(), T0)).id;
    a1 = (await users.insert(newUser({ role: 'agent', tiers: ['L1'] }), T0)).id;
    a2 = (await users.insert(newUser({ role: 'agent', tiers: ['L2'] }), T0)).id;
    all = [];
    for (const [title, description, category, tier, status, priority, requester, assignee, created, updated] of ROWS) {
      const values = incidentValues({
        title,
        description,
        category,
        tier,
        status,
        priority,
        requesterId: requester === 1 ? r1 : r2,
        assigneeId: assignee === 0 ? null : assignee === 1 ? a1 : a2,
        createdAt: T0 + created,
        updatedAt: T0 + updated,
        resolvedAt: status === 'resolved' || status === 'closed' ? T0 + updated : null,
        closedAt: status === 'closed' ? T0 + updated : null,
        pendingReason: status === 'pending' ? 'requester' : null,
      });
      all.push({ ...values, id: await env.s.incidents.insert(env.store.db, values) });
    }
  });

  const titles = async (filter: IncidentFilter, sort: IncidentSort = 'created_at', limit = 100, offset = 0) => {
    const listed = await env.s.incidents.list(filter, sort, limit, offset);
    // The versions-only form of the page walks the same filter and order.
    expect(await env.s.incidents.listVersions(filter, sort, limit, offset)).toEqual(listed.map((i) => ({ id: i.id, seq: i.seq })));
    return listed.map((i) => i.title);
  };
  /** The titles the filter must give, in created_at order, from the data set itself. */
  const expected = (keep: (i: Incident) => boolean) =>
    all
      .filter(keep)
      .sort((a, b) => a.createdAt - b.createdAt || a.id - b.id)
      .map((i) => i.title);

  it('lists everything without a filter, each incident whole', async () => {
    const listed = await env.s.incidents.list({}, 'created_at', 100, 0);
    expect(listed).toHaveLength(ROWS.length);
    expect([...listed].sort((a, b) => a.id - b.id)).toEqual([...all].sort((a, b) => a.id - b.id));
  });

  it('filters by tier, status, category and priority (any of the given values)', async () => {
    expect(await titles({ tier: ['L2'] })).toEqual(expected((i) => i.tier === 'L2'));
    expect(await titles({ tier: ['L1', 'LX'] })).toEqual(expected((i) => i.tier === 'L1' || i.tier === 'LX'));
    expect(await titles({ status: ['new'] })).toEqual(expected((i) => i.status === 'new'));
    expect(await titles({ status: ['resolved', 'closed'] })).toEqual(['Fuite de données', 'Diskofull alert']);
    expect(await titles({ category: ['software-installation-failure'] })).toEqual(
      expected((i) => i.category === 'software-installation-failure'),
    );
    expect(await titles({ priority: ['P1'] })).toEqual(['Fuite de données', 'Load at 100 percent']);
    expect(await titles({ priority: ['P2', 'P5'] })).toEqual(expected((i) => i.priority === 'P2' || i.priority === 'P5'));
    expect(await titles({ tier: ['L3'], status: ['new'] })).toEqual([]);
    // An empty list means no filter.
    expect(await titles({ tier: [], status: [] })).toHaveLength(ROWS.length);
  });

  it('filters by requester and assignee, null meaning unassigned', async () => {
    expect(await titles({ requesterId: r1 })).toEqual(expected((i) => i.requesterId === r1));
    expect(await titles({ requesterId: r2 })).toEqual(expected((i) => i.requesterId === r2));
    expect(await titles({ assigneeId: a1 })).toEqual(['Printer 100% broken', 'Disk_full on server']);
    expect(await titles({ assigneeId: a2 })).toEqual(expected((i) => i.assigneeId === a2));
    expect(await titles({ assigneeId: null })).toEqual(['VPN down', 'ÉCRAN noir', 'Wi-Fi lent']);
    expect(await titles({ assigneeId: null, requesterId: r2 })).toEqual(['Wi-Fi lent']);
    expect(await titles({ assigneeId: r1 })).toEqual([]);
  });

  it('searches title and description, ignoring ASCII case', async () => {
    expect(await titles({ text: 'vpn' })).toEqual(['VPN down', 'Wi-Fi lent']);
    expect(await titles({ text: 'VPN DOWN' })).toEqual(['VPN down']);
    expect(await titles({ text: 'TONER' })).toEqual(['Printer 100% broken']);
    expect(await titles({ text: 'disk' })).toEqual(['Disk_full on server', 'Diskofull alert']);
    expect(await titles({ text: 'nothing like this' })).toEqual([]);
    expect(await titles({ text: 'vpn', requesterId: r1 })).toEqual(['VPN down']);
  });

  it('searches ignoring the case of accented letters too', async () => {
    expect(await titles({ text: 'écran' })).toEqual(['ÉCRAN noir']);
    expect(await titles({ text: 'DÉBIT' })).toEqual(['Wi-Fi lent']);
  });

  it('matches %, _ and \\ in the search text literally, not as wildcards', async () => {
    expect(await titles({ text: '100%' })).toEqual(['Printer 100% broken']);
    expect(await titles({ text: '%' })).toEqual(['Printer 100% broken']);
    expect(await titles({ text: '100%broken' })).toEqual([]);
    expect(await titles({ text: 'disk_full' })).toEqual(['Disk_full on server']);
    expect(await titles({ text: '_' })).toEqual(['Disk_full on server']);
    expect(await titles({ text: 'w_-fi' })).toEqual([]);
    expect(await titles({ text: 'C:\\temp\\new' })).toEqual(['Fuite de données']);
    expect(await titles({ text: '\\' })).toEqual(['Fuite de données']);
    expect(await titles({ text: "l'" })).toEqual([]);
  });

  const order: Record<IncidentSort, (a: Incident, b: Incident) => number> = {
    priority: (a, b) => a.priority.localeCompare(b.priority) || a.createdAt - b.createdAt || a.id - b.id,
    created_at: (a, b) => a.createdAt - b.createdAt || a.id - b.id,
    '-created_at': (a, b) => b.createdAt - a.createdAt || b.id - a.id,
    '-updated_at': (a, b) => b.updatedAt - a.updatedAt || b.id - a.id,
  };

  it.each(INCIDENT_SORTS)('sorts by %s', async (sort) => {
    const ids = (await env.s.incidents.list({}, sort, 100, 0)).map((i) => i.id);
    expect(ids).toEqual([...all].sort(order[sort]).map((i) => i.id));
  });

  it('sorts by priority first, then by age', async () => {
    expect(await titles({}, 'priority')).toEqual([
      'Fuite de données',
      'Load at 100 percent',
      'VPN down',
      'Wi-Fi lent',
      'Printer 100% broken',
      'ÉCRAN noir',
      'Disk_full on server',
      'Diskofull alert',
    ]);
    expect((await titles({}, '-updated_at')).slice(0, 3)).toEqual(['Fuite de données', 'Load at 100 percent', 'Wi-Fi lent']);
  });

  it.each(INCIDENT_SORTS)('paginates by %s with limit and offset, without gaps or repeats', async (sort) => {
    const whole = (await env.s.incidents.list({}, sort, 100, 0)).map((i) => i.id);
    const pages: number[][] = [];
    for (let offset = 0; offset < ROWS.length; offset += 3)
      pages.push((await env.s.incidents.list({}, sort, 3, offset)).map((i) => i.id));
    expect(pages.map((p) => p.length)).toEqual([3, 3, 2]);
    expect(pages.flat()).toEqual(whole);
    expect(await env.s.incidents.list({}, sort, 3, ROWS.length)).toEqual([]);
    expect((await env.s.incidents.list({}, sort, 1, 0)).map((i) => i.id)).toEqual(whole.slice(0, 1));
  });

  it('reads listed incidents by id again, only those that still match the filter', async () => {
    const l2 = all.filter((i) => i.tier === 'L2').map((i) => i.id);
    const other = all.find((i) => i.tier === 'L1')!.id;
    const read = await env.s.incidents.listByIds({ tier: ['L2'] }, [...l2, other]);
    expect([...read.keys()].sort((a, b) => a - b)).toEqual([...l2].sort((a, b) => a - b));
    expect(read.get(l2[0]!)).toEqual(all.find((i) => i.id === l2[0]));
    expect(await env.s.incidents.listByIds({ tier: ['L2'] }, [])).toEqual(new Map());
  });

  it('paginates a filtered list', async () => {
    const want = expected((i) => i.tier === 'L1' || i.tier === 'L2');
    expect(await titles({ tier: ['L1', 'L2'] }, 'created_at', 2, 0)).toEqual(want.slice(0, 2));
    expect(await titles({ tier: ['L1', 'L2'] }, 'created_at', 2, 2)).toEqual(want.slice(2, 4));
    expect(await titles({ tier: ['L1', 'L2'] }, 'created_at', 2, 4)).toEqual(want.slice(4, 6));
  });
});
