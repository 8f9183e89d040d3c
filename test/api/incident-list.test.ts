import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/domain/clock.js';
import { incidentOut } from '../../src/http/schemas.js';
import { createServices } from '../../src/services/context.js';
import { saveMatrix } from '../../src/services/matrix.service.js';
import { openStore } from '../../src/store/database.js';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/**
 * GET /api/v1/incidents keeps the JSON of listed incidents by version (src/http/incident-json-cache.ts):
 * these tests list the same pages again and again while the incidents change, and compare every
 * item with the incident rendered afresh from the database.
 */
describe.each(ENGINES)('incident lists on %s', (engine) => {
  let t: TestServer;
  let requester: TestUser, l1: TestUser, l2: TestUser;

  beforeAll(async () => {
    t = await startServer(engine);
    requester = await t.user('requester');
    l1 = await t.user('agent', { tiers: ['L1'] });
    l2 = await t.user('agent', { tiers: ['L2'] });
  });
  afterAll(() => t?.close());

  const open = async (title: string, category = 'network-downtime', description = 'Since 9:00') => {
    const res = await t.api('POST', '/api/v1/incidents', { as: requester, body: { title, description, category, impact: 2, urgency: 2 } });
    expect(res.status).toBe(201);
    return res.body.id as number;
  };
  const list = async (as: TestUser, query: string) => {
    const res = await t.api('GET', `/api/v1/incidents?${query}`, { as });
    expect(res.status).toBe(200);
    return res;
  };
  /** The incidents as the database holds them now, rendered without any cache. */
  const fresh = async (ids: number[]) => {
    const rows = await t.palier.services.incidents.getMany(ids);
    return ids.map((id) => JSON.parse(JSON.stringify(incidentOut(rows.get(id)!))) as Json);
  };

  it('shows every listed incident as it is now, however often the page was listed before', async () => {
    const ids = [await open('Switch down, floor 2'), await open('Switch down, floor 3'), await open('Switch down, floor 4')];
    const query = 'tier=L1&status=open&sort=created_at&limit=200';
    const before = (await list(l1, query)).body.items as Json[];
    expect(before.filter((i) => ids.includes(i.id))).toEqual(await fresh(ids));
    await list(l1, query);

    const [acked, commented, escalated] = ids as [number, number, number];
    expect((await t.api('POST', `/api/v1/incidents/${acked}/acknowledge`, { as: l1 })).status).toBe(200);
    expect((await t.api('POST', `/api/v1/incidents/${commented}/comments`, { as: l1, body: { body: 'Looking' } })).status).toBe(201);
    expect((await t.api('POST', `/api/v1/incidents/${escalated}/escalate`, { as: l1, body: { reason: 'Needs the network team' } })).status).toBe(200);

    const after = (await list(l1, query)).body.items as Json[];
    const shown = after.filter((i) => ids.includes(i.id));
    expect(shown.map((i) => i.id)).toEqual([acked, commented]);
    expect(shown).toEqual(await fresh([acked, commented]));
    expect(shown[0].status).toBe('acknowledged');
    expect(shown[1].updatedAt).not.toBe(before.find((i) => i.id === commented).updatedAt);
    // The escalated one now heads the L2 queue's newest, as it is now.
    const l2Items = (await list(l2, 'tier=L2&status=open&sort=-updated_at&limit=1')).body.items as Json[];
    expect(l2Items).toEqual(await fresh([escalated]));
    expect(l2Items[0]).toMatchObject({ tier: 'L2', escalationCount: 1 });
  });

  it('shows changes made without going through this server (another process on the same database)', async () => {
    const id = await open('Printer queue stuck');
    await list(l1, 'tier=L1&status=open&limit=200');
    const incident = (await t.palier.services.incidents.get(id))!;
    // A second writer: the row and its event as another Palier process would store them.
    const next = { ...incident, title: 'Printer queue stuck (all floors)', seq: incident.seq + 1, updatedAt: incident.updatedAt + 1000 };
    expect(await t.palier.services.incidents.update(t.palier.services.store.db, next, incident.seq)).toBe(true);
    const item = ((await list(l1, 'tier=L1&status=open&limit=200')).body.items as Json[]).find((i) => i.id === id);
    expect(item).toEqual((await fresh([id]))[0]);
    expect(item.title).toBe('Printer queue stuck (all floors)');
  });

  it('drops a confidential incident from a page once its reader may no longer see it', async () => {
    const breach = await open('Customer file copied', 'data-security-breach');
    const control = await open('Wi-Fi slow', 'network-downtime');
    const seen = async () => ((await list(l1, 'status=open&limit=200')).body.items as Json[]).map((i) => i.id as number);
    expect(await seen()).toEqual(expect.arrayContaining([breach, control]));
    expect((await t.api('POST', `/api/v1/incidents/${breach}/escalate`, { as: l1, body: { reason: 'Breach: L2 takes it' } })).status).toBe(200);
    const after = await seen();
    expect(after).toContain(control);
    expect(after).not.toContain(breach);
  });

  it('applies the confidential categories of a matrix stored through this server at once, through another process within a second', async () => {
    const cloud = 'cloud-service-interruption';
    const id = await open('Mail relay down', cloud);
    const seen = async () => ((await list(l2, 'status=open&limit=200')).body.items as Json[]).some((i) => i.id === id);
    expect(await seen()).toBe(true);
    const confidentialTo = async (store: (definition: Json) => Promise<unknown>, tiers: string[]) => {
      const { version: _v, priorityTable: _p, createdAt: _c, createdBy: _b, comment: _m, ...definition } = (await t.palier.services.matrices.current())!;
      await store({ ...definition, categories: definition.categories.map((c) => (c.key === cloud ? { ...c, confidential: { tiers, users: [] } } : c)) });
    };

    // Stored by another process (its own store and services over the same database).
    const store = openStore(t.config.database);
    try {
      const elsewhere = createServices(store, systemClock);
      await confidentialTo((d) => saveMatrix(elsewhere, null, d), ['L1']);
    } finally {
      await store.close();
    }
    await new Promise((r) => setTimeout(r, 1100));
    expect(await seen()).toBe(false);

    // Stored through this server: at once.
    const admin = await t.user('admin');
    await confidentialTo(async (d) => expect((await t.api('PUT', '/api/v1/matrix', { as: admin, body: d })).status).toBe(200), ['L1', 'L2']);
    expect(await seen()).toBe(true);
  });

  it('serves the tier queue the same way: each incident as it is now, its breach instant, none while pending', async () => {
    const ids = [await open('Proxy refuses logins'), await open('Proxy slow'), await open('Proxy certificate expired')];
    const queue = async () => {
      const res = await t.api('GET', '/api/v1/queue?tier=L1&limit=200', { as: l1 });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      return (res.body.items as Json[]).filter((i) => ids.includes(i.id));
    };
    const before = await queue();
    expect(before.map(({ breachAt: _b, ...rest }) => rest)).toEqual(await fresh(before.map((i) => i.id)));
    expect(before.every((i) => typeof i.breachAt === 'string')).toBe(true);

    const [acked, pended] = ids as [number, number, number];
    expect((await t.api('POST', `/api/v1/incidents/${acked}/acknowledge`, { as: l1 })).status).toBe(200);
    expect((await t.api('POST', `/api/v1/incidents/${pended}/acknowledge`, { as: l1 })).status).toBe(200);
    const pend = await t.api('POST', `/api/v1/incidents/${pended}/pend`, { as: l1, body: { reason: 'requester', note: 'Which browser?' } });
    expect(pend.status).toBe(200);

    const after = await queue();
    expect(after.map(({ breachAt: _b, ...rest }) => rest)).toEqual(await fresh(after.map((i) => i.id)));
    expect(after.find((i) => i.id === acked)).toMatchObject({ status: 'acknowledged' });
    expect(after.find((i) => i.id === pended)).toMatchObject({ status: 'pending', breachAt: null });
    // Running targets first, the one missed first on top; the paused one after them.
    const timed = after.filter((i) => i.breachAt !== null).map((i) => i.breachAt as string);
    expect(timed).toEqual([...timed].sort());
    expect(after.at(-1)!.id).toBe(pended);
  });

  it('writes the page as JSON, text of any kind intact, and pages with nextOffset', async () => {
    const title = 'Quote " backslash \\ tag </script><b>x</b> accent é emoji 🔥 line\nbreak\ttab \u0001';
    const id = await open(title, 'software-installation-failure', 'Desc "with" \u2028 separators \u2029');
    const res = await list(l1, 'category=software-installation-failure&sort=created_at&limit=1');
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.body).toEqual({ items: await fresh([id]), limit: 1, offset: 0, nextOffset: null });
    expect(res.body.items[0].title).toBe(title.trim());

    const more = await open('Second install failure', 'software-installation-failure');
    const first = await list(l1, 'category=software-installation-failure&sort=created_at&limit=1');
    expect(first.body).toMatchObject({ limit: 1, offset: 0, nextOffset: 1 });
    const second = await list(l1, 'category=software-installation-failure&sort=created_at&limit=1&offset=1');
    expect(second.body).toEqual({ items: await fresh([more]), limit: 1, offset: 1, nextOffset: null });
  });
});
