import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../src/notify/dispatcher.js';
import { UserContactDirectory } from '../../src/notify/recipients.js';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { notifyConfig, startListener, type Listener } from './helpers.js';

const incidentBody = {
  title: 'ERP unreachable',
  description: 'HTTP 502 since 9:00',
  category: 'network-downtime',
  impact: 1,
  urgency: 1,
};

/** What a receiver does: recompute the HMAC over "timestamp.body" and compare in constant time. */
function verify(secret: string, headers: Record<string, string | string[] | undefined>, body: string): boolean {
  const ts = String(headers['x-palier-timestamp']);
  const given = String(headers['x-palier-signature']).replace(/^sha256=/, '');
  const expected = createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

describe.each(ENGINES)('outbound webhooks on %s', (engine) => {
  let t: TestServer;
  let l: Listener;
  let admin: TestUser;
  let agent: TestUser;
  let requester: TestUser;

  const channel = async (body: Record<string, unknown>) => {
    const res = await t.api('POST', '/api/v1/notification-channels', { as: admin, body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const newIncident = async (body: Record<string, unknown> = incidentBody) =>
    (await t.api('POST', '/api/v1/incidents', { as: requester, body })).body.id as number;
  const on = (path: string) => l.received.filter((r) => r.path === path);

  beforeAll(async () => {
    l = await startListener();
    t = await startServer(engine, {
      config: {
        publicUrl: 'https://palier.example.org',
        notify: notifyConfig({ maxAttempts: 2, backoffBaseMs: 10, backoffMaxMs: 20 }),
      },
    });
    admin = await t.user('admin');
    agent = await t.user('agent', { tiers: ['L1'] });
    requester = await t.user('requester');
  });
  afterAll(async () => {
    await t?.close();
    await l?.close();
  });

  it('signs generic webhooks over timestamp and body; the receiver verifies the signature', async () => {
    const hook = await channel({
      name: 'SIEM',
      kind: 'webhook',
      target: `${l.url}/generic`,
      events: ['created', 'escalated'],
      locale: 'en',
    });
    expect(hook.secret).toMatch(/^whsec_/);
    expect(hook.signed).toBe(true);
    // The secret is shown once only.
    const listed = await t.api('GET', '/api/v1/notification-channels', { as: admin });
    expect(JSON.stringify(listed.body)).not.toContain(hook.secret);

    const id = await newIncident();
    await t.palier.dispatcher.runOnce();
    const [got] = on('/generic');
    expect(on('/generic')).toHaveLength(1);
    expect(got!.headers['content-type']).toBe('application/json');
    expect(verify(hook.secret, got!.headers, got!.body)).toBe(true);
    expect(verify(hook.secret, got!.headers, got!.body.replace('ERP', 'CRM'))).toBe(false);
    expect(Math.abs(Number(got!.headers['x-palier-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    const body = JSON.parse(got!.body);
    expect(got!.headers['idempotency-key']).toBe(body.idempotencyKey);
    expect(body.idempotencyKey).toMatch(new RegExp(`^outbox:\\d+:channel:${hook.id}$`));
    expect(body.incident).toMatchObject({
      id,
      title: 'ERP unreachable',
      priority: 'P1',
      tier: 'L1',
      url: `https://palier.example.org/incidents/${id}`,
    });
    expect(body.events).toEqual([expect.objectContaining({ kind: 'created', summary: 'New P1 incident at L1' })]);

    // A rotated secret signs from then on; the old one no longer verifies.
    const rotated = await t.api('POST', `/api/v1/notification-channels/${hook.id}/rotate-secret`, { as: admin });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(hook.secret);
    await t.api('POST', `/api/v1/incidents/${id}/escalate`, { as: agent, body: { reason: 'ERP team' } });
    await t.palier.dispatcher.runOnce(Date.now() + 61_000);
    const second = on('/generic')[1]!;
    expect(verify(rotated.body.secret, second.headers, second.body)).toBe(true);
    expect(verify(hook.secret, second.headers, second.body)).toBe(false);
    await t.api('DELETE', `/api/v1/notification-channels/${hook.id}`, { as: admin });
  });

  it('posts Slack Block Kit and Teams MessageCard payloads in the channel language', async () => {
    await channel({ name: 'Slack #ops', kind: 'slack', target: `${l.url}/slack`, events: ['created'], locale: 'fr' });
    await channel({ name: 'Teams Ops', kind: 'teams', target: `${l.url}/teams`, events: ['created'], locale: 'en' });
    const id = await newIncident({ ...incidentBody, title: 'Mail <relay> & queue' });
    await t.palier.dispatcher.runOnce();
    const slack = JSON.parse(on('/slack')[0]!.body);
    expect(slack.text).toBe(`#${id} Mail &lt;relay&gt; &amp; queue - Nouvel incident P1 au niveau L1`);
    expect(slack.blocks.map((b: { type: string }) => b.type)).toEqual(['section', 'section', 'context']);
    expect(slack.blocks[0].text).toEqual({
      type: 'mrkdwn',
      text: `*<https://palier.example.org/incidents/${id}|#${id} Mail &lt;relay&gt; &amp; queue>*`,
    });
    expect(slack.blocks[1].text.text).toBe('• Nouvel incident P1 au niveau L1');
    expect(slack.blocks[2].elements).toContainEqual({ type: 'mrkdwn', text: '*Priorité*: P1' });
    expect(on('/slack')[0]!.headers['x-palier-signature']).toBeUndefined();

    const teams = JSON.parse(on('/teams')[0]!.body);
    expect(teams).toMatchObject({
      '@type': 'MessageCard',
      '@context': 'https://schema.org/extensions',
      title: `#${id} Mail <relay> & queue`,
      themeColor: 'D13438',
      sections: [{ activityTitle: 'New P1 incident at L1', facts: expect.arrayContaining([{ name: 'Priority', value: 'P1' }]) }],
      potentialAction: [
        {
          '@type': 'OpenUri',
          name: 'Open the incident',
          targets: [{ os: 'default', uri: `https://palier.example.org/incidents/${id}` }],
        },
      ],
    });
  });

  it('refuses a webhook to loopback, link-local or private addresses unless allow-listed, and writes nothing', async () => {
    const strict = await startServer(engine, { config: { notify: notifyConfig({ webhookAllow: [] }) } });
    try {
      const boss = await strict.user('admin');
      for (const target of [
        'http://127.0.0.1:8080/x',
        'http://169.254.169.254/latest/meta-data/',
        'http://10.0.0.5/x',
        'http://[::1]/x',
        'http://localhost/x',
      ]) {
        const res = await strict.api('POST', '/api/v1/notification-channels', {
          as: boss,
          body: { name: 'x', kind: 'webhook', target, events: ['created'] },
        });
        expect(res.status, target).toBe(400);
        expect(res.body.error.code).toBe('webhook_target_refused');
      }
      const count = await strict.palier.services.store.db
        .selectFrom('notification_channels')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(count.n)).toBe(0);
      // Unknown fields and bad kinds are refused too.
      const extra = await strict.api('POST', '/api/v1/notification-channels', {
        as: boss,
        body: { name: 'x', kind: 'webhook', target: 'https://93.184.216.34/x', events: ['created'], secret: 'mine' },
      });
      expect(extra.status).toBe(400);
      // A public address is fine, and changing it to a private one is refused.
      const ok = await strict.api('POST', '/api/v1/notification-channels', {
        as: boss,
        body: { name: 'x', kind: 'webhook', target: 'https://93.184.216.34/x', events: ['created'] },
      });
      expect(ok.status).toBe(201);
      const patched = await strict.api('PATCH', `/api/v1/notification-channels/${ok.body.id}`, {
        as: boss,
        body: { target: 'http://169.254.169.254/' },
      });
      expect(patched.status).toBe(400);
      expect((await strict.api('GET', '/api/v1/notification-channels', { as: boss })).body.items[0].target).toBe(
        'https://93.184.216.34/x',
      );
    } finally {
      await strict.close();
    }
  });

  it('checks the address again when sending: a target no longer allowed is never called', async () => {
    const hook = await channel({ name: 'Local', kind: 'webhook', target: `${l.url}/recheck`, events: ['created'] });
    const id = await newIncident();
    // Another process with a stricter allow-list picks the delivery up.
    const strict = new Dispatcher(
      t.palier.services,
      notifyConfig({ webhookAllow: [], maxAttempts: 1 }),
      new UserContactDirectory(t.palier.services),
    );
    await strict.runOnce();
    expect(on('/recheck')).toHaveLength(0);
    const failed = await t.api('GET', `/api/v1/deliveries?status=failed&incident=${id}&channel=${hook.id}`, { as: admin });
    expect(failed.body.items).toEqual([
      expect.objectContaining({ channelId: hook.id, attempts: 1, lastError: expect.stringContaining('loopback') }),
    ]);
    await t.api('DELETE', `/api/v1/notification-channels/${hook.id}`, { as: admin });
  });

  it('keeps a delivery that keeps failing as failed, lists it, and sends it on retry', async () => {
    const hook = await channel({ name: 'Flaky', kind: 'webhook', target: `${l.url}/flaky`, events: ['created'] });
    l.status = 503;
    const id = await newIncident();
    const d = t.palier.dispatcher;
    await d.runOnce();
    await new Promise((r) => setTimeout(r, 30));
    await d.runOnce();
    expect(on('/flaky')).toHaveLength(2);
    const failed = await t.api('GET', '/api/v1/deliveries?status=failed', { as: await t.user('manager') });
    const mine = failed.body.items.find(
      (x: { incidentId: number; channelId: number }) => x.incidentId === id && x.channelId === hook.id,
    );
    expect(mine).toMatchObject({
      status: 'failed',
      attempts: 2,
      lastError: 'HTTP 503: down for maintenance',
      sentAt: null,
      kind: 'webhook',
    });
    // Not retried on its own.
    await d.runOnce(Date.now() + 3_600_000);
    expect(on('/flaky')).toHaveLength(2);

    l.status = 200;
    expect((await t.api('POST', `/api/v1/deliveries/${mine.id}/retry`, { as: agent })).status).toBe(403);
    const retried = await t.api('POST', `/api/v1/deliveries/${mine.id}/retry`, { as: admin });
    expect(retried.body).toMatchObject({ status: 'pending', attempts: 0 });
    await d.runOnce();
    expect(on('/flaky')).toHaveLength(3);
    const again = await t.api('POST', `/api/v1/deliveries/${mine.id}/retry`, { as: admin });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('not_failed');
    expect((await t.api('POST', '/api/v1/deliveries/999999/retry', { as: admin })).status).toBe(404);
    const sent = await t.api('GET', `/api/v1/deliveries?incident=${id}`, { as: admin });
    expect(sent.body.items.find((x: { id: number }) => x.id === mine.id)).toMatchObject({
      status: 'sent',
      attempts: 1,
      lastError: null,
    });
    // The three calls carried one idempotency key.
    expect(new Set(on('/flaky').map((r) => r.headers['idempotency-key'])).size).toBe(1);
  });

  it('sends a dropped delivery on retry once its channel is enabled again', async () => {
    const hook = await channel({ name: 'Paused', kind: 'webhook', target: `${l.url}/paused`, events: ['created'] });
    const id = await newIncident();
    const d = t.palier.dispatcher;
    await d.expand(Date.now());
    await t.api('PATCH', `/api/v1/notification-channels/${hook.id}`, { as: admin, body: { enabled: false } });
    await d.runOnce();
    const list = await t.api('GET', `/api/v1/deliveries?incident=${id}&channel=${hook.id}`, { as: admin });
    const [mine] = list.body.items;
    expect(mine).toMatchObject({ status: 'dropped', lastError: 'The channel was disabled or deleted' });
    // Retried while still disabled, it is dropped again: the send checks the channel every time.
    expect((await t.api('POST', `/api/v1/deliveries/${mine.id}/retry`, { as: admin })).body.status).toBe('pending');
    await d.runOnce();
    expect(on('/paused')).toHaveLength(0);
    await t.api('PATCH', `/api/v1/notification-channels/${hook.id}`, { as: admin, body: { enabled: true } });
    expect((await t.api('POST', `/api/v1/deliveries/${mine.id}/retry`, { as: admin })).body.status).toBe('pending');
    await d.runOnce();
    expect(on('/paused')).toHaveLength(1);
    const after = await t.api('GET', `/api/v1/deliveries?incident=${id}&channel=${hook.id}`, { as: admin });
    expect(after.body.items[0]).toMatchObject({ id: mine.id, status: 'sent', lastError: null });
    await t.api('DELETE', `/api/v1/notification-channels/${hook.id}`, { as: admin });
  });

  it('answers bad channel and delivery requests with clear 4xx errors', async () => {
    const post = (body: Record<string, unknown>) => t.api('POST', '/api/v1/notification-channels', { as: admin, body });
    const expectCode = (res: { status: number; body: { error: { code: string } } }, status: number, code: string) => {
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
    };
    expectCode(
      await post({ name: 'x', kind: 'email', target: 'not-an-address, ops@example.org', events: ['created'] }),
      400,
      'invalid_target',
    );
    expectCode(await post({ name: 'x', kind: 'email', target: 'ops@example.org', events: [] }), 400, 'validation_failed');
    expectCode(
      await post({ name: 'x', kind: 'email', target: 'ops@example.org', events: ['commented'] }),
      400,
      'validation_failed',
    );
    expectCode(
      await post({ name: 'x', kind: 'pager', target: 'ops@example.org', events: ['created'] }),
      400,
      'validation_failed',
    );
    expectCode(
      await post({ name: 'x', kind: 'webhook', target: 'ftp://93.184.216.34/x', events: ['created'] }),
      400,
      'invalid_url',
    );
    const slack = await post({ name: 'x', kind: 'slack', target: `${l.url}/s`, events: ['created'], enabled: false });
    expect(slack.body).toMatchObject({ secret: null, signed: false, enabled: false });
    expectCode(
      await t.api('POST', `/api/v1/notification-channels/${slack.body.id}/rotate-secret`, { as: admin }),
      409,
      'no_secret',
    );
    expectCode(
      await t.api('PATCH', `/api/v1/notification-channels/${slack.body.id}`, { as: admin, body: { kind: 'teams' } }),
      400,
      'validation_failed',
    );
    expect((await t.api('DELETE', `/api/v1/notification-channels/${slack.body.id}`, { as: admin })).status).toBe(204);
    expectCode(
      await t.api('PATCH', `/api/v1/notification-channels/${slack.body.id}`, { as: admin, body: { name: 'y' } }),
      404,
      'not_found',
    );
    expectCode(await t.api('DELETE', `/api/v1/notification-channels/${slack.body.id}`, { as: admin }), 404, 'not_found');
    expectCode(await t.api('GET', '/api/v1/deliveries?status=lost', { as: admin }), 400, 'validation_failed');
  });
});
