/**
 * Roles and tiers from the identity provider's groups (PALIER_OIDC_ROLE_SYNC=on-sign-in), signing in
 * through a real OpenID Connect provider (oidc-provider) on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type OidcConfig } from '../../src/config.js';
import { accessFromGroups, parseRoleMap, readGroups, type RoleMapping } from '../../src/services/oidc-roles.js';
import { UserRepository } from '../../src/store/user.repository.js';
import { ENGINES, type EngineName } from '../helpers/engines.js';
import {
  freePort,
  oidcSettings,
  signInThrough,
  startIdentityProvider,
  type IdentityProvider,
  type Journey,
} from '../helpers/identity-provider.js';
import { startServer, type TestServer } from '../helpers/server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** As IT teams write it; L4 is not a tier of the default matrix. */
const ROLE_MAP =
  'palier-admins=admin, palier-managers=manager, helpdesk=agent:L1, network=agent:L2, infra=agent:L3, lab=agent:L4, lab-infra=agent:L3+L4';

function roleMap(text: string): RoleMapping[] {
  const parsed = parseRoleMap(text);
  if (!('map' in parsed)) throw new Error(parsed.problems.join('\n'));
  return parsed.map;
}

/** A provider and a Palier whose single sign-on sets roles from groups; its log lines are kept. */
async function startSso(
  engine: EngineName,
  options: { fallback: 'requester' | 'refuse'; autoCreate: OidcConfig['autoCreate']; claimsInIdToken?: boolean },
) {
  const logs: Json[] = [];
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const idp = await startIdentityProvider(`${publicUrl}/api/v1/auth/oidc/callback`, { claimsInIdToken: options.claimsInIdToken });
  const t = await startServer(engine, {
    config: {
      port,
      publicUrl,
      logLevel: 'info',
      logStream: { write: (line: string) => void logs.push(JSON.parse(line)) },
      oidc: oidcSettings(idp, {
        autoCreate: options.autoCreate,
        roleSync: { groupsClaim: 'groups', map: roleMap(ROLE_MAP), fallback: options.fallback },
      }),
    },
  });
  return { idp, t, logs, securityLines: () => logs.filter((l) => l.security).map((l) => l.security) };
}

