import { createServer, type Server, type Socket, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChains } from '../../src/services/audit.service.js';
import { expectError } from '../helpers/api-assertions.js';
import { ENGINES, freshDatabase, type FreshDatabase } from '../helpers/engines.js';
import { fixture } from '../intake/helpers.js';
import { privatePostgresAvailable, startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';
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

  it('under a steady mixed load through a 3 s outage: 503s meanwhile, never 500, full recovery within 10 s', async () => {
    await steadyLoadThrough(t, requester, 'cut', async () => {
      await proxy.cut();
      await new Promise((r) => setTimeout(r, 3000));
      await proxy.start();
    });
  }, 40_000);
});

/**
 * A steady mixed load (creations, queue reads, inbound alerts, health checks; about 40 requests a
 * second) through `outage`: only 2xx or 503 with Retry-After, never a 500, every acknowledged creation
 * stored once, audit chains intact, and every kind of request answered 2xx within 10 s of the end.
 */
async function steadyLoadThrough(t: TestServer, requester: TestUser, label: string, outage: () => Promise<void>): Promise<void> {
  const body = { title: 'Outage test', description: '', category: 'network-downtime', impact: 3, urgency: 3 };
  t.palier.worker.start(); // the escalation worker rides through the outage too
  const admin = await t.user('admin');
  const agent = await t.user('agent', { tiers: ['L1'] });
  const integration = await t.api('POST', '/api/v1/integrations', {
    as: admin,
    body: { kind: 'alertmanager', name: 'outage', category: 'network-downtime' },
  });
  expect(integration.status).toBe(201);
  const alertHeaders = { authorization: `Bearer ${integration.body.key as string}` };
  const firing = (n: number) => {
    const payload = fixture('alertmanager-v4-firing.json');
    payload.alerts = [{ ...payload.alerts[0], fingerprint: `outage${n.toString(16).padStart(10, '0')}` }];
    return payload;
  };

  // Each kind of request the desk sees, one after the other in every client.
  let n = 0;
  const requests: Array<{ kind: string; send: () => ReturnType<TestServer['api']> }> = [
    { kind: 'create', send: () => t.api('POST', '/api/v1/incidents', { as: requester, body }) },
    { kind: 'queue', send: () => t.api('GET', '/api/v1/incidents?tier=L1', { as: agent }) },
    { kind: 'alert', send: () => t.api('POST', '/api/v1/intake/alertmanager', { headers: alertHeaders, body: firing(++n) }) },
    { kind: 'health', send: () => t.api('GET', '/healthz') },
  ];
  const answers: Array<{ kind: string; status: number; sent: number; at: number }> = [];
  const created: number[] = [];
  const refusedWrongly: string[] = [];
  let stop = false;
  const client = async (offset: number) => {
    for (let i = offset; !stop; i++) {
      const r = requests[i % requests.length]!;
      const sent = Date.now();
      const res = await r.send();
      answers.push({ kind: r.kind, status: res.status, sent, at: Date.now() });
      if (r.kind === 'create' && res.status === 201) created.push(res.body.id);
      if (res.status === 503 && !(Number(res.headers.get('retry-after')) > 0))
        refusedWrongly.push(`${r.kind}: 503 without Retry-After`);
      if (res.status >= 300 && res.status !== 503) refusedWrongly.push(`${r.kind}: ${res.status} ${JSON.stringify(res.body)}`);
      // Steady, not flat out: about 40 requests a second over the 8 clients.
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const clients = Array.from({ length: 8 }, (_, i) => client(i));
  await new Promise((r) => setTimeout(r, 1000));
  const cutAt = Date.now();
  await outage();
  const restoredAt = Date.now();
  // Recovered when, after the last refusal, every kind of request has been answered 2xx; then 2 s more of load.
  const recoveredAt = () => {
    const lastFailure = Math.max(restoredAt, ...answers.filter((a) => a.status >= 300).map((a) => a.at));
    const firstOk = requests.map((r) => answers.find((a) => a.kind === r.kind && a.sent >= lastFailure && a.status < 300)?.at);
    return firstOk.every((at) => at !== undefined) ? Math.max(...(firstOk as number[])) : undefined;
  };
  while (Date.now() - restoredAt < 15_000) {
    const at = recoveredAt();
    if (at !== undefined && Date.now() - at > 2000) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  stop = true;
  await Promise.all(clients);
  await t.palier.worker.stop();

  const recovered = recoveredAt();
  const recoveryMs = recovered === undefined ? Infinity : recovered - restoredAt;
  const tally = (list: typeof answers) =>
    list.reduce<Record<string, number>>(
      (acc, a) => ({ ...acc, [`${a.kind} ${a.status}`]: (acc[`${a.kind} ${a.status}`] ?? 0) + 1 }),
      {},
    );
  console.log(
    `[database-outage ${label}] ${answers.length} requests; before the cut ${JSON.stringify(tally(answers.filter((a) => a.at < cutAt)))}; ` +
      `during ${JSON.stringify(tally(answers.filter((a) => a.at >= cutAt && a.at < restoredAt)))}; ` +
      `after ${JSON.stringify(tally(answers.filter((a) => a.at >= restoredAt)))}; full recovery ${recoveryMs} ms after PostgreSQL came back`,
  );
  expect(refusedWrongly.slice(0, 5), 'answers other than 2xx or 503 with Retry-After').toEqual([]);
  expect(answers.filter((a) => a.status >= 500 && a.status !== 503)).toEqual([]);
  expect(
    answers.some((a) => a.at >= cutAt && a.at < restoredAt && a.status === 503),
    '503s during the outage',
  ).toBe(true);
  expect(recoveryMs).toBeLessThan(10_000);
  const stored = await t.palier.services.store.db.selectFrom('incidents').select('id').where('id', 'in', created).execute();
  expect(stored.length).toBe(created.length);
  expect(new Set(created).size).toBe(created.length);
  expect((await verifyAuditChains(t.palier.services.store)).broken).toBeNull();
}

describe.runIf(ENGINES.includes('postgres') && privatePostgresAvailable)('the API while PostgreSQL itself restarts', () => {
  let t: TestServer;
  let server: PrivatePostgres;

  beforeAll(async () => {
    server = await startPrivatePostgres();
    t = await startServer('postgres', { config: { database: { engine: 'postgres', url: server.url } } });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await server?.stop();
  });

  it('under a steady mixed load, PostgreSQL stopped for 2 s and started again: 503s meanwhile, never 500, full recovery within 10 s', async () => {
    const requester = await t.user('requester');
    await steadyLoadThrough(t, requester, 'restart', () => server.restart(2000));
  }, 60_000);
});
