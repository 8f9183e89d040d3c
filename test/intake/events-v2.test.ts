import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../helpers/api-assertions.js';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { counts, fixture, incidentsOf, newIntegration, storesNothing } from './helpers.js';

const PATH = '/api/v1/intake/events/v2/enqueue';

describe.each(ENGINES)('Events API v2 endpoint on %s', (engine) => {
  let t: TestServer;
  let admin: TestUser;

  const send = (body: unknown) => t.api('POST', PATH, { body });
  const trigger = (key: string, overrides: Record<string, unknown> = {}) => ({
    ...fixture('events-v2-trigger.json'),
    routing_key: key,
    ...overrides,
  });
  const follow = (name: 'acknowledge' | 'resolve', key: string, dedupKey: string) => ({
    ...fixture(`events-v2-${name}.json`),
    routing_key: key,
    dedup_key: dedupKey,
  });

  beforeAll(async () => {
    t = await startServer(engine);
    admin = await t.user('admin');
  });
  afterAll(() => t?.close());

  it('opens an incident on trigger and answers exactly like the Events API', async () => {
    const { id, key } = await newIntegration(t, admin, {
      kind: 'events-v2',
      name: 'Datadog',
      category: 'cloud-service-interruption',
    });
    const res = await send(trigger(key));
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'samplekeyhere' });
    const [incident] = await incidentsOf(t, id);
    expect(incident).toMatchObject({
      title: 'Example alert on host1.example.com',
      category: 'cloud-service-interruption',
      priority: 'P1',
      status: 'new',
    });
    expect(incident!.description).toContain(
      'Source: monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003',
    );
    expect(incident!.description).toContain('"ping time": "1500ms"');
    expect(incident!.description).toContain('Link text: https://example.com/');
  });

  it('deduplicates triggers with the same dedup_key while the incident is open', async () => {
    const { id, key } = await newIntegration(t, admin, { kind: 'events-v2', name: 'dedup', category: 'network-downtime' });
    expect((await send(trigger(key, { dedup_key: 'disk-full-db1' }))).status).toBe(202);
    const before = await counts(t);
    for (let i = 0; i < 3; i++) {
      const res = await send(trigger(key, { dedup_key: 'disk-full-db1' }));
      expect(res.body).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'disk-full-db1' });
    }
    const after = await counts(t);
    expect(after.incidents).toBe(before.incidents);
    expect(after.incident_events).toBe(before.incident_events);
    expect(await incidentsOf(t, id)).toHaveLength(1);
  });

  it('keys are per integration: the same dedup_key on another integration is another alert', async () => {
    const a = await newIntegration(t, admin, { kind: 'events-v2', name: 'a', category: 'network-downtime' });
    const b = await newIntegration(t, admin, { kind: 'events-v2', name: 'b', category: 'network-downtime' });
    await send(trigger(a.key, { dedup_key: 'shared' }));
    await send(trigger(b.key, { dedup_key: 'shared' }));
    expect(await incidentsOf(t, a.id)).toHaveLength(1);
    expect(await incidentsOf(t, b.id)).toHaveLength(1);
  });

  it('generates a dedup_key when a trigger has none, usable to acknowledge and resolve', async () => {
    const { id, key } = await newIntegration(t, admin, { kind: 'events-v2', name: 'generated', category: 'network-downtime' });
    const first = await send(trigger(key, { dedup_key: undefined }));
    const second = await send(trigger(key, { dedup_key: undefined }));
    expect(first.status).toBe(202);
    expect(first.body.dedup_key).toMatch(/^[0-9a-f]{32}$/);
    expect(second.body.dedup_key).not.toBe(first.body.dedup_key);
    expect(await incidentsOf(t, id)).toHaveLength(2);

    expect((await send(follow('acknowledge', key, first.body.dedup_key))).status).toBe(202);
    let [incident] = await incidentsOf(t, id);
    expect(incident!.status).toBe('acknowledged');
    expect((await send(follow('resolve', key, first.body.dedup_key))).body).toEqual({
      status: 'success',
      message: 'Event processed',
      dedup_key: first.body.dedup_key,
    });
    [incident] = await incidentsOf(t, id);
    expect(incident!.status).toBe('resolved');
    expect(incident!.resolution).toBe(`Resolved by generated (dedup_key ${first.body.dedup_key}).`);
  });

  it('opens a new incident for a trigger after the previous one was resolved; drops acknowledge and resolve for none', async () => {
    const { id, key } = await newIntegration(t, admin, { kind: 'events-v2', name: 'cycle', category: 'network-downtime' });
    await send(trigger(key, { dedup_key: 'cpu-web1' }));
    await send(follow('resolve', key, 'cpu-web1'));
    const before = await counts(t);
    // Acknowledge and resolve for no open incident: accepted (202) and dropped.
    expect((await send(follow('resolve', key, 'cpu-web1'))).status).toBe(202);
    expect((await send(follow('acknowledge', key, 'never-triggered'))).status).toBe(202);
    const after = await counts(t);
    expect(after.incident_events).toBe(before.incident_events);
    await send(trigger(key, { dedup_key: 'cpu-web1' }));
    expect((await incidentsOf(t, id)).map((i) => i.status)).toEqual(['resolved', 'new']);
  });

  it('maps severity to priority and routes by rules over payload fields', async () => {
    const { id, key } = await newIntegration(t, admin, {
      kind: 'events-v2',
      name: 'rules',
      category: 'network-downtime',
      rules: [{ match: { component: 'postgres', severity: 'warning' }, category: 'cloud-service-interruption', urgency: 1 }],
    });
    const payload = fixture('events-v2-trigger.json').payload;
    await send(trigger(key, { dedup_key: 'w', payload: { ...payload, severity: 'warning' } }));
    await send(trigger(key, { dedup_key: 'i', payload: { ...payload, severity: 'info', component: 'nginx' } }));
    await send(trigger(key, { dedup_key: 'e', payload: { ...payload, severity: 'error', component: 'nginx' } }));
    const [w, i, e] = await incidentsOf(t, id);
    expect(w).toMatchObject({ category: 'cloud-service-interruption', impact: 2, urgency: 1, priority: 'P2' });
    expect(i).toMatchObject({ category: 'network-downtime', impact: 3, urgency: 3, priority: 'P5' });
    expect(e).toMatchObject({ category: 'network-downtime', impact: 2, urgency: 1, priority: 'P2' });
  });

  it('refuses invalid events with 400 {status: "invalid event", errors} and stores nothing', async () => {
    const { key } = await newIntegration(t, admin, { kind: 'events-v2', name: 'invalid', category: 'network-downtime' });
    const payload = fixture('events-v2-trigger.json').payload;
    const invalid = async (body: unknown, raw?: string) => {
      const res =
        raw === undefined
          ? await send(body)
          : await t.api('POST', PATH, { raw, headers: { 'content-type': 'application/json' } });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(Object.keys(res.body).sort()).toEqual(['errors', 'message', 'status']);
      expect(res.body.status).toBe('invalid event');
      expect(res.body.message).toBe('Event object is invalid');
      expect(res.body.errors.length).toBeGreaterThan(0);
      return res.body.errors as string[];
    };
    await storesNothing(t, async () => {
      expect(await invalid(trigger(key, { payload: undefined }))).toEqual(["'payload' is missing or blank"]);
      expect((await invalid(trigger(key, { payload: { ...payload, summary: 'x'.repeat(1025) } })))[0]).toMatch(
        /^'payload.summary'/,
      );
      expect((await invalid(trigger(key, { payload: { ...payload, severity: 'fatal' } })))[0]).toMatch(/^'payload.severity'/);
      expect((await invalid(trigger(key, { payload: { ...payload, source: undefined } })))[0]).toMatch(/^'payload.source'/);
      expect((await invalid(trigger(key, { dedup_key: 'k'.repeat(256) })))[0]).toMatch(/^'dedup_key'/);
      expect((await invalid(trigger(key, { event_action: 'escalate' })))[0]).toMatch(/^'event_action'/);
      expect(await invalid({ routing_key: key, event_action: 'resolve' })).toEqual(["'dedup_key' is missing or blank"]);
      expect(await invalid(trigger(''))).toEqual(["'routing_key' is missing or blank"]);
      expect(await invalid(undefined, '{"routing_key": "')).toEqual(['Event is not valid JSON']);
      expect(await invalid(undefined, '[]')).toEqual(['Event must be a JSON object']);
    });
    expect(
      (await send(trigger(key, { dedup_key: 'k'.repeat(255), payload: { ...payload, summary: 's'.repeat(1024) } }))).status,
    ).toBe(202);
  });

  it('refuses bodies over 512 KB', async () => {
    const { key } = await newIntegration(t, admin, { kind: 'events-v2', name: 'large', category: 'network-downtime' });
    const payload = fixture('events-v2-trigger.json').payload;
    await storesNothing(t, async () => {
      const res = await send(trigger(key, { payload: { ...payload, custom_details: { dump: 'x'.repeat(512 * 1024) } } }));
      expectError(res, 413, 'body_too_large');
    });
    const res = await send(
      trigger(key, { dedup_key: 'big', payload: { ...payload, custom_details: { dump: 'x'.repeat(500 * 1024) } } }),
    );
    expect(res.status).toBe(202);
  });

  it('refuses unknown keys (401), disabled integrations and keys of another kind (403)', async () => {
    const { id, key } = await newIntegration(t, admin, { kind: 'events-v2', name: 'auth', category: 'network-downtime' });
    const am = await newIntegration(t, admin, { kind: 'alertmanager', name: 'am', category: 'network-downtime' });
    await storesNothing(t, async () => {
      expectError(await send(trigger('samplekeyhere')), 401, 'invalid_integration_key');
      expectError(await send(trigger('0123456789abcdef0123456789abcdef')), 401, 'invalid_integration_key');
      expectError(await send(trigger(am.key)), 403, 'forbidden');
      await t.api('POST', `/api/v1/integrations/${id}/disable`, { as: admin });
      expectError(await send(trigger(key)), 403, 'forbidden');
    });
  });
});

describe('Events API v2 rate limit', () => {
  it('answers 429 once an integration sends more than its share per minute, and stores nothing for it', async () => {
    const t = await startServer('sqlite', {
      config: {
        intake: { smtpHost: '127.0.0.1', smtpPort: null, smtpMaxBytes: 1 << 20, sweepMs: 30_000, imap: false, ratePerMinute: 3 },
      },
    });
    try {
      const admin = await t.user('admin');
      const { key } = await newIntegration(t, admin, { kind: 'events-v2', name: 'noisy', category: 'network-downtime' });
      const body = (i: number) => ({ ...fixture('events-v2-trigger.json'), routing_key: key, dedup_key: `k${i}` });
      for (let i = 0; i < 3; i++) expect((await t.api('POST', PATH, { body: body(i) })).status).toBe(202);
      const res = await storesNothing(t, () => t.api('POST', PATH, { body: body(3) }));
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('60');
      expect(res.body.status).toBe('throttle event');
    } finally {
      await t.close();
    }
  });
});