describe.each(ENGINES)('Roles and tiers from identity provider groups on %s', (engine: EngineName) => {
  let idp: IdentityProvider;
  let t: TestServer;
  let logs: Json[];
  let securityLines: () => Json[];

  beforeAll(async () => {
    ({ idp, t, logs, securityLines } = await startSso(engine, { fallback: 'requester', autoCreate: 'requester' }));
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  /** Signs `sub` in with those groups at the provider; answers the user Palier now has. */
  async function signInWith(sub: string, email: string, groups: string[] | string | undefined) {
    idp.accounts.set(sub, { email, email_verified: true, name: sub, ...(groups !== undefined ? { groups } : {}) });
    const journey = await signInThrough(t.url, idp, sub);
    expect(journey.location, journey.visited.join('\n')).toBe('/');
    const res = await fetch(`${t.url}/api/v1/users/me`, {
      headers: { cookie: journey.jar.header(new URL('/api/v1/users/me', t.url)) },
    });
    expect(res.status).toBe(200);
    const me = (await res.json()) as { id: number; role: string; tiers: string[] };
    // What the session says is what is stored.
    const stored = await t.palier.services.users.byEmail(email);
    expect({ role: stored?.role, tiers: stored?.tiers }).toEqual({ role: me.role, tiers: me.tiers });
    return me;
  }

  const roleLines = (userId: number, event = 'role_changed') =>
    securityLines().filter((l) => l.event === event && l.targetId === userId);

  it('says that roles follow the groups, for the users page', async () => {
    expect((await t.api('GET', '/api/v1/auth/oidc')).body).toEqual({ enabled: true, roleSync: true });
  });

  it('warns at startup about tiers of the map that the matrix does not have', () => {
    expect(logs).toContainEqual(expect.objectContaining({ level: 40, oidc: { unknownTiers: ['L4'] } }));
  });

  it('creates an account with the role and tiers the groups give, then follows the groups at each sign-in', async () => {
    await t.user('admin'); // so that Nora is not the last administrator when she leaves the group
    const email = 'nora@example.test';
    const created = await signInWith('nora-sub', email, ['network', 'staff']);
    expect(created).toMatchObject({ email, role: 'agent', tiers: ['L2'] });
    expect(securityLines()).toContainEqual(
      expect.objectContaining({ event: 'user_created', userId: created.id, role: 'agent', tiers: ['L2'], via: 'oidc' }),
    );

    // Added to the administrators' group: upgraded at the next sign-in.
    expect(await signInWith('nora-sub', email, ['network', 'palier-admins'])).toMatchObject({
      id: created.id,
      role: 'admin',
      tiers: [],
    });
    expect(roleLines(created.id).at(-1)).toMatchObject({
      userId: created.id,
      via: 'oidc',
      subject: 'nora-sub',
      groups: ['palier-admins', 'network'],
      from: { role: 'agent', tiers: ['L2'] },
      to: { role: 'admin', tiers: [] },
    });

    // Out of the administrators' group, into two agent groups: an agent of both tiers.
    expect(await signInWith('nora-sub', email, ['network', 'helpdesk'])).toMatchObject({ role: 'agent', tiers: ['L1', 'L2'] });
    expect(roleLines(created.id).at(-1)).toMatchObject({ from: { role: 'admin' }, to: { role: 'agent', tiers: ['L1', 'L2'] } });

    // Out of every mapped group: the fallback, requester.
    expect(await signInWith('nora-sub', email, ['staff'])).toMatchObject({ role: 'requester', tiers: [] });
    expect(roleLines(created.id).at(-1)).toMatchObject({ to: { role: 'requester', tiers: [] }, groups: [] });

    // Nothing changes, nothing is logged.
    const changes = roleLines(created.id).length;
    await signInWith('nora-sub', email, ['staff']);
    expect(roleLines(created.id)).toHaveLength(changes);
  }, 60_000);

  it('sets the role of an account made in Palier at its first single sign-on', async () => {
    const user = await t.user('manager', { email: 'omar@example.test' });
    expect(await signInWith('omar-sub', 'omar@example.test', ['helpdesk'])).toMatchObject({
      id: user.id,
      role: 'agent',
      tiers: ['L1'],
    });
    // The manager role now comes from the provider: the API token made before answers as an agent.
    const res = await t.api('GET', '/api/v1/users/me', { as: user });
    expect(res.body).toMatchObject({ role: 'agent', tiers: ['L1'] });
  }, 30_000);

  it('gives requester to someone whose groups map to nothing', async () => {
    expect(await signInWith('paula-sub', 'paula@example.test', ['marketing'])).toMatchObject({ role: 'requester', tiers: [] });
  }, 30_000);

  it('ignores tiers the matrix does not have, and logs it', async () => {
    // lab gives only L4: nothing. lab-infra gives L3 (and L4, ignored).
    expect(await signInWith('quentin-sub', 'quentin@example.test', ['lab'])).toMatchObject({ role: 'requester' });
    const me = await signInWith('quentin-sub', 'quentin@example.test', ['lab', 'lab-infra']);
    expect(me).toMatchObject({ role: 'agent', tiers: ['L3'] });
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 40, oidc: expect.objectContaining({ userId: me.id, ignoredTiers: ['L4'] }) }),
    );
  }, 30_000);

  it('takes a groups claim given as one string, and a missing one as no groups', async () => {
    expect(await signInWith('rose-sub', 'rose@example.test', 'infra')).toMatchObject({ role: 'agent', tiers: ['L3'] });
    expect(await signInWith('rose-sub', 'rose@example.test', undefined)).toMatchObject({ role: 'requester', tiers: [] });
    expect(roleLines((await t.palier.services.users.byEmail('rose@example.test'))!.id).at(-1)).toMatchObject({
      groupsClaim: 'missing',
      to: { role: 'requester' },
    });
  }, 30_000);

  it('leaves the role alone when the provider sends the groups elsewhere (Entra ID overage)', async () => {
    const yann = await t.user('agent', { email: 'yann@example.test', tiers: ['L2'] });
    idp.accounts.set('yann-sub', {
      email: 'yann@example.test',
      email_verified: true,
      name: 'Yann',
      _claim_names: { groups: 'src1' },
      _claim_sources: { src1: { endpoint: 'https://graph.microsoft.com/v1.0/users/yann/getMemberObjects' } },
    });
    const journey = await signInThrough(t.url, idp, 'yann-sub');
    expect(journey.location, journey.visited.join('\n')).toBe('/');
    expect(await t.palier.services.users.byId(yann.id)).toMatchObject({ role: 'agent', tiers: ['L2'] });
    expect(roleLines(yann.id, 'role_sync_kept').at(-1)).toMatchObject({ reason: 'groups_overage', groupsClaim: 'overage' });
  }, 30_000);

  it('never demotes the last active administrator: keeps the role and logs why', async () => {
    const sam = await t.user('admin', { email: 'sam@example.test' });
    // Sam becomes the only active administrator.
    const users = new UserRepository(t.palier.services.store.db);
    for (const other of await t.palier.services.store.db.selectFrom('users').select('id').where('role', '=', 'admin').execute())
      if (Number(other.id) !== sam.id) await users.update(Number(other.id), { role: 'requester', tiers: [] });

    expect(await signInWith('sam-sub', 'sam@example.test', ['helpdesk'])).toMatchObject({ id: sam.id, role: 'admin', tiers: [] });
    expect(roleLines(sam.id, 'role_sync_kept').at(-1)).toMatchObject({
      reason: 'last_admin',
      role: 'admin',
      via: 'oidc',
      groups: ['helpdesk'],
    });
    expect(roleLines(sam.id)).toHaveLength(0);

    // With another administrator, the groups apply.
    await t.user('admin', { email: 'tess@example.test' });
    expect(await signInWith('sam-sub', 'sam@example.test', ['helpdesk'])).toMatchObject({ role: 'agent', tiers: ['L1'] });
    expect(roleLines(sam.id).at(-1)).toMatchObject({ from: { role: 'admin' }, to: { role: 'agent', tiers: ['L1'] } });
  }, 60_000);
});

