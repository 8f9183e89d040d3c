import { createServer, type Server, type Socket, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChains } from '../../src/services/audit.service.js';
import { expectError } from '../helpers/api-assertions.js';
import { ENGINES, freshDatabase, type FreshDatabase } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';

/**
 * A TCP relay between Palier and PostgreSQL that the test can cut (stop listening and drop every
 * connection, as a crashed or unreachable server would look) and restore on the same port.
 */
class CuttableProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const PG = new URL(process.env.PALIER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');

describe.runIf(ENGINES.includes('postgres'))('the API while PostgreSQL is unreachable', () => {
  let t: TestServer;
  let db: FreshDatabase;
  let proxy: CuttableProxy;
  let requester: TestUser;
  const body = { title: 'Outage test', description: '', category: 'network-downtime', impact: 3, urgency: 3 };

  beforeAll(async () => {
    db = await freshDatabase('postgres');
    proxy = new CuttableProxy(PG.hostname, Number(PG.port || 5432));
    await proxy.start();
    const url = new URL((db.config as { url: string }).url);
    url.host = `127.0.0.1:${proxy.port}`;
    t = await startServer('postgres', { config: { database: { engine: 'postgres', url: url.toString() } } });
    requester = await t.user('requester');
  }, 30_000);
  afterAll(async () => {
    await t?.close();
    await proxy?.cut();
    await db?.drop();
  });

  it('answers 503 with Retry-After during the outage, never 500, and recovers by itself', async () => {
    expect((await t.api('GET', '/healthz')).status).toBe(200);
    const before = await t.api('POST', '/api/v1/incidents', { as: requester, body });
    expect(before.status).toBe(201);

    await proxy.cut();
    const during = [
      await t.api('GET', '/healthz'),
      await t.api('GET', '/api/v1/incidents', { as: requester }),
      await t.api('GET', `/api/v1/incidents/${before.body.id}`, { as: requester }),
      await t.api('POST', '/api/v1/incidents', { as: requester, body }),
      await t.api('POST', `/api/v1/incidents/${before.body.id}/comments`, { as: requester, body: { body: 'lost?' } }),
      await t.api('POST', '/api/v1/auth/token', { body: { email: requester.email, password: 'test-password-123' } }),
    ];
    for (const res of during) {
      expectError(res, 503, 'unavailable');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }

    await proxy.start(); // same port
    const started = Date.now();
    let health = await t.api('GET', '/healthz');
    while (health.status !== 200 && Date.now() - started < 10_000) {
      expect(health.status).toBe(503);
      await new Promise((r) => setTimeout(r, 100));
      health = await t.api('GET', '/healthz');
    }
    expect(health.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(10_000);

    const after = await t.api('POST', '/api/v1/incidents', { as: requester, body });
    expect(after.status).toBe(201);
    // Nothing refused during the outage was written: only the two acknowledged creations exist.
    const list = await t.api('GET', '/api/v1/incidents', { as: requester });
    expect(list.body.items.map((i: { id: number }) => i.id).sort()).toEqual([before.body.id, after.body.id].sort());
    const timeline = await t.api('GET', `/api/v1/incidents/${before.body.id}/timeline`, { as: requester });
    expect(timeline.body.map((e: { kind: string }) => e.kind)).toEqual(['created']);
  }, 30_000);

  it('under load through a cut, every acknowledged creation is stored, and nothing answers 500', async () => {
    t.palier.worker.start(); // the escalation worker rides through the outage too
    const statuses: number[] = [];
    const created: number[] = [];
    let stop = false;
    const client = async () => {
      while (!stop) {
        const res = await t.api('POST', '/api/v1/incidents', { as: requester, body });
        statuses.push(res.status);
        if (res.status === 201) created.push(res.body.id);
        else expectError(res, 503, 'unavailable');
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await new Promise((r) => setTimeout(r, 300));
    await proxy.cut();
    await new Promise((r) => setTimeout(r, 500));
    await proxy.start();
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await Promise.all(clients);
    await t.palier.worker.stop();

    expect(statuses.filter((s) => s !== 201 && s !== 503)).toEqual([]);
    expect(statuses).toContain(503);
    expect(statuses.lastIndexOf(201)).toBeGreaterThan(statuses.lastIndexOf(503)); // recovered
    const stored = await t.palier.services.store.db.selectFrom('incidents').select('id').where('id', 'in', created).execute();
    expect(stored.length).toBe(created.length);
    expect(new Set(created).size).toBe(created.length);
    expect((await verifyAuditChains(t.palier.services.store)).broken).toBeNull();
  }, 30_000);
});
