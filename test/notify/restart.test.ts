/**
 * Fault test: the webhook receiver is down for a while and Palier restarts in between; when the
 * receiver comes back the notification arrives, once, after retries.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPalier, type Palier } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createChannel } from '../../src/notify/channels.js';
import { WebhookGuard } from '../../src/notify/ssrf-guard.js';
import { addUser } from '../../src/services/auth.service.js';
import { createIncident } from '../../src/services/incident.service.js';
import { openStore } from '../../src/store/database.js';
import { ENGINES, freshDatabase, type FreshDatabase } from '../helpers/engines.js';
import { freePort, notifyConfig, startListener, type Listener } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe.each(ENGINES)('a webhook receiver down across a Palier restart, on %s', (engine) => {
  let db: FreshDatabase | undefined;
  let palier: Palier | undefined;
  let listener: Listener | undefined;
  const files = mkdtempSync(join(tmpdir(), 'palier-files-'));

  afterAll(async () => {
    await palier?.close();
    await listener?.close();
    await db?.drop();
    rmSync(files, { recursive: true, force: true });
  });

  it('delivers exactly once, after retries, with the state kept in the database only', async () => {
    db = await freshDatabase(engine);
    const port = await freePort();
    const config: Config = loadConfig(
      { LOG_LEVEL: 'silent', PALIER_WORKER: 'on' },
      {
        database: db.config,
        attachmentsDir: files,
        workerPollMs: 50,
        notify: notifyConfig({ pollMs: 20, backoffBaseMs: 100, backoffMaxMs: 400, maxAttempts: 50, timeoutMs: 2000 }),
      },
    );
    palier = await createPalier(config);
    const s = palier.services;
    const requester = await addUser(s, { email: 'req@example.org', password: 'a long passphrase', role: 'requester', tiers: [] });
    const { channel, secret } = await createChannel(s, new WebhookGuard(config.notify.webhookAllow), {
      name: 'Receiver',
      kind: 'webhook',
      target: `http://127.0.0.1:${port}/events`,
      events: ['created'],
    });
    expect(secret).toBeTruthy();
    const incident = await createIncident(
      s,
      { id: requester.id, role: 'requester', tiers: [] },
      {
        title: 'Backup job failed',
        description: 'Nightly backup of fs01',
        category: 'network-downtime',
        impact: 2,
        urgency: 2,
      },
    );
    const delivery = () =>
      s.store.db
        .selectFrom('deliveries')
        .selectAll()
        .where('incident_id', '=', incident.id)
        .where('channel_id', '=', channel.id)
        .executeTakeFirst();

    // The receiver refuses connections: the delivery is retried with growing delays, still pending.
    const failing = await until('two failed attempts', async () => {
      const d = await delivery();
      return d && d.attempts >= 2 && d.last_error ? d : undefined;
    });
    expect(failing.status).toBe('pending');
    expect(failing.last_error).toMatch(/fetch failed|ECONNREFUSED/);

    // Palier stops, the receiver comes back, Palier starts again on the same database.
    await palier.close();
    palier = undefined;
    // Nothing but the database remembers the delivery between the two processes.
    const store = openStore(config.database);
    const stopped = await store.db.selectFrom('deliveries').selectAll().where('id', '=', failing.id).executeTakeFirstOrThrow();
    await store.close();
    expect(stopped.status).toBe('pending');
    listener = await startListener(port);
    palier = await createPalier(config);
    const s2 = palier.services;

    const sent = await until('the delivery sent', async () => {
      const d = await s2.store.db.selectFrom('deliveries').selectAll().where('id', '=', failing.id).executeTakeFirst();
      return d?.status === 'sent' ? d : undefined;
    });
    expect(sent.attempts).toBeGreaterThanOrEqual(stopped.attempts + 1);
    // Give a duplicate every chance to show up.
    await sleep(500);
    const calls = listener.received.filter((r) => r.path === '/events');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.headers['idempotency-key']).toBe(`outbox:${sent.outbox_id}:channel:${channel.id}`);
    expect(JSON.parse(calls[0]!.body).incident.id).toBe(incident.id);
    // The outbox row was expanded once: one delivery for this channel and incident.
    const all = await s2.store.db
      .selectFrom('deliveries')
      .select('id')
      .where('incident_id', '=', incident.id)
      .where('channel_id', '=', channel.id)
      .execute();
    expect(all).toHaveLength(1);
  }, 60_000);
});
