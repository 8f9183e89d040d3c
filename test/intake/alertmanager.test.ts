import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../helpers/api-assertions.js';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { commentOf, counts, fixture, fixtureText, incidentsOf, newIntegration, storesNothing, timeline } from './helpers.js';

const PATH = '/api/v1/intake/alertmanager';

describe.each(ENGINES)('Alertmanager webhook receiver on %s', (engine) => {
  let t: TestServer;
  let admin: TestUser;

  const post = (key: string | undefined, raw: string, headers: Record<string, string> = {}) =>
    t.api('POST', PATH, {
      raw,
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    });

  beforeAll(async () => {
    t = await startServer(engine);
    admin = await t.user('admin');
  });
  afterAll(() => t?.close());

  it('gives a 128-bit key once, keeps only its hash, and never lists it', async () => {
    const created = await newIntegration(t, admin, {
      kind: 'alertmanager',
      name: 'Prometheus prod',
      category: 'network-downtime',
    });
    expect(created.key).toMatch(/^[0-9a-f]{32}$/);
    expect(created.body).toMatchObject({
      kind: 'alertmanager',
      name: 'Prometheus prod',
      enabled: true,
      keyBy: 'fingerprint',
      resolveIncidents: false,
      keyHint: created.key.slice(-4),
    });
    const stored = await t.palier.services.intake.integration(created.id);
    expect(JSON.stringify(stored)).not.toContain(created.key);
    const list = await t.api('GET', '/api/v1/integrations', { as: admin });
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(created.key);
    expect(list.body.items.find((i: { id: number }) => i.id === created.id)).not.toHaveProperty('key');
  });

  it('lets only administrators manage integrations', async () => {
    const manager = await t.user('manager');
    expectError(
      await t.api('POST', '/api/v1/integrations', { as: manager, body: { kind: 'alertmanager', name: 'x' } }),
      403,
      'forbidden',
    );
    expectError(await t.api('GET', '/api/v1/integrations', { as: manager }), 403, 'forbidden');
    expectError(await t.api('GET', '/api/v1/integrations'), 401, 'unauthorized');
  });

  it('refuses an integration naming a category the matrix does not have', async () => {
    const res = await t.api('POST', '/api/v1/integrations', {
      as: admin,
      body: {
        kind: 'alertmanager',
        name: 'bad',
        category: 'network-downtime',
        rules: [{ match: { team: 'db' }, category: 'databases' }],
      },
    });
    expect(expectError(res, 400, 'unknown_category').details).toEqual([expect.objectContaining({ path: 'rules[0].category' })]);
  });

  it('opens one incident per firing alert, with title, description and priority from annotations and labels', async () => {
    const { id, key } = await newIntegration(t, admin, { kind: 'alertmanager', name: 'per alert', category: 'network-downtime' });
    const res = await post(key, fixtureText('alertmanager-v4-firing.json'));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ status: 'success', processing: 'processed' });
    const incidents = await incidentsOf(t, id);
    expect(incidents.map((i) => i.title)).toEqual([
      'BlackBox Probe Failure: https://intranet.example.org',
      'BlackBox Probe Failure: https://mail.example.org',
    ]);
    for (const incident of incidents) {
      expect(incident).toMatchObject({
        category: 'network-downtime',
        impact: 1,
        urgency: 1,
        priority: 'P1',
        status: 'new',
        tier: 'L1',
      });
      expect(incident.description).toContain('has been down for over 5m');
      expect(incident.description).toContain('severity=critical');
      // Opened through the incident service: creation event, wake-up and outbox row like any incident.
      expect((await timeline(t, incident.id)).map((e) => e.kind)).toEqual(['created']);
      const schedule = await t.palier.services.store.db
        .selectFrom('escalation_schedule')
        .selectAll()
        .where('incident_id', '=', incident.id)
        .execute();
      expect(schedule).toHaveLength(1);
      const outbox = await t.palier.services.store.db
        .selectFrom('outbox')
        .selectAll()
        .where('incident_id', '=', incident.id)
        .execute();
      expect(outbox.length).toBeGreaterThan(0);
    }
  });

  it('adds nothing when the same firing alerts are delivered again, and notes resolved ones once', async () => {
    const { id, key } = await newIntegration(t, admin, { kind: 'alertmanager', name: 'repeats', category: 'network-downtime' });
    expect((await post(key, fixtureText('alertmanager-v4-firing.json'))).status).toBe(200);
    const [a, b] = await incidentsOf(t, id);
    const before = await counts(t);
    // Alertmanager resends the group every repeat_interval; a retry may also deliver it twice.
    for (let i = 0; i < 3; i++) expect((await post(key, fixtureText('alertmanager-v4-firing.json'))).status).toBe(200);
    const after = await counts(t);
    expect(after.incidents).toBe(before.incidents);
    expect(after.incident_events).toBe(before.incident_events);
    expect(after.inbound_messages).toBe(before.inbound_messages! + 3); // each delivery is kept, as received

    expect((await post(key, fixtureText('alertmanager-v4-resolved.json'))).status).toBe(200);
    expect((await post(key, fixtureText('alertmanager-v4-resolved.json'))).status).toBe(200);
    for (const incident of [a!, b!]) {
      const events = await timeline(t, incident.id);
      expect(events.map((e) => e.kind)).toEqual(['created', 'commented']);
      expect(commentOf(events[1]!)).toMatch(/resolved \(ended 2026-11-28T09:31:56/);
      expect((await t.palier.services.incidents.get(incident.id))!.status).toBe('new'); // annotate only, by default
    }
    expect(await incidentsOf(t, id)).toHaveLength(2);

    // Firing again after the resolution: a note on the same open incident, not a new one.
    expect((await post(key, fixtureText('alertmanager-v4-firing.json'))).status).toBe(200);
    expect(await incidentsOf(t, id)).toHaveLength(2);
    expect((await timeline(t, a!.id)).map((e) => e.kind)).toEqual(['created', 'commented', 'commented']);
  });

  it('resolves incidents when configured to, and opens a new one if the alert fires after that', async () => {
    const { id, key } = await newIntegration(t, admin, {
      kind: 'alertmanager',
      name: 'resolving',
      category: 'cloud-service-interruption',
      resolveIncidents: true,
    });
    await post(key, fixtureText('alertmanager-v4-firing.json'));
    await post(key, fixtureText('alertmanager-v4-resolved.json'));
    const incidents = await incidentsOf(t, id);
    expect(incidents.map((i) => i.status)).toEqual(['resolved', 'resolved']);
    expect(incidents[0]!.resolution).toMatch(/^Alert 1a30ba71cca2921f resolved/);
    await post(key, fixtureText('alertmanager-v4-firing.json'));
    expect((await incidentsOf(t, id)).map((i) => i.status)).toEqual(['resolved', 'resolved', 'new', 'new']);
  });

  it('opens a new incident when people resolved the previous one while the alert kept firing', async () => {
    const { id, key } = await newIntegration(t, admin, {
      kind: 'alertmanager',
      name: 'human resolve',
      category: 'network-downtime',
    });
    const body = fixture('alertmanager-v4-firing.json');
    body.alerts = body.alerts.slice(0, 1);
    await post(key, JSON.stringify(body));
    const [first] = await incidentsOf(t, id);
    const agent = await t.user('agent', { tiers: ['L1'] });
    expect(
      (await t.api('POST', `/api/v1/incidents/${first!.id}/resolve`, { as: agent, body: { resolution: 'Rebooted' } })).status,
    ).toBe(200);
    await post(key, JSON.stringify(body));
    expect((await incidentsOf(t, id)).map((i) => i.status)).toEqual(['resolved', 'new']);
  });

  it('keys by group: one incident for the group, alerts joining it are noted', async () => {
    const { id, key } = await newIntegration(t, admin, {
      kind: 'alertmanager',
      name: 'per group',
      category: 'network-downtime',
      keyBy: 'groupKey',
    });
    const body = fixture('alertmanager-v4-firing.json');
    const first = { ...body, alerts: body.alerts.slice(0, 1) };
    await post(key, JSON.stringify(first));
    await post(key, JSON.stringify(first));
    let incidents = await incidentsOf(t, id);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]!.title).toBe('ProbeFailure');
    expect((await timeline(t, incidents[0]!.id)).map((e) => e.kind)).toEqual(['created']);
    await post(key, JSON.stringify(body));
    incidents = await incidentsOf(t, id);
    expect(incidents).toHaveLength(1);
    const events = await timeline(t, incidents[0]!.id);
    expect(events.map((e) => e.kind)).toEqual(['created', 'commented']);
    expect(commentOf(events[1]!)).toContain('Now firing: BlackBox Probe Failure: https://mail.example.org (7c5b2c5a0d6e09a4)');
  });

  it('maps labels to category, impact and urgency by the first matching rule', async () => {
    const { id, key } = await newIntegration(t, admin, {
      kind: 'alertmanager',
      name: 'rules',
      category: 'network-downtime',
      rules: [
        { match: { team: 'security' }, category: 'data-security-breach', impact: 1, urgency: 1 },
        { match: { team: ['network', 'infra'], zone: 'eu-1' }, category: 'cloud-service-interruption', impact: 2, urgency: 3 },
        { match: { team: 'network' }, category: 'network-downtime', impact: 3, urgency: 3 },
      ],
    });
    // Grafana's variant of the body (orgId, title, state, message, values) is accepted too.
    expect((await post(key, fixtureText('grafana-webhook-firing.json'))).status).toBe(200);
    const [incident] = await incidentsOf(t, id);
    expect(incident).toMatchObject({
      title: 'Core switch memory above 90% in zone eu-1',
      category: 'cloud-service-interruption',
      impact: 2,
      urgency: 3,
      priority: 'P4',
    });
    expect(incident!.description).toContain('Runbook: https://runbooks.example.org/core-switch-memory');
  });

  it('keeps annotations as plain text', async () => {
    const { id, key } = await newIntegration(t, admin, { kind: 'alertmanager', name: 'plain', category: 'network-downtime' });
    const body = fixture('alertmanager-v4-firing.json');
    body.alerts = [
      {
        ...body.alerts[0],
        fingerprint: 'aaaa000011112222',
        annotations: { summary: '<b>Disk</b>\u0007 full', description: '<script>alert(1)</script>' },
      },
    ];
    await post(key, JSON.stringify(body));
    const [incident] = await incidentsOf(t, id);
    expect(incident!.title).toBe('<b>Disk</b> full'); // stored as text; whoever shows it escapes it
    expect(incident!.description.startsWith('<script>alert(1)</script>')).toBe(true);
  });

  it('refuses malformed bodies with a clear 400 and stores nothing', async () => {
    const { key } = await newIntegration(t, admin, { kind: 'alertmanager', name: 'malformed', category: 'network-downtime' });
    const good = fixture('alertmanager-v4-firing.json');
    await storesNothing(t, async () => {
      expectError(await post(key, '{"receiver": "palier", "status": "firing", "alerts": ['), 400, 'malformed_json');
      expectError(await post(key, ''), 400, 'malformed_json');
      let error = expectError(await post(key, JSON.stringify({ ...good, alerts: [] })), 400, 'invalid_alertmanager_payload');
      expect(error.details).toEqual([expect.objectContaining({ path: 'alerts' })]);
      error = expectError(await post(key, JSON.stringify({ ...good, groupKey: undefined })), 400, 'invalid_alertmanager_payload');
      expect(error.details).toEqual([expect.objectContaining({ path: 'groupKey' })]);
      const badAlert = structuredClone(good);
      badAlert.alerts[1].status = 'pending';
      badAlert.alerts[1].labels.severity = 5;
      error = expectError(await post(key, JSON.stringify(badAlert)), 400, 'invalid_alertmanager_payload');
      expect(error.details!.map((d) => d.path).sort()).toEqual(['alerts[1].labels.severity', 'alerts[1].status']);
      expectError(await post(key, JSON.stringify([good])), 400, 'invalid_alertmanager_payload');
    });
  });

  it('refuses a missing, wrong, rotated or disabled key (401/403) and stores nothing', async () => {
    const { id, key } = await newIntegration(t, admin, { kind: 'alertmanager', name: 'auth', category: 'network-downtime' });
    const events = await newIntegration(t, admin, { kind: 'events-v2', name: 'other kind', category: 'network-downtime' });
    const body = fixtureText('alertmanager-v4-firing.json');
    await storesNothing(t, async () => {
      expectError(await post(undefined, body), 401, 'invalid_integration_key');
      expectError(await post('0123456789abcdef0123456789abcdef', body), 401, 'invalid_integration_key');
      expectError(await post(undefined, body, { authorization: `Bearer ${admin.token}` }), 401, 'invalid_integration_key');
      expectError(await post(events.key, body), 403, 'forbidden');
      const rotated = await t.api('POST', `/api/v1/integrations/${id}/rotate-key`, { as: admin });
      expect(rotated.status).toBe(200);
      expect(rotated.body.key).toMatch(/^[0-9a-f]{32}$/);
      expectError(await post(key, body), 401, 'invalid_integration_key');
      expect((await t.api('POST', `/api/v1/integrations/${id}/disable`, { as: admin })).body.enabled).toBe(false);
      expectError(await post(rotated.body.key, body), 403, 'forbidden');
    });
    const newKey = (await t.api('POST', `/api/v1/integrations/${id}/rotate-key`, { as: admin })).body.key as string;
    await t.api('POST', `/api/v1/integrations/${id}/enable`, { as: admin });
    // Basic authentication with the key as password works too (Grafana contact points).
    const basic = Buffer.from(`palier:${newKey}`).toString('base64');
    expect((await post(undefined, body, { authorization: `Basic ${basic}` })).status).toBe(200);
    expect(await incidentsOf(t, id)).toHaveLength(2);
  });

  it('keeps every delivery in the message log with what became of it', async () => {
    const { id, key } = await newIntegration(t, admin, { kind: 'alertmanager', name: 'log', category: 'network-downtime' });
    await post(key, fixtureText('alertmanager-v4-firing.json'));
    await post(key, fixtureText('alertmanager-v4-firing.json'));
    const res = await t.api('GET', `/api/v1/integrations/${id}/messages`, { as: admin });
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(2);
    expect(res.body.items.map((m: { status: string }) => m.status)).toEqual(['processed', 'processed']);
    expect(res.body.items[0].outcome).toMatchObject({ opened: [], unchanged: ['1a30ba71cca2921f', '7c5b2c5a0d6e09a4'] });
    expect(res.body.items[1].outcome.opened).toHaveLength(2);
    const raw = await t.palier.services.intake.message(res.body.items[1].id);
    expect(raw!.body).toBe(fixtureText('alertmanager-v4-firing.json'));
  });

  it('documents the intake payloads in the OpenAPI document', async () => {
    const doc = (await t.api('GET', '/api/openapi.json')).body;
    const body = (path: string) => doc.paths[path].post.requestBody.content['application/json'].schema;
    expect(body(PATH).required).toEqual(expect.arrayContaining(['version', 'groupKey', 'status', 'alerts']));
    expect(body('/api/v1/intake/events/v2/enqueue').required).toEqual(expect.arrayContaining(['routing_key', 'event_action']));
  });
});
