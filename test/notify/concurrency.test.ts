import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../src/notify/dispatcher.js';
import { UserContactDirectory } from '../../src/notify/recipients.js';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { notifyConfig, startListener, type Listener } from './helpers.js';

describe.each(ENGINES)('several dispatchers sharing one database on %s', (engine) => {
  let t: TestServer;
  let l: Listener;

  beforeAll(async () => {
    l = await startListener();
    t = await startServer(engine, { config: { notify: notifyConfig({ groupWindowMs: 0 }) } });
  });
  afterAll(async () => {
    await t?.close();
    await l?.close();
  });

  it('sends each delivery once however many dispatchers run at the same time', async () => {
    const admin = await t.user('admin');
    const agent = await t.user('agent', { tiers: ['L1'] });
    await t.api('POST', '/api/v1/notification-channels', {
      as: admin,
      body: { name: 'all', kind: 'webhook', target: `${l.url}/all`, events: ['created', 'acknowledged'] },
    });
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await t.api('POST', '/api/v1/incidents', {
        as: agent,
        body: { title: `Disk ${i}`, description: '', category: 'network-downtime', impact: 3, urgency: 3 },
      });
      ids.push(res.body.id);
      if (i % 2 === 0) await t.api('POST', `/api/v1/incidents/${res.body.id}/acknowledge`, { as: agent });
    }
    const dispatchers = [0, 1, 2].map(
      () =>
        new Dispatcher(t.palier.services, notifyConfig({ groupWindowMs: 0 }), new UserContactDirectory(t.palier.services), {
          batchSize: 4,
        }),
    );
    const pending = async () => {
      const row = await t.palier.services.store.db
        .selectFrom('deliveries')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', '=', 'pending')
        .executeTakeFirstOrThrow();
      const outbox = await t.palier.services.store.db
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', '=', 'pending')
        .executeTakeFirstOrThrow();
      return Number(row.n) + Number(outbox.n);
    };
    for (let round = 0; round < 50 && (round === 0 || (await pending()) > 0); round++)
      await Promise.all(dispatchers.map((d) => d.runOnce(Date.now() + 120_000)));
    expect(await pending()).toBe(0);
    const keys = l.received.map((r) => String(r.headers['idempotency-key']));
    expect(new Set(keys).size).toBe(keys.length);
    // Every event reached the channel exactly once: 20 creations and 10 acknowledgements, grouped or not.
    const events = l.received.flatMap((r) =>
      (JSON.parse(r.body) as { events: Array<{ kind: string }>; incident: { id: number } }).events.map((e) => e.kind),
    );
    expect(events.filter((k) => k === 'created')).toHaveLength(20);
    expect(events.filter((k) => k === 'acknowledged')).toHaveLength(10);
  });
});