describe('Roles from groups with PALIER_OIDC_ROLE_FALLBACK=refuse and no automatic accounts', () => {
  let idp: IdentityProvider;
  let t: TestServer;
  let securityLines: () => Json[];

  beforeAll(async () => {
    // Claims in the ID token this time (the other describe reads them from UserInfo).
    ({ idp, t, securityLines } = await startSso('sqlite', { fallback: 'refuse', autoCreate: 'off', claimsInIdToken: true }));
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  async function refused(journey: Journey, code: string) {
    expect(journey.location, journey.visited.join('\n')).toBe(`/signin?error=${code}`);
    expect(journey.jar.get('palier_session')).toBeUndefined();
    expect(securityLines()).toContainEqual(expect.objectContaining({ event: 'sign_in_failed', via: 'oidc', reason: code }));
  }

  it('refuses a person without an account, whatever their groups, and creates none', async () => {
    idp.accounts.set('uma-sub', { email: 'uma@example.test', email_verified: true, name: 'Uma', groups: ['palier-admins'] });
    const users = await t.count('users');
    await refused(await signInThrough(t.url, idp, 'uma-sub'), 'sso_unknown_user');
    expect(await t.count('users')).toBe(users);
  }, 30_000);

  it('refuses a known person whose groups map to nothing, and leaves their role', async () => {
    const victor = await t.user('manager', { email: 'victor@example.test' });
    idp.accounts.set('victor-sub', { email: 'victor@example.test', email_verified: true, name: 'Victor', groups: ['sales'] });
    await refused(await signInThrough(t.url, idp, 'victor-sub'), 'sso_no_role');
    expect((await t.palier.services.users.byId(victor.id))?.role).toBe('manager');

    idp.accounts.set('victor-sub', {
      email: 'victor@example.test',
      email_verified: true,
      name: 'Victor',
      groups: ['palier-managers', 'sales'],
    });
    expect((await signInThrough(t.url, idp, 'victor-sub')).location).toBe('/');
  }, 30_000);

  it('leaves vendor contacts to Palier, whatever their groups say', async () => {
    const admin = await t.user('admin');
    const vendor = await t.api('POST', '/api/v1/vendors', {
      as: admin,
      body: { name: 'Acme Networks', categories: ['network-downtime'], email: 'support@acme.example', locale: 'en' },
    });
    expect(vendor.status).toBe(201);
    const contact = await t.user('vendor', { email: 'wes@acme.example', vendorId: vendor.body.id });
    // Mapped to nothing, which this fallback refuses: still let in, as a vendor contact.
    idp.accounts.set('wes-sub', { email: 'wes@acme.example', email_verified: true, name: 'Wes', groups: ['acme'] });
    expect((await signInThrough(t.url, idp, 'wes-sub')).location).toBe('/');
    expect((await t.palier.services.users.byId(contact.id))?.role).toBe('vendor');
    expect(securityLines()).toContainEqual(
      expect.objectContaining({ event: 'role_sync_kept', targetId: contact.id, reason: 'vendor_contact', role: 'vendor' }),
    );
  }, 30_000);
});

describe('Role mapping configuration', () => {
  const base = { PALIER_OIDC_ISSUER: 'https://id.example.org/realms/it', PALIER_OIDC_CLIENT_ID: 'palier' };

  it('is off by default: roles stay in Palier', () => {
    expect(loadConfig(base).oidc?.roleSync).toBeUndefined();
    expect(loadConfig({ ...base, PALIER_OIDC_ROLE_MAP: 'it=admin' }).oidc?.roleSync).toBeUndefined();
  });

  it('reads the map, the claim and the fallback', () => {
    const config = loadConfig({
      ...base,
      PALIER_OIDC_ROLE_SYNC: 'on-sign-in',
      PALIER_OIDC_ROLE_MAP: ' palier-admins = admin ,/it/network=agent:L2+L3,Helpdesk Team=agent:L1',
      PALIER_OIDC_GROUPS_CLAIM: 'realm_access.roles',
    });
    expect(config.oidc?.roleSync).toEqual({
      groupsClaim: 'realm_access.roles',
      fallback: 'requester',
      map: [
        { group: 'palier-admins', role: 'admin', tiers: [] },
        { group: '/it/network', role: 'agent', tiers: ['L2', 'L3'] },
        { group: 'Helpdesk Team', role: 'agent', tiers: ['L1'] },
      ],
    });
    expect(
      loadConfig({
        ...base,
        PALIER_OIDC_ROLE_SYNC: 'on-sign-in',
        PALIER_OIDC_ROLE_MAP: 'a=manager',
        PALIER_OIDC_ROLE_FALLBACK: 'refuse',
      }).oidc?.roleSync?.fallback,
    ).toBe('refuse');
  });

  it('refuses a bad map with the entry and the reason', () => {
    const load = (map: string) => () => loadConfig({ ...base, PALIER_OIDC_ROLE_SYNC: 'on-sign-in', PALIER_OIDC_ROLE_MAP: map });
    expect(load('admins')).toThrow('PALIER_OIDC_ROLE_MAP: entry 1 "admins": expected GROUP=ROLE');
    expect(load('a=admin,b=boss')).toThrow(
      'PALIER_OIDC_ROLE_MAP: entry 2 "b=boss": unknown role "boss", expected one of admin, manager, agent, requester',
    );
    expect(load('a=vendor')).toThrow(/unknown role "vendor"/);
    expect(load('helpdesk=agent')).toThrow('entry 1 "helpdesk=agent": an agent needs tiers, e.g. helpdesk=agent:L1');
    expect(load('a=manager:L1')).toThrow('entry 1 "a=manager:L1": only agents have tiers');
    expect(load('a=agent:L1++L2')).toThrow(/entry 1 .*empty or blank tier/);
    expect(load('a=agent:L1:L2')).toThrow(/one ":" at most/);
    expect(load('=admin')).toThrow('entry 1 "=admin": the group name is empty');
    expect(load('a=admin,,b=manager')).toThrow(/entry 2 "": expected GROUP=ROLE/);
    expect(load('a=admin,a=manager')).toThrow('entry 2 "a=manager": group "a" is mapped twice');
    // Every problem at once, so that one restart is enough to fix them.
    expect(load('a=boss,b=agent')).toThrow(/entry 1[^]*entry 2/);
    // Checked even while sync is off, so that turning it on later does not fail.
    expect(() => loadConfig({ ...base, PALIER_OIDC_ROLE_MAP: 'a=boss' })).toThrow(/PALIER_OIDC_ROLE_MAP/);
  });

  it('refuses sync without a map, and unknown sync or fallback values', () => {
    expect(() => loadConfig({ ...base, PALIER_OIDC_ROLE_SYNC: 'on-sign-in' })).toThrow(
      /PALIER_OIDC_ROLE_MAP: required when PALIER_OIDC_ROLE_SYNC=on-sign-in/,
    );
    expect(() => loadConfig({ ...base, PALIER_OIDC_ROLE_SYNC: 'always', PALIER_OIDC_ROLE_MAP: 'a=admin' })).toThrow(
      /PALIER_OIDC_ROLE_SYNC/,
    );
    expect(() => loadConfig({ ...base, PALIER_OIDC_ROLE_FALLBACK: 'agent' })).toThrow(/PALIER_OIDC_ROLE_FALLBACK/);
  });
});

describe('Groups claim and mapping rules', () => {
  it('reads a list, one string, a nested path, a namespaced claim name; anything else is no groups', () => {
    expect(readGroups({ groups: ['a', 7, 'b'] }, 'groups')).toEqual({ state: 'present', groups: ['a', 'b'] });
    expect(readGroups({ groups: 'a' }, 'groups')).toEqual({ state: 'present', groups: ['a'] });
    expect(readGroups({ realm_access: { roles: ['a'] } }, 'realm_access.roles')).toEqual({ state: 'present', groups: ['a'] });
    expect(readGroups({ 'https://palier.example/groups': ['a'] }, 'https://palier.example/groups').groups).toEqual(['a']);
    expect(readGroups({}, 'groups')).toEqual({ state: 'missing', groups: [] });
    expect(readGroups({ groups: { a: 1 } }, 'groups')).toEqual({ state: 'missing', groups: [] });
    // Entra ID's groups overage: the groups are elsewhere, so they are not "none".
    expect(readGroups({ _claim_names: { groups: 'src1' } }, 'groups').state).toBe('overage');
  });

  it('the highest role wins; agent tiers are united in the matrix order', () => {
    const map = roleMap('m=manager,a1=agent:L3,a2=agent:L1+L2,r=requester');
    const tiers = ['L1', 'L2', 'L3', 'LX'];
    expect(accessFromGroups(['a1', 'a2', 'r'], map, tiers)).toMatchObject({ role: 'agent', tiers: ['L1', 'L2', 'L3'] });
    expect(accessFromGroups(['a1', 'm'], map, tiers)).toMatchObject({ role: 'manager', tiers: [] });
    expect(accessFromGroups(['r'], map, tiers)).toMatchObject({ role: 'requester', tiers: [] });
    expect(accessFromGroups(['x'], map, tiers)).toMatchObject({ role: null, matched: [] });
    expect(accessFromGroups(['A1'], map, tiers).role).toBeNull();
  });
});
