import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { ENGINES, type EngineName } from '../helpers/engines.js';
import { expectError } from '../helpers/api-assertions.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';

const paris = (local: string) => DateTime.fromISO(local, { zone: 'Europe/Paris' }).toMillis();
const isoAt = (local: string) => new Date(paris(local)).toISOString();

describe.each(ENGINES)('tier teams and on-call over the API (%s)', (engine: EngineName) => {
  let t: TestServer;
  // Sunday evening before the rotation starts (Monday 09:00 Paris).
  let now = paris('2026-11-29T20:00');
  let admin: TestUser;
  let manager: TestUser;
  let l2a: TestUser;
  let l2b: TestUser;
  let l2c: TestUser;
  let l1: TestUser;
  let requester: TestUser;

  beforeAll(async () => {
    t = await startServer(engine, { clock: { now: () => now } });
    admin = await t.user('admin');
    manager = await t.user('manager', { locale: 'en' });
    l2a = await t.user('agent', { tiers: ['L2'] });
    l2b = await t.user('agent', { tiers: ['L2'] });
    l2c = await t.user('agent', { tiers: ['L2', 'L3'] });
    l1 = await t.user('agent', { tiers: ['L1'] });
    requester = await t.user('requester');
  }, 60_000);
  afterAll(async () => t?.close());

  /** Rows of the team tables, to show that a refused request wrote nothing. */
  const rows = async () => {
    const db = t.palier.services.store.db;
    const n = async (table: 'teams' | 'team_members' | 'oncall_overrides') =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    return { teams: await n('teams'), members: await n('team_members'), overrides: await n('oncall_overrides') };
  };

  const rotation = { startsAt: isoAt('2026-11-30T09:00'), period: 'weekly', handoverTime: '09:00', timeZone: 'Europe/Paris' };
  let teamId: number;

  it('creates a team, with defaults for what is left out, and refuses a second one of the same name', async () => {
    const created = await t.api('POST', '/api/v1/teams', {
      as: admin,
      body: {
        name: 'Réseau N2',
        tier: 'L2',
        email: 'reseau-n2@example.test',
        chatWebhookUrl: 'https://hooks.example.test/T/B',
        rotation,
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Réseau N2',
      tier: 'L2',
      email: 'reseau-n2@example.test',
      chatWebhookUrl: 'https://hooks.example.test/T/B',
      rotation: { ...rotation, startsAt: new Date(paris('2026-11-30T09:00')).toISOString() },
      members: [],
      overrides: [],
      onCall: null,
    });
    teamId = created.body.id;

    const minimal = await t.api('POST', '/api/v1/teams', { as: admin, body: { name: 'Accueil', tier: 'L1' } });
    expect(minimal.status).toBe(201);
    expect(minimal.body).toMatchObject({
      email: null,
      chatWebhookUrl: null,
      rotation: { startsAt: new Date(now).toISOString(), period: 'weekly', handoverTime: '09:00', timeZone: 'Europe/Paris' },
    });

    const before = await rows();
    expectError(
      await t.api('POST', '/api/v1/teams', { as: admin, body: { name: 'Réseau N2', tier: 'L3' } }),
      409,
      'team_name_taken',
    );
    expect(await rows()).toEqual(before);
  });

  it('creates one team when several ask for the same name at once', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        t.api('POST', '/api/v1/teams', { as: admin, body: { name: 'Poste de travail', tier: 'L1' } }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) expectError(r, 409, 'team_name_taken');
    const created = results.find((r) => r.status === 201)!.body.id;
    expect((await t.api('DELETE', `/api/v1/teams/${created}`, { as: admin })).status).toBe(204);
  });

  it('refuses bad team input with a clear 4xx and writes nothing', async () => {
    const before = await rows();
    const bad: Array<[unknown, number, string]> = [
      [{ name: 'X', tier: 'L9' }, 400, 'unknown_tier'],
      [{ name: 'X', tier: 'L1', colour: 'red' }, 400, 'validation_failed'],
      [{ name: '', tier: 'L1' }, 400, 'validation_failed'],
      [{ name: 'X', tier: 'L1', email: 'not an address' }, 400, 'validation_failed'],
      [{ name: 'X', tier: 'L1', chatWebhookUrl: 'http://hooks.example.test/x' }, 400, 'validation_failed'],
      [{ name: 'X', tier: 'L1', chatWebhookUrl: 'javascript:alert(1)' }, 400, 'validation_failed'],
      [{ name: 'X', tier: 'L1', rotation: { period: 'monthly' } }, 400, 'validation_failed'],
      [{ name: 'X', tier: 'L1', rotation: { handoverTime: '24:00' } }, 400, 'validation_failed'],
      [{ name: 'X', tier: 'L1', rotation: { timeZone: 'Europe/Atlantis' } }, 400, 'validation_failed'],
      [{ name: 'X', tier: 'L1', rotation: { startsAt: 'tomorrow' } }, 400, 'validation_failed'],
      [{ name: 'X', tier: 'L1', rotation: { every: 'week' } }, 400, 'validation_failed'],
    ];
    for (const [body, status, code] of bad) expectError(await t.api('POST', '/api/v1/teams', { as: admin, body }), status, code);
    expectError(await t.api('PATCH', `/api/v1/teams/${teamId}`, { as: admin, body: {} }), 400, 'validation_failed');
    expectError(await t.api('PATCH', `/api/v1/teams/${teamId}`, { as: admin, body: { tier: 'L9' } }), 400, 'unknown_tier');
    expectError(
      await t.api('PATCH', `/api/v1/teams/${teamId}`, { as: admin, body: { name: 'Accueil' } }),
      409,
      'team_name_taken',
    );
    expectError(await t.api('GET', '/api/v1/teams/999999', { as: admin }), 404, 'not_found');
    expectError(await t.api('PATCH', '/api/v1/teams/999999', { as: admin, body: { name: 'Y' } }), 404, 'not_found');
    expectError(await t.api('DELETE', '/api/v1/teams/999999', { as: admin }), 404, 'not_found');
    expectError(await t.api('GET', '/api/v1/teams/abc', { as: admin }), 400, 'validation_failed');
    expect(await rows()).toEqual(before);
  });

  it('sets members in rotation order and managers, and refuses people who do not belong at the tier', async () => {
    const before = await rows();
    const refuse = async (body: unknown, code: string, path?: string) => {
      const error = expectError(await t.api('PUT', `/api/v1/teams/${teamId}/members`, { as: admin, body }), 400, code);
      if (path) expect(error.details?.map((d) => d.path)).toContain(path);
    };
    await refuse([{ userId: l1.id, role: 'member' }], 'invalid_team_member', 'members[0].userId');
    await refuse([{ userId: requester.id }], 'invalid_team_member', 'members[0].userId');
    await refuse([{ userId: l2a.id }, { userId: l2b.id, role: 'manager' }], 'invalid_team_member', 'members[1].userId');
    await refuse([{ userId: l2a.id }, { userId: l2a.id }], 'invalid_team_member', 'members[1].userId');
    await refuse([{ userId: 999999 }], 'invalid_team_member', 'members[0].userId');
    await refuse([{ userId: l2a.id, role: 'boss' }], 'validation_failed');
    await refuse([{ userId: l2a.id, position: 1 }], 'validation_failed');
    await refuse({ userId: l2a.id }, 'validation_failed');
    expect(await rows()).toEqual(before);

    const set = await t.api('PUT', `/api/v1/teams/${teamId}/members`, {
      as: admin,
      body: [
        { userId: l2b.id, role: 'member' },
        { userId: manager.id, role: 'manager' },
        { userId: l2a.id },
        { userId: l2c.id, role: 'member' },
      ],
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.members.map((m: { userId: number; role: string }) => [m.userId, m.role])).toEqual([
      [l2b.id, 'member'],
      [l2a.id, 'member'],
      [l2c.id, 'member'],
      [manager.id, 'manager'],
    ]);
    expect(set.body.members[0]).toMatchObject({ email: l2b.email, name: l2b.email.split('@')[0] });
    // Sunday evening: the rotation starts on Monday at 09:00.
    expect(set.body.onCall).toBeNull();
    expect(set.body.nextHandover).toBe(new Date(paris('2026-11-30T09:00')).toISOString());

    // Moving the team to L3 would leave agents of L2 only in a team of L3.
    const moved = expectError(
      await t.api('PATCH', `/api/v1/teams/${teamId}`, { as: admin, body: { tier: 'L3' } }),
      400,
      'invalid_team_member',
    );
    // Paths follow the list as it was set: the manager, at index 1, may stay.
    expect(moved.details?.map((d) => d.path)).toEqual(['members[0].userId', 'members[2].userId']);
    expect(moved.details?.[1]?.message).toContain(`user ${l2a.id}`);
    expect((await t.api('GET', `/api/v1/teams/${teamId}`, { as: l2a })).body.tier).toBe('L2');
  });

  it('rotates week by week: the on-call endpoint names the right person at two instants', async () => {
    const at = async (local: string) => {
      const res = await t.api('GET', `/api/v1/oncall?at=${encodeURIComponent(isoAt(local))}`, { as: l1 });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body;
    };
    const week1 = await at('2026-12-02T15:00');
    expect(week1.at).toBe(isoAt('2026-12-02T15:00'));
    // Every tier of the matrix, lowest first; L2 holds the team.
    expect(week1.tiers.map((x: { tier: string }) => x.tier)).toEqual(['L1', 'L2', 'L3', 'LX']);
    const l2 = week1.tiers.find((x: { tier: string }) => x.tier === 'L2');
    expect(l2.teams).toEqual([
      {
        id: teamId,
        name: 'Réseau N2',
        onCall: { userId: l2b.id, name: l2b.email.split('@')[0], email: l2b.email, source: 'rotation' },
        until: isoAt('2026-12-07T09:00'),
      },
    ]);
    const week2 = await at('2026-12-07T09:00');
    expect(week2.tiers[1].teams[0].onCall.userId).toBe(l2a.id);
    expect(week2.tiers[1].teams[0].until).toBe(isoAt('2026-12-14T09:00'));
    expect((await at('2026-12-14T08:59')).tiers[1].teams[0].onCall.userId).toBe(l2a.id);
    expect((await at('2026-12-14T09:00')).tiers[1].teams[0].onCall.userId).toBe(l2c.id);
    expect((await at('2026-12-21T09:00')).tiers[1].teams[0].onCall.userId).toBe(l2b.id);
    // Before the start, nobody; the L1 team has no members yet.
    const sunday = await at('2026-11-29T21:00');
    expect(sunday.tiers[1].teams[0]).toMatchObject({ onCall: null, until: null });
    expect(sunday.tiers[0].teams).toEqual([expect.objectContaining({ name: 'Accueil', onCall: null })]);
    expectError(await t.api('GET', '/api/v1/oncall?at=yesterday', { as: l1 }), 400, 'validation_failed');
    expectError(await t.api('GET', '/api/v1/oncall?when=now', { as: l1 }), 400, 'validation_failed');
  });

  it('answers who is on call now, by the clock', async () => {
    now = paris('2026-12-08T10:00');
    const res = await t.api('GET', '/api/v1/oncall', { as: manager });
    expect(res.body.at).toBe(new Date(now).toISOString());
    expect(res.body.tiers[1].teams[0].onCall.userId).toBe(l2a.id);
    const team = await t.api('GET', `/api/v1/teams/${teamId}`, { as: l2c });
    expect(team.body.onCall).toMatchObject({ userId: l2a.id, source: 'rotation', until: isoAt('2026-12-14T09:00') });
    expect(team.body.nextHandover).toBe(isoAt('2026-12-14T09:00'));
    const list = await t.api('GET', '/api/v1/teams?tier=L2', { as: l2c });
    expect(list.body.items.map((x: { id: number }) => x.id)).toEqual([teamId]);
  });

  it('lets an override take the shift inside its window only, then removes it', async () => {
    const window = { startsAt: isoAt('2026-12-09T18:00'), endsAt: isoAt('2026-12-10T08:00') };
    const before = await rows();
    const base = `/api/v1/teams/${teamId}/overrides`;
    expectError(await t.api('POST', base, { as: admin, body: { userId: l1.id, ...window } }), 400, 'invalid_team_member');
    expectError(
      await t.api('POST', base, { as: admin, body: { userId: l2c.id, startsAt: window.endsAt, endsAt: window.startsAt } }),
      400,
      'invalid_window',
    );
    expectError(
      await t.api('POST', base, {
        as: admin,
        body: { userId: l2c.id, startsAt: isoAt('2026-12-01T00:00'), endsAt: isoAt('2026-12-02T00:00') },
      }),
      400,
      'invalid_window',
    );
    expectError(
      await t.api('POST', base, { as: admin, body: { userId: l2c.id, ...window, priority: 1 } }),
      400,
      'validation_failed',
    );
    expectError(
      await t.api('POST', base, { as: admin, body: { userId: l2c.id, startsAt: 'soon', endsAt: window.endsAt } }),
      400,
      'validation_failed',
    );
    expectError(
      await t.api('POST', '/api/v1/teams/999999/overrides', { as: admin, body: { userId: l2c.id, ...window } }),
      404,
      'not_found',
    );
    expect(await rows()).toEqual(before);

    const created = await t.api('POST', base, { as: admin, body: { userId: l2c.id, ...window, reason: 'Astreinte échangée' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ userId: l2c.id, ...window, reason: 'Astreinte échangée' });

    const at = async (local: string) =>
      (await t.api('GET', `/api/v1/oncall?at=${encodeURIComponent(isoAt(local))}`, { as: admin })).body.tiers[1].teams[0];
    expect(await at('2026-12-09T17:59')).toMatchObject({
      onCall: { userId: l2a.id, source: 'rotation' },
      until: window.startsAt,
    });
    expect(await at('2026-12-09T18:00')).toMatchObject({ onCall: { userId: l2c.id, source: 'override' }, until: window.endsAt });
    expect(await at('2026-12-10T08:00')).toMatchObject({ onCall: { userId: l2a.id, source: 'rotation' } });
    expect((await t.api('GET', `/api/v1/teams/${teamId}`, { as: admin })).body.overrides).toEqual([
      { id: created.body.id, userId: l2c.id, name: l2c.email.split('@')[0], ...window, reason: 'Astreinte échangée' },
    ]);

    expectError(await t.api('DELETE', `${base}/999999`, { as: admin }), 404, 'not_found');
    // An override is removed through its own team only.
    const other = (await t.api('GET', '/api/v1/teams?tier=L1', { as: admin })).body.items[0].id;
    expectError(await t.api('DELETE', `/api/v1/teams/${other}/overrides/${created.body.id}`, { as: admin }), 404, 'not_found');
    expect((await t.api('DELETE', `${base}/${created.body.id}`, { as: admin })).status).toBe(204);
    expect(await at('2026-12-09T18:00')).toMatchObject({ onCall: { userId: l2a.id, source: 'rotation' } });
  });

  it('changes the rotation: daily hand-overs at 08:00 move the shift at once', async () => {
    const res = await t.api('PATCH', `/api/v1/teams/${teamId}`, {
      as: admin,
      body: { rotation: { period: 'daily', handoverTime: '08:00' }, email: null },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      email: null,
      rotation: { period: 'daily', handoverTime: '08:00', timeZone: 'Europe/Paris', startsAt: rotation.startsAt },
    });
    // Start Monday 30 Nov 09:00: first shift to Tue 08:00 (l2b), then l2a, l2c, l2b... 8 Dec 10:00 is shift 8 -> l2c.
    expect(res.body.onCall).toMatchObject({ userId: l2c.id, until: isoAt('2026-12-09T08:00') });
  });

  it('refuses writes to requesters, agents and managers, and reads to requesters', async () => {
    expectError(await t.api('GET', '/api/v1/oncall', { as: requester }), 403, 'forbidden');
    expectError(await t.api('GET', '/api/v1/teams', { as: requester }), 403, 'forbidden');
    const before = await rows();
    for (const who of [requester, l2a, manager])
      expectError(await t.api('PUT', `/api/v1/teams/${teamId}/members`, { as: who, body: [] }), 403, 'forbidden');
    expect(await rows()).toEqual(before);
  });

  it('deletes a team with its members and overrides', async () => {
    await t.api('POST', `/api/v1/teams/${teamId}/overrides`, {
      as: admin,
      body: { userId: l2c.id, startsAt: isoAt('2026-12-20T00:00'), endsAt: isoAt('2026-12-21T00:00') },
    });
    const before = await rows();
    expect(before.overrides).toBe(1);
    expect((await t.api('DELETE', `/api/v1/teams/${teamId}`, { as: admin })).status).toBe(204);
    expect(await rows()).toEqual({ teams: before.teams - 1, members: 0, overrides: 0 });
    expectError(await t.api('GET', `/api/v1/teams/${teamId}`, { as: admin }), 404, 'not_found');
    // The name is free again.
    expect((await t.api('POST', '/api/v1/teams', { as: admin, body: { name: 'Réseau N2', tier: 'L2' } })).status).toBe(201);
  });
});
