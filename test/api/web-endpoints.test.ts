import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPalier, type Palier } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { addUser } from '../../src/services/auth.service.js';
import { ENGINES, freshDatabase, type FreshDatabase } from '../helpers/engines.js';
import { PASSWORD, startServer, type TestServer, type TestUser } from '../helpers/server.js';

/** Reads a server-sent event stream; `next` waits for the next `incidents` event's ids. */
async function openStream(url: string, token?: string) {
  const controller = new AbortController();
  const res = await fetch(`${url}/api/v1/stream`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: controller.signal,
  });
  const received: number[][] = [];
  const waiters: Array<() => void> = [];
  if (res.ok) {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += decoder.decode(value, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = /^event: incidents\ndata: (.*)$/m.exec(block)?.[1];
            if (data) {
              received.push((JSON.parse(data) as { ids: number[] }).ids);
              waiters.splice(0).forEach((w) => w());
            }
          }
        }
      } catch {
        /* aborted */
      }
    })();
  }
  return {
    res,
    received,
    /** Waits until the ids seen so far include `id`, or fails after `ms`. */
    async waitFor(id: number, ms = 5000): Promise<void> {
      const deadline = Date.now() + ms;
      while (!received.flat().includes(id)) {
        if (Date.now() > deadline) throw new Error(`no event for incident ${id}; got ${JSON.stringify(received)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
    close: () => controller.abort(),
  };
}

const outage = (title: string, impact = 1, urgency = 1) => ({ title, category: 'network-downtime', impact, urgency });

describe.each(ENGINES)('live incident feed (%s)', (engine) => {
  let db: FreshDatabase;
  const processes: Palier[] = [];
  const urls: string[] = [];
  const streams: Array<{ close(): void }> = [];

  async function token(email: string): Promise<string> {
    const res = await fetch(`${urls[0]}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    return ((await res.json()) as { token: string }).token;
  }
  async function user(role: 'agent' | 'requester', email: string): Promise<TestUser> {
    const u = await addUser(processes[0]!.services, { email, password: PASSWORD, role, tiers: role === 'agent' ? ['L1'] : [] });
    return { id: u.id, email, token: await token(email) };
  }
  async function create(via: number, as: TestUser, body: unknown): Promise<number> {
    const res = await fetch(`${urls[via]}/api/v1/incidents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${as.token}` },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: number }).id;
  }

  // Two Palier processes' worth of servers on one database, as behind a load balancer.
  beforeAll(async () => {
    db = await freshDatabase(engine);
    for (let n = 0; n < 2; n++) {
      const palier = await createPalier(loadConfig({ LOG_LEVEL: 'silent', PALIER_WORKER: 'off' }, { database: db.config }));
      await palier.server.listen({ host: '127.0.0.1', port: 0 });
      const address = palier.server.server.address();
      processes.push(palier);
      urls.push(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
    }
  });
  afterEach(() => streams.splice(0).forEach((s) => s.close()));
  afterAll(async () => {
    for (const p of processes) await p.close();
    await db.drop();
  });

  it('refuses an unauthenticated stream with a JSON 401', async () => {
    const s = await openStream(urls[0]!);
    expect(s.res.status).toBe(401);
    expect(await s.res.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('tells a subscriber of one process about changes made through another', async () => {
    const agent = await user('agent', `feed-agent-${engine}@example.test`);
    const requester = await user('requester', `feed-req-${engine}@example.test`);
    const s = await openStream(urls[0]!, agent.token);
    streams.push(s);
    expect(s.res.headers.get('content-type')).toContain('text/event-stream');
    const id = await create(1, requester, outage('Switch down'));
    await s.waitFor(id);
    // A later change to the same incident (a comment, through the other process) is told again.
    const before = s.received.length;
    const res = await fetch(`${urls[1]}/api/v1/incidents/${id}/comments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${agent.token}` },
      body: JSON.stringify({ body: 'Looking' }),
    });
    expect(res.status).toBe(201);
    await expect.poll(() => s.received.slice(before).flat(), { timeout: 5000 }).toContain(id);
  });

  it("never tells a requester about another requester's incidents", async () => {
    const alice = await user('requester', `feed-alice-${engine}@example.test`);
    const bob = await user('requester', `feed-bob-${engine}@example.test`);
    const agent = await user('agent', `feed-agent2-${engine}@example.test`);
    const aliceStream = await openStream(urls[0]!, alice.token);
    const agentStream = await openStream(urls[0]!, agent.token);
    streams.push(aliceStream, agentStream);
    const bobs = await create(1, bob, outage("Bob's printer", 3, 3));
    const alices = await create(1, alice, outage("Alice's VPN", 2, 2));
    await aliceStream.waitFor(alices);
    await agentStream.waitFor(bobs);
    await agentStream.waitFor(alices);
    expect(aliceStream.received.flat()).not.toContain(bobs);
    expect(new Set(aliceStream.received.flat())).toEqual(new Set([alices]));
  });
});

describe.each(ENGINES)('tier queue and dashboard endpoints (%s)', (engine) => {
  let t: TestServer;
  let now = Date.parse('2026-03-02T09:00:00Z'); // a Monday morning, in business hours in Paris
  let l1: TestUser;
  let l2: TestUser;
  let requester: TestUser;
  let manager: TestUser;

  beforeAll(async () => {
    t = await startServer(engine, { clock: { now: () => now } });
    l1 = await t.user('agent', { tiers: ['L1'] });
    l2 = await t.user('agent', { tiers: ['L2'] });
    requester = await t.user('requester');
    manager = await t.user('manager');
  });
  afterAll(async () => t?.close());

  const open = async (title: string, impact: number, urgency: number, category = 'network-downtime') => {
    const res = await t.api('POST', '/api/v1/incidents', { as: requester, body: { title, category, impact, urgency } });
    expect(res.status).toBe(201);
    return res.body as { id: number; priority: string };
  };

  it("lists an agent's tiers, the next target to be missed first, paused ones last", async () => {
    const p3 = await open('Slow Wi-Fi', 2, 2);
    now += 60_000;
    const p1 = await open('Core switch down', 1, 1);
    now += 60_000;
    const held = await open('Printer jam', 1, 2);
    expect([p3.priority, p1.priority, held.priority]).toEqual(['P3', 'P1', 'P2']);
    expect((await t.api('POST', `/api/v1/incidents/${held.id}/acknowledge`, { as: l1 })).status).toBe(200);
    expect((await t.api('POST', `/api/v1/incidents/${held.id}/pend`, { as: l1, body: { reason: 'vendor' } })).status).toBe(200);
    const escalated = await open('Router fire', 2, 1);
    expect(
      (await t.api('POST', `/api/v1/incidents/${escalated.id}/escalate`, { as: l1, body: { reason: 'needs L2' } })).status,
    ).toBe(200);

    const res = await t.api('GET', '/api/v1/queue', { as: l1 });
    expect(res.status).toBe(200);
    const items = res.body.items as Array<{ id: number; tier: string; breachAt: string | null; status: string }>;
    expect(items.every((i) => i.tier === 'L1')).toBe(true);
    const ids = items.map((i) => i.id);
    expect(ids.indexOf(p1.id)).toBeLessThan(ids.indexOf(p3.id));
    expect(ids.at(-1)).toBe(held.id);
    expect(items.find((i) => i.id === held.id)!.breachAt).toBeNull();
    const breaches = items.filter((i) => i.breachAt !== null).map((i) => Date.parse(i.breachAt!));
    expect(breaches).toEqual([...breaches].sort((a, b) => a - b));
    // The P1's acknowledge target of 15 minutes is what it misses first.
    expect(items.find((i) => i.id === p1.id)!.breachAt).toBe(new Date(now - 60_000 + 15 * 60_000).toISOString());

    const filtered = await t.api('GET', '/api/v1/queue?priority=P3&text=wi-fi', { as: l1 });
    expect(filtered.body.items.map((i: { id: number }) => i.id)).toEqual([p3.id]);
    const l2Queue = await t.api('GET', '/api/v1/queue', { as: l2 });
    expect(l2Queue.body.items.map((i: { id: number }) => i.id)).toEqual([escalated.id]);
  });

  it('scopes the queue to the requester and refuses bad filters with a 400', async () => {
    const mine = await t.api('GET', '/api/v1/queue?tier=L1,L2', { as: requester });
    expect(mine.status).toBe(200);
    const other = await t.user('requester');
    const theirs = await t.api('GET', '/api/v1/queue', { as: other });
    expect(theirs.body.items).toEqual([]);
    for (const q of ['priority=P9', 'status=resolved', 'limit=0', 'sort=priority']) {
      const bad = await t.api('GET', `/api/v1/queue?${q}`, { as: l1 });
      expect(bad.status, q).toBe(400);
      expect(bad.body.error.code).toBeTruthy();
    }
  });

  it('counts open incidents per tier and category, targets missed since a given time, and the oldest per tier', async () => {
    const start = new Date(now).toISOString();
    const before = await t.api('GET', `/api/v1/dashboard?since=${encodeURIComponent(start)}`, { as: manager });
    expect(before.status).toBe(200);
    expect(before.body.breaches).toEqual({ events: 0, incidents: 0 });

    // Let the P1's acknowledge target pass and the worker record the miss.
    now += 20 * 60_000;
    await t.palier.worker.runOnce(now);
    const res = await t.api('GET', `/api/v1/dashboard?since=${encodeURIComponent(start)}`, { as: manager });
    expect(res.body.breaches.events).toBeGreaterThanOrEqual(1);
    expect(res.body.breaches.incidents).toBeGreaterThanOrEqual(1);

    const list = await t.api('GET', '/api/v1/incidents?status=open&limit=200', { as: manager });
    const expected = new Map<string, number>();
    for (const i of list.body.items as Array<{ tier: string; category: string }>)
      expected.set(`${i.tier}/${i.category}`, (expected.get(`${i.tier}/${i.category}`) ?? 0) + 1);
    const got = new Map(
      (res.body.open as Array<{ tier: string; category: string; count: number }>).map((o) => [
        `${o.tier}/${o.category}`,
        o.count,
      ]),
    );
    expect(got).toEqual(expected);
    for (const { tier, incident } of res.body.oldest as Array<{ tier: string; incident: { id: number; createdAt: string } }>) {
      const inTier = (list.body.items as Array<{ id: number; tier: string; createdAt: string }>).filter((i) => i.tier === tier);
      const oldest = inTier.reduce((a, b) => (Date.parse(b.createdAt) < Date.parse(a.createdAt) ? b : a));
      expect(incident.id).toBe(oldest.id);
    }
  });

  it("changes the signed-in user's language and nothing else", async () => {
    const res = await t.api('PATCH', '/api/v1/users/me', { as: l2, body: { locale: 'fr' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: l2.id, locale: 'fr' });
    expect((await t.api('GET', '/api/v1/users/me', { as: l2 })).body).toMatchObject({
      locale: 'fr',
      role: 'agent',
      tiers: ['L2'],
    });
    for (const body of [{ locale: 'de' }, { locale: 'fr', role: 'admin' }, {}]) {
      const bad = await t.api('PATCH', '/api/v1/users/me', { as: l2, body });
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(bad.body.error.code).toBe('validation_failed');
    }
    expect((await t.api('GET', '/api/v1/users/me', { as: l2 })).body).toMatchObject({ locale: 'fr', role: 'agent' });
    expect((await t.api('PATCH', '/api/v1/users/me', { body: { locale: 'en' } })).status).toBe(401);
  });

  it('keeps the dashboard to admins and managers, and refuses a bad instant', async () => {
    expect((await t.api('GET', '/api/v1/dashboard', { as: l1 })).status).toBe(403);
    expect((await t.api('GET', '/api/v1/dashboard', { as: requester })).status).toBe(403);
    const bad = await t.api('GET', '/api/v1/dashboard?since=yesterday', { as: manager });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
  });
});
