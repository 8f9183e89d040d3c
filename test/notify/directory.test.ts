import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import type { Clock } from '../../src/domain/clock.js';
import { tierContacts } from '../../src/notify/directory.js';
import { addUser, changeUser } from '../../src/services/auth.service.js';
import { createServices, type Services } from '../../src/services/context.js';
import { ensureSeedMatrix } from '../../src/services/matrix.service.js';
import { addOverride, createTeam, setTeamMembers } from '../../src/services/team.service.js';
import { openStore, type Store } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import type { User } from '../../src/store/user.repository.js';
import { ENGINES, freshDatabase, type EngineName, type FreshDatabase } from '../helpers/engines.js';

const paris = (local: string) => DateTime.fromISO(local, { zone: 'Europe/Paris' }).toMillis();
const H = 3_600_000;

describe.each(ENGINES)('tier contacts on %s', (engine: EngineName) => {
  let db: FreshDatabase;
  let store: Store;
  let s: Services;
  const clock: Clock & { t: number } = { t: paris('2026-11-30T08:00'), now: () => clock.t };
  let people: Record<'ana' | 'bruno' | 'chloe' | 'mgr' | 'admin' | 'l1', User>;
  let teamId: number;

  beforeAll(async () => {
    db = await freshDatabase(engine);
    store = openStore(db.config);
    await migrateToLatest(store);
    s = createServices(store, clock);
    await ensureSeedMatrix(s);
    const user = (
      email: string,
      role: 'agent' | 'manager' | 'admin',
      tiers: string[],
      locale: 'fr' | 'en',
      displayName: string,
    ) => addUser(s, { email, role, tiers, locale, displayName });
    people = {
      ana: await user('ana@example.test', 'agent', ['L2'], 'en', 'Ana Lima'),
      bruno: await user('bruno@example.test', 'agent', ['L1', 'L2'], 'fr', 'Bruno Roy'),
      chloe: await user('chloe@example.test', 'agent', ['L2'], 'fr', 'Chloé Martin'),
      mgr: await user('mgr@example.test', 'manager', [], 'fr', 'Marc Girard'),
      admin: await user('root@example.test', 'admin', [], 'en', 'Root'),
      l1: await user('l1@example.test', 'agent', ['L1'], 'fr', 'Léa Petit'),
    };
    const team = await createTeam(s, {
      name: 'Réseau N2',
      tier: 'L2',
      email: 'reseau-n2@example.test',
      chatWebhookUrl: 'https://hooks.example.test/services/T000/B000',
      rotation: { startsAt: paris('2026-11-30T09:00'), period: 'daily', handoverTime: '09:00', timeZone: 'Europe/Paris' },
    });
    teamId = team.id;
    await setTeamMembers(s, teamId, [
      { userId: people.ana.id, role: 'member' },
      { userId: people.mgr.id, role: 'manager' },
      { userId: people.bruno.id, role: 'member' },
      { userId: people.chloe.id, role: 'member' },
    ]);
    const other = await createTeam(s, { name: 'Accueil N1', tier: 'L1' });
    await setTeamMembers(s, other.id, [{ userId: people.l1.id, role: 'member' }]);
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  const contact = (u: User) => ({ userId: u.id, name: u.displayName, email: u.email, locale: u.locale });

  it("gives the tier's teams with their address, webhook, members in rotation order, managers, and who is on call", async () => {
    const at = paris('2026-11-30T10:00');
    expect(await tierContacts(s, 'L2', at)).toEqual({
      tier: 'L2',
      teams: [
        {
          id: teamId,
          name: 'Réseau N2',
          email: 'reseau-n2@example.test',
          chatWebhookUrl: 'https://hooks.example.test/services/T000/B000',
          onCall: { userId: people.ana.id, name: 'Ana Lima', email: 'ana@example.test', locale: 'en' },
          members: [contact(people.ana), contact(people.bruno), contact(people.chloe)],
          managers: [contact(people.mgr)],
        },
      ],
    });
  });

  it('follows the rotation: the next day after the hand-over, the next member', async () => {
    expect((await tierContacts(s, 'L2', paris('2026-12-01T08:59'))).teams[0]!.onCall).toEqual(contact(people.ana));
    expect((await tierContacts(s, 'L2', paris('2026-12-01T09:00'))).teams[0]!.onCall).toEqual(contact(people.bruno));
    expect((await tierContacts(s, 'L2', paris('2026-12-03T09:00'))).teams[0]!.onCall).toEqual(contact(people.ana));
  });

  it('answers nobody on call before the rotation starts, and no teams for a tier without any', async () => {
    expect((await tierContacts(s, 'L2', paris('2026-11-30T08:59'))).teams[0]!.onCall).toBeNull();
    expect(await tierContacts(s, 'L3', paris('2026-11-30T10:00'))).toEqual({ tier: 'L3', teams: [] });
    const l1 = await tierContacts(s, 'L1', paris('2026-11-30T10:00'));
    expect(l1.teams.map((t) => t.name)).toEqual(['Accueil N1']);
    expect(l1.teams[0]).toMatchObject({ email: null, chatWebhookUrl: null, managers: [], onCall: contact(people.l1) });
  });

  it('puts the override person on call inside its window only', async () => {
    const startsAt = paris('2026-12-02T12:00');
    await addOverride(s, { id: people.admin.id, role: 'admin', tiers: [] }, teamId, {
      userId: people.admin.id,
      startsAt,
      endsAt: startsAt + 6 * H,
      reason: 'Chloé at the dentist',
    });
    expect((await tierContacts(s, 'L2', startsAt - 1)).teams[0]!.onCall).toEqual(contact(people.chloe));
    expect((await tierContacts(s, 'L2', startsAt)).teams[0]!.onCall).toEqual(contact(people.admin));
    expect((await tierContacts(s, 'L2', startsAt + 6 * H)).teams[0]!.onCall).toEqual(contact(people.chloe));
  });

  it('leaves disabled people out, and the rotation goes on without them', async () => {
    await changeUser(s, { id: people.admin.id, role: 'admin', tiers: [] }, people.bruno.id, { disabled: true });
    const day2 = await tierContacts(s, 'L2', paris('2026-12-01T10:00'));
    expect(day2.teams[0]!.members).toEqual([contact(people.ana), contact(people.chloe)]);
    // Two members left: ana, chloe, ana, ...
    expect(day2.teams[0]!.onCall).toEqual(contact(people.chloe));
    await changeUser(s, { id: people.admin.id, role: 'admin', tiers: [] }, people.bruno.id, { disabled: false });
    expect((await tierContacts(s, 'L2', paris('2026-12-01T10:00'))).teams[0]!.onCall).toEqual(contact(people.bruno));
  });

  it('leaves out an agent moved off the tier, until they come back', async () => {
    const root = { id: people.admin.id, role: 'admin' as const, tiers: [] };
    await changeUser(s, root, people.bruno.id, { tiers: ['L1'] });
    const moved = await tierContacts(s, 'L2', paris('2026-12-01T10:00'));
    expect(moved.teams[0]!.members.map((m) => m.userId)).toEqual([people.ana.id, people.chloe.id]);
    expect(moved.teams[0]!.onCall).toEqual(contact(people.chloe));
    await changeUser(s, root, people.bruno.id, { tiers: ['L1', 'L2'] });
    expect((await tierContacts(s, 'L2', paris('2026-12-01T10:00'))).teams[0]!.onCall).toEqual(contact(people.bruno));
  });
});
