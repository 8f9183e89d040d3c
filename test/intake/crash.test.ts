import { afterEach, describe, expect, it } from 'vitest';
import { createPalier, type Palier } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { processMessage, receive, sweep } from '../../src/intake/inbox.js';
import { createIntegration, type Integration } from '../../src/intake/integrations.js';
import { addUser } from '../../src/services/auth.service.js';
import { ENGINES, freshDatabase, type FreshDatabase } from '../helpers/engines.js';
import { fixture, fixtureText } from './helpers.js';

describe.each(ENGINES)('inbound messages survive a crash on %s', (engine) => {
  let db: FreshDatabase;
  const running: Palier[] = [];

  const start = async (overrides: Partial<Config> = {}) => {
    const config = loadConfig({ LOG_LEVEL: 'silent', PALIER_WORKER: 'off' }, { database: db.config, ...overrides });
    const palier = await createPalier(config);
    running.push(palier);
    return palier;
  };
  const stop = async (palier: Palier) => {
    running.splice(running.indexOf(palier), 1);
    await palier.close();
  };

  afterEach(async () => {
    for (const p of running.splice(0)) await p.close();
    await db?.drop();
  });

  const setUp = async (palier: Palier, kind: Integration['kind'] = 'alertmanager') => {
    const admin = await addUser(palier.services, { email: `admin-${kind}@example.test`, role: 'admin' });
    return (
      await createIntegration(
        palier.services,
        { id: admin.id, role: 'admin', tiers: [] },
        { kind, name: 'prod', category: 'network-downtime' },
      )
    ).integration;
  };

  const incidentsOf = async (palier: Palier, integration: Integration) => {
    const rows = await palier.services.store.db
      .selectFrom('incidents')
      .select('id')
      .where('requester_id', '=', integration.systemUserId)
      .execute();
    return rows.length;
  };
  const eventCount = async (palier: Palier) =>
    Number(
      (
        await palier.services.store.db
          .selectFrom('incident_events')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('processes, exactly once, a message stored as received before the process died', async () => {
    db = await freshDatabase(engine);
    let palier = await start();
    const integration = await setUp(palier);
    // The first step only: the message is committed as received, and the process dies before processing it.
    const id = await receive(palier.services, integration, fixtureText('alertmanager-v4-firing.json'), 'group');
    expect((await palier.services.intake.message(id))!.status).toBe('received');
    expect(await incidentsOf(palier, integration)).toBe(0);
    await stop(palier);

    palier = await start(); // the start-up sweep finds it
    const message = (await palier.services.intake.message(id))!;
    expect(message.status).toBe('processed');
    expect(await incidentsOf(palier, integration)).toBe(2);
    const events = await eventCount(palier);
    await stop(palier);

    palier = await start(); // and a second restart does not apply it again
    expect(await incidentsOf(palier, integration)).toBe(2);
    expect(await eventCount(palier)).toBe(events);
    expect(await sweep(palier.services)).toBe(0);
    expect(await processMessage(palier.services, id)).toMatchObject({ status: 'processed', messageId: id });
    expect(await incidentsOf(palier, integration)).toBe(2);
  });

  it('the periodic sweep of a running worker picks up a message left behind', async () => {
    db = await freshDatabase(engine);
    const palier = await start();
    const integration = await setUp(palier, 'events-v2');
    const body = JSON.stringify({ ...fixture('events-v2-trigger.json'), routing_key: 'x' });
    // Left by another process a minute ago (older than the grace the sweep gives live requests).
    const { id } = await palier.services.intake.insertMessage({
      integrationId: integration.id,
      channel: 'events-v2',
      body,
      bodyEncoding: 'utf8',
      dedupKey: 'left-behind',
      receivedAt: Date.now() - 60_000,
    });
    await stop(palier);
    const restarted = await start({ worker: true, intake: { ...loadConfig({}).intake, sweepMs: 50, imap: false } });
    // Processed at start already; a second one arriving later is taken by the periodic sweep.
    expect((await restarted.services.intake.message(id))!.status).toBe('processed');
    const { id: later } = await restarted.services.intake.insertMessage({
      integrationId: integration.id,
      channel: 'events-v2',
      body,
      bodyEncoding: 'utf8',
      dedupKey: 'left-behind-too',
      receivedAt: Date.now() - 60_000,
    });
    for (let i = 0; i < 100 && (await restarted.services.intake.message(later))!.status === 'received'; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect((await restarted.services.intake.message(later))!.status).toBe('processed');
    expect(await incidentsOf(restarted, integration)).toBe(2);
  });

  it('one message processed by several processes at once, and one alert delivered twice at once, open one incident', async () => {
    db = await freshDatabase(engine);
    const a = await start();
    // A second Palier on the same PostgreSQL database. Two SQLite connections in one process would
    // block each other's thread on the write lock; on SQLite the one connection serialises them.
    const b = engine === 'postgres' ? await start() : a;
    const integration = await setUp(a);
    const body = fixtureText('alertmanager-v4-firing.json');
    const one = await receive(a.services, integration, body, 'g');
    await Promise.all([processMessage(a.services, one), processMessage(b.services, one), sweep(a.services), sweep(b.services)]);
    expect(await incidentsOf(a, integration)).toBe(2);
    const afterFirst = await eventCount(a);

    const single = fixture('alertmanager-v4-firing.json');
    single.alerts = [{ ...single.alerts[0], fingerprint: 'ffff000011112222' }];
    const twice = [
      await receive(a.services, integration, JSON.stringify(single), 'g'),
      await receive(b.services, integration, JSON.stringify(single), 'g'),
    ];
    const results = await Promise.all([processMessage(a.services, twice[0]!), processMessage(b.services, twice[1]!)]);
    expect(results.map((r) => r.status)).toEqual(['processed', 'processed']);
    // One opened the incident; the other found it (on PostgreSQL, after losing the race on the unique key and retrying).
    expect(results.map((r) => (r.detail!.opened as number[]).length).sort()).toEqual([0, 1]);
    expect(await incidentsOf(a, integration)).toBe(3);
    expect(await eventCount(a)).toBe(afterFirst + 1);
  });

  it('keeps a stored message it cannot read as rejected, with the reason, instead of retrying it forever', async () => {
    db = await freshDatabase(engine);
    const palier = await start();
    const integration = await setUp(palier);
    const id = await receive(palier.services, integration, '{"version": "4", "alerts": "truncated', null);
    expect(await processMessage(palier.services, id)).toMatchObject({
      status: 'rejected',
      error: 'malformed_json: The request body is not valid JSON',
    });
    expect(await sweep(palier.services)).toBe(0);
  });

  it('rolls processing back whole when the database fails midway, and the sweep processes the message later', async () => {
    db = await freshDatabase(engine);
    const palier = await start();
    const integration = await setUp(palier);
    const s = palier.services;
    const id = await receive(s, integration, fixtureText('alertmanager-v4-firing.json'), 'g');
    // The database connection drops after the incidents and their events are written, before the outbox rows.
    const enqueue = s.escalations.enqueue.bind(s.escalations);
    let failures = 1;
    s.escalations.enqueue = async (...args: Parameters<typeof enqueue>) => {
      if (failures-- > 0) throw Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
      return enqueue(...args);
    };
    const first = await processMessage(s, id);
    expect(first.status).toBe('processed'); // a transient failure is retried at once
    expect(await incidentsOf(palier, integration)).toBe(2);

    // Now a failure that outlasts the immediate retries: the message stays received, nothing half-written.
    const second = await receive(
      s,
      integration,
      JSON.stringify({
        ...fixture('alertmanager-v4-firing.json'),
        alerts: [{ ...fixture('alertmanager-v4-firing.json').alerts[0], fingerprint: 'bbbb000011112222' }],
      }),
      'g',
    );
    failures = 3;
    const before = await eventCount(palier);
    expect(await processMessage(s, second)).toMatchObject({ status: 'received', error: 'Connection terminated unexpectedly' });
    expect((await s.intake.message(second))!.attempts).toBe(1);
    expect(await incidentsOf(palier, integration)).toBe(2);
    expect(await eventCount(palier)).toBe(before);
    expect(await sweep(s)).toBe(1);
    expect((await s.intake.message(second))!.status).toBe('processed');
    expect(await incidentsOf(palier, integration)).toBe(3);
  });
});
