import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeUser } from '../../src/services/auth.service.js';
import { DomainError } from '../../src/domain/errors.js';
import { expectError } from '../helpers/api-assertions.js';
import { ENGINES, type EngineName } from '../helpers/engines.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** Palier always keeps one active administrator, even when admins change each other at the same moment. */
describe.each(ENGINES)('administrators left after user changes on %s', (engine: EngineName) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(engine);
  });
  afterAll(async () => t?.close());

  const activeAdmins = async () =>
    (
      await t.palier.services.store.db
        .selectFrom('users')
        .select('id')
        .where('role', '=', 'admin')
        .where('disabled_at', 'is', null)
        .execute()
    ).map((r) => Number(r.id));

  it('refuses to demote or disable the last active administrator, whoever asks, and writes nothing', async () => {
    for (const id of await activeAdmins())
      await t.palier.services.store.db.updateTable('users').set({ role: 'manager', tiers: '[]' }).where('id', '=', id).execute();
    const only = await t.user('admin');
    // An actor that is not that administrator (another process, a script) still cannot remove it.
    const someoneElse = { id: only.id + 1000, role: 'admin' as const, tiers: [] };
    for (const change of [{ role: 'manager' as const }, { disabled: true }]) {
      const refused = await changeUser(t.palier.services, someoneElse, only.id, change).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(DomainError);
      expect(refused).toMatchObject({ code: 'last_admin' });
    }
    expect(await activeAdmins()).toEqual([only.id]);
    expect((await t.api('GET', '/api/v1/users/me', { as: only })).status).toBe(200);
  });

  it('keeps one administrator when two demote each other at the same time', async () => {
    for (const id of await activeAdmins())
      await t.palier.services.store.db.updateTable('users').set({ role: 'manager', tiers: '[]' }).where('id', '=', id).execute();
    const a = await t.user('admin');
    const b = await t.user('admin');
    const [ab, ba] = await Promise.all([
      t.api('PATCH', `/api/v1/users/${b.id}`, { as: a, body: { role: 'manager' } }),
      t.api('PATCH', `/api/v1/users/${a.id}`, { as: b, body: { disabled: true } }),
    ]);
    const statuses = [ab.status, ba.status].sort();
    // One wins; the other is refused, as no longer an admin (403) or as the last one (409).
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
    if (statuses[1] === 409) expectError(ab.status === 409 ? ab : ba, 409, 'last_admin');
    expect(await activeAdmins()).toHaveLength(1);
  });

  it('lets an administrator demote or disable another one while one is left', async () => {
    const a = await t.user('admin');
    const b = await t.user('admin');
    const res = await t.api('PATCH', `/api/v1/users/${b.id}`, { as: a, body: { disabled: true } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ role: 'admin', disabled: true });
    expect((await t.api('GET', '/api/v1/users/me', { as: b })).status).toBe(401);
  });
});
