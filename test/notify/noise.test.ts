import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentEvent } from '../../src/domain/incident.js';
import { Dispatcher } from '../../src/notify/dispatcher.js';
import { UserContactDirectory } from '../../src/notify/recipients.js';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { notifyConfig, startListener, type Listener } from './helpers.js';

const WINDOW = 60_000;

describe.each(ENGINES)('noise control on %s', (engine) => {
  let t: TestServer;
  let l: Listener;
  let admin: TestUser;
  let agent: TestUser;
  let requester: TestUser;

  const calls = (path: string) => l.received.filter((r) => r.path === path).map((r) => JSON.parse(r.body));
  const kinds = (call: { events: Array<{ kind: string }> }) => call.events.map((e) => e.kind);
  const channel = async (path: string, events: string[]) => {
    const res = await t.api('POST', '/api/v1/notification-channels', {
      as: admin,
      body: { name: path, kind: 'webhook', target: `${l.url}${path}`, events, categories: [path.slice(1)] },
    });
    expect(res.status).toBe(201);
    return res.body.id as number;
  };
  const newIncident = async (category: string) =>
    (
      await t.api('POST', '/api/v1/incidents', {
        as: requester,
        body: { title: 'Printer queue stuck', description: 'Floor 3', category, impact: 2, urgency: 2 },
      })
    ).body.id as number;
  /** A timer event as the escalation worker writes it to the outbox. */
  const timerEvent = async (incidentId: number, seq: number, kind: 'deadline_warning' | 'reopened', at: number) => {
    const event = {
      incidentId,
      seq,
      at,
      actorId: null,
      fromTier: 'L1',
      toTier: null,
      kind,
      data:
        kind === 'deadline_warning'
          ? { clock: 'L1@1:acknowledge', kind: 'acknowledge', tier: 'L1', target: 'PT15M', dueAt: at + 60_000, fraction: 0.8 }
          : { reason: 'Still failing' },
    } as IncidentEvent;
    await t.palier.services.escalations.enqueue(t.palier.services.store.db, [event], at);
  };

  beforeAll(async () => {
    l = await startListener();
    t = await startServer(engine, { config: { notify: notifyConfig({ groupWindowMs: WINDOW }) } });
    admin = await t.user('admin');
    agent = await t.user('agent', { tiers: ['L1'] });
    requester = await t.user('requester');
  });
  afterAll(async () => {
    await t?.close();
    await l?.close();
  });

  it('sends the first message at once and groups what follows within the window into one', async () => {
    await channel('/network-downtime', ['created', 'acknowledged', 'escalated']);
    const id = await newIncident('network-downtime');
    const now = Date.now();
    await t.palier.dispatcher.runOnce(now);
    expect(calls('/network-downtime').map(kinds)).toEqual([['created']]);
    await t.api('POST', `/api/v1/incidents/${id}/acknowledge`, { as: agent });
    await t.api('POST', `/api/v1/incidents/${id}/escalate`, { as: agent, body: { reason: 'Driver issue' } });
    await t.palier.dispatcher.runOnce(now + 1000);
    await t.palier.dispatcher.runOnce(now + WINDOW / 2);
    expect(calls('/network-downtime')).toHaveLength(1);
    await t.palier.dispatcher.runOnce(now + WINDOW + 1000);
    expect(calls('/network-downtime').map(kinds)).toEqual([['created'], ['acknowledged', 'escalated']]);
  });

  it('drops deadline warnings still waiting once the incident is acknowledged', async () => {
    await channel('/cloud-service-interruption', ['created', 'acknowledged', 'deadline_warning']);
    const warningsOnly = await t.api('POST', '/api/v1/notification-channels', {
      as: admin,
      body: {
        name: 'warnings',
        kind: 'webhook',
        target: `${l.url}/warnings`,
        events: ['deadline_warning'],
        categories: ['cloud-service-interruption'],
      },
    });
    const id = await newIncident('cloud-service-interruption');
    const now = Date.now();
    await t.palier.dispatcher.runOnce(now);
    // A first warning: the warnings channel hears it at once; the other channel holds it in its window.
    await timerEvent(id, 1000, 'deadline_warning', Date.now());
    await t.palier.dispatcher.runOnce(now + 1000);
    expect(calls('/warnings').map(kinds)).toEqual([['deadline_warning']]);
    expect(calls('/cloud-service-interruption').map(kinds)).toEqual([['created']]);
    // A second warning waits in both windows; then someone acknowledges.
    await timerEvent(id, 1001, 'deadline_warning', Date.now());
    await t.palier.dispatcher.runOnce(now + 2000);
    await new Promise((r) => setTimeout(r, 5));
    await t.api('POST', `/api/v1/incidents/${id}/acknowledge`, { as: agent });
    await t.palier.dispatcher.runOnce(now + WINDOW + 3000);
    expect(calls('/cloud-service-interruption').map(kinds)).toEqual([['created'], ['acknowledged']]);
    expect(calls('/warnings')).toHaveLength(1);
    const dropped = await t.api('GET', `/api/v1/deliveries?status=dropped&channel=${warningsOnly.body.id}`, { as: admin });
    expect(dropped.body.items).toEqual([
      expect.objectContaining({
        incidentId: id,
        lastError: 'Acknowledged or resolved before it was sent',
        events: [expect.objectContaining({ kind: 'deadline_warning', seq: 1001 })],
      }),
    ]);
  });

  it('never sends one recipient more than the hourly cap about one incident', async () => {
    await channel('/software-installation-failure', ['created', 'reopened']);
    const id = await newIncident('software-installation-failure');
    const capped = new Dispatcher(
      t.palier.services,
      notifyConfig({ groupWindowMs: 0, hourlyCap: 3 }),
      new UserContactDirectory(t.palier.services),
    );
    await capped.runOnce();
    for (let seq = 2001; seq <= 2005; seq++) {
      await timerEvent(id, seq, 'reopened', Date.now());
      await capped.runOnce();
    }
    expect(calls('/software-installation-failure').map(kinds)).toEqual([['created'], ['reopened'], ['reopened']]);
    const all = await t.api('GET', `/api/v1/deliveries?incident=${id}`, { as: admin });
    expect(all.body.items.map((d: { status: string }) => d.status).sort()).toEqual([
      'dropped',
      'dropped',
      'dropped',
      'sent',
      'sent',
      'sent',
    ]);
    expect(all.body.items.find((d: { status: string }) => d.status === 'dropped').lastError).toMatch(
      /More than 3 messages in an hour/,
    );
  });

  it('keeps an event whose recipients cannot be looked up for later, without holding up the others', async () => {
    await channel('/data-security-breach', ['created']);
    let down = true;
    const users = new UserContactDirectory(t.palier.services);
    const flaky = new Dispatcher(t.palier.services, notifyConfig({ smtpUrl: 'smtp://127.0.0.1:9', backoffBaseMs: 10 }), {
      tierContacts: async (tier) => {
        if (down) throw new Error('directory unavailable');
        return users.tierContacts(tier);
      },
    });
    const id = await newIncident('data-security-breach');
    await flaky.runOnce();
    const row = await t.palier.services.store.db
      .selectFrom('outbox')
      .selectAll()
      .where('incident_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'pending', attempts: 1, last_error: 'directory unavailable' });
    expect(calls('/data-security-breach')).toHaveLength(0);
    down = false;
    await new Promise((r) => setTimeout(r, 20));
    await flaky.runOnce(Date.now() + 1000);
    expect(calls('/data-security-breach').map(kinds)).toEqual([['created']]);
    const after = await t.palier.services.store.db
      .selectFrom('outbox')
      .select('status')
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    expect(after.status).toBe('delivered');
  });
});
