/**
 * Walks every route of the OpenAPI document as each role and checks the status against the table
 * below, keyed by route and role. A route the table does not know fails the suite: a new route
 * needs its row, that is, a decision about who may call it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, type EngineName } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { vendorLink } from '../../src/services/vendor.service.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** vendorContact: a contact of the fixture vendor, which the incidents of `incident('vendor')` are handed to. */
const ROLES = ['anonymous', 'requesterA', 'requesterB', 'agentL1', 'agentL2', 'manager', 'admin', 'vendorContact'] as const;
type Who = (typeof ROLES)[number];
type State = 'new' | 'acknowledged' | 'in_progress' | 'pending' | 'resolved' | 'vendor';

interface Prepared {
  path: string;
  body?: unknown;
  /** Sign the request with this token instead of the role's own (routes that end the caller's token). */
  token?: string;
  /** The incident the request acts on: a refused request must leave its timeline as it was. */
  incidentId?: number;
  /** A multipart body instead of JSON. */
  form?: () => FormData;
  /** A response that never ends (server-sent events): only its status is read. */
  stream?: boolean;
}

interface Fixtures {
  t: TestServer;
  users: Record<Exclude<Who, 'anonymous'>, TestUser>;
  /** A new incident of requester A, driven by an admin to `state` (at L2 if asked). */
  incident(state: State, opts?: { tier?: 'L2'; category?: string }): Promise<number>;
  /** A new token for that role's user (anonymous: none). */
  freshToken(who: Who): Promise<string | undefined>;
  /** A new user that exists only for this request. */
  throwawayUser(): Promise<TestUser>;
  /** The vendor the vendor contact speaks for, covering every category. */
  vendorId: number;
  /** A signed link to the page of the fixture vendor for a fresh incident handed to it. */
  vendorLink(): Promise<string>;
}

interface Row {
  expect: Record<Who, number>;
  prepare(f: Fixtures, who: Who): Promise<Prepared>;
}

/** Statuses by audience: anyone signed in; staff only; one tier's agents; admins; owner-or-tier. */
const everyone = (ok: number, anonymous = 401): Record<Who, number> => ({
  anonymous,
  requesterA: ok,
  requesterB: ok,
  agentL1: ok,
  agentL2: ok,
  manager: ok,
  admin: ok,
  vendorContact: ok,
});
/** Everyone signed in but vendor contacts, who see only their vendor's incidents (not the matrix). */
const organisation = (ok: number): Record<Who, number> => ({ ...everyone(ok), vendorContact: 403 });
const staff = (ok: number): Record<Who, number> => ({ ...everyone(ok), requesterA: 403, requesterB: 403, vendorContact: 403 });
const readers = (ok: number): Record<Who, number> => ({
  ...everyone(ok),
  requesterA: 403,
  requesterB: 403,
  agentL1: 403,
  agentL2: 403,
  vendorContact: 403,
});
const admins = (ok: number): Record<Who, number> => ({ ...readers(ok), manager: 403 });
/** Work on requester A's incident at L1: L1 agents, managers and admins; requesters are refused up front. */
const workAtL1 = (ok = 200): Record<Who, number> => ({ ...staff(ok), agentL2: 403 });
const workAtL2 = (ok = 200): Record<Who, number> => ({ ...staff(ok), agentL1: 403 });
/** Requester A's incident: its owner and staff; requester B (and a vendor it is not handed to) is told it does not exist. */
const ownerOrStaff = (ok: number): Record<Who, number> => ({ ...everyone(ok), requesterB: 404, vendorContact: 404 });
/** What the vendor says, on an incident at L1 handed to the fixture vendor: its contact, or L1 staff recording it. */
const vendorAnswer = (): Record<Who, number> => ({ ...workAtL1(), vendorContact: 200 });
/** The vendor page: public, the signed link is the credential, whatever token comes with it. */
const linkHolder = (): Record<Who, number> => everyone(200, 200);
/** Close or reopen A's resolved incident at L1: the owner, L1, managers and admins. */
const ownerOrTier = (ok = 200): Record<Who, number> => ({ ...ownerOrStaff(ok), agentL2: 403 });

const on =
  (state: State, action: string, body?: unknown, opts?: { tier?: 'L2'; category?: string }) =>
  async (f: Fixtures): Promise<Prepared> => {
    const id = await f.incident(state, opts);
    return { path: `/api/v1/incidents/${id}/${action}`, body, incidentId: id };
  };

const textFile = () => {
  const form = new FormData();
  form.append('file', new Blob(['Journal du routeur\n']), 'routeur.log');
  return form;
};

const newIncident = {
  title: 'Imprimante HS',
  description: 'Plus rien ne sort',
  category: 'network-downtime',
  impact: 3,
  urgency: 3,
};

/** A fresh integration created by the admin, with its key. */
async function integration(f: Fixtures, kind: 'events-v2' | 'alertmanager' = 'events-v2'): Promise<{ id: number; key: string }> {
  const res = await f.t.api('POST', '/api/v1/integrations', {
    as: f.users.admin,
    body: { kind, name: `${kind}-${Math.random().toString(36).slice(2)}` },
  });
  return res.body;
}

/** A fresh notification channel created by the admin (a public address: no DNS, no allow-list needed). */
async function channel(f: Fixtures, kind: 'email' | 'webhook' = 'email'): Promise<{ id: number }> {
  const res = await f.t.api('POST', '/api/v1/notification-channels', {
    as: f.users.admin,
    body:
      kind === 'email'
        ? { name: 'Ops list', kind, target: 'ops@example.org', events: ['created'] }
        : { name: 'Hook', kind, target: 'https://93.184.216.34/hook', events: ['created'] },
  });
  return res.body;
}

/** A delivery that ran out of attempts, written as the dispatcher leaves one. */
async function failedDelivery(f: Fixtures): Promise<number> {
  const id = await f.incident('new');
  const db = f.t.palier.services.store.db;
  const outbox = await db.selectFrom('outbox').select('id').where('incident_id', '=', id).executeTakeFirstOrThrow();
  const row = await db
    .insertInto('deliveries')
    .values({
      outbox_id: outbox.id,
      incident_id: id,
      channel_id: null,
      kind: 'email',
      recipient: 'email:ops@example.org',
      locale: 'fr',
      idempotency_key: `outbox:${outbox.id}:email:ops@example.org:${Math.random()}`,
      status: 'failed',
      attempts: 8,
      next_attempt_at: 0,
      last_error: 'connection refused',
      sent_at: null,
      created_at: Date.now(),
      payload: JSON.stringify({ incidentId: id, events: [] }),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

const alertmanagerBody = () => ({
  version: '4',
  groupKey: '{}:{alertname="DiskFull"}',
  truncatedAlerts: 0,
  status: 'firing',
  receiver: 'palier',
  groupLabels: { alertname: 'DiskFull' },
  commonLabels: { alertname: 'DiskFull' },
  commonAnnotations: {},
  externalURL: 'http://alertmanager.example:9093',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'DiskFull', instance: `srv-${Math.random().toString(36).slice(2)}` },
      annotations: { summary: 'Disk full' },
      startsAt: '2026-11-28T10:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example/graph',
      fingerprint: Math.random().toString(16).slice(2, 18),
    },
  ],
});

/** A fresh L1 team created by the admin. */
async function team(f: Fixtures): Promise<number> {
  const res = await f.t.api('POST', '/api/v1/teams', {
    as: f.users.admin,
    body: { name: `Team ${Math.random().toString(36).slice(2)}`, tier: 'L1' },
  });
  return res.body.id;
}

/** Reads the status of an endless response, then hangs up. */
async function openStream(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const abort = new AbortController();
  const r = await fetch(url, { headers, signal: abort.signal });
  const body = r.status >= 400 ? await r.text() : '';
  abort.abort();
  return { status: r.status, body };
}

const TABLE: Record<string, Row> = {
  'GET /healthz': { expect: everyone(200, 200), prepare: async () => ({ path: '/healthz' }) },

  'POST /api/v1/auth/token': {
    expect: everyone(200, 200),
    prepare: async (f) => {
      const u = await f.throwawayUser();
      return { path: '/api/v1/auth/token', body: { email: u.email, password: 'test-password-123' } };
    },
  },
  'DELETE /api/v1/auth/token': {
    expect: everyone(204),
    prepare: async (f, who) => ({ path: '/api/v1/auth/token', token: await f.freshToken(who) }),
  },
  'DELETE /api/v1/auth/session': {
    expect: everyone(200),
    prepare: async (f, who) => ({ path: '/api/v1/auth/session', token: await f.freshToken(who) }),
  },
  'POST /api/v1/auth/session': {
    expect: everyone(200, 200),
    prepare: async (f) => {
      const u = await f.throwawayUser();
      return { path: '/api/v1/auth/session', body: { email: u.email, password: 'test-password-123' } };
    },
  },
  // Single sign-on is public; this server has no identity provider configured, so its steps answer 404
  // (test/security/oidc.test.ts signs in through a real one).
  'GET /api/v1/auth/oidc': { expect: everyone(200, 200), prepare: async () => ({ path: '/api/v1/auth/oidc' }) },
  'GET /api/v1/auth/oidc/login': { expect: everyone(404, 404), prepare: async () => ({ path: '/api/v1/auth/oidc/login' }) },
  'GET /api/v1/auth/oidc/callback': {
    expect: everyone(404, 404),
    prepare: async () => ({ path: '/api/v1/auth/oidc/callback?code=a&state=b' }),
  },
  'GET /api/v1/auth/tokens': { expect: everyone(200), prepare: async () => ({ path: '/api/v1/auth/tokens' }) },
  'POST /api/v1/auth/tokens': {
    expect: everyone(201),
    prepare: async () => ({ path: '/api/v1/auth/tokens', body: { name: 'script' } }),
  },
  // Always one of requester A's tokens: nobody else may revoke it, administrators included.
  'DELETE /api/v1/auth/tokens/{id}': {
    expect: { ...everyone(404), requesterA: 204 },
    prepare: async (f) => {
      const created = await f.t.api('POST', '/api/v1/auth/tokens', { as: f.users.requesterA, body: { name: 'target' } });
      return { path: `/api/v1/auth/tokens/${created.body.id}` };
    },
  },

  'GET /api/v1/matrix': { expect: organisation(200), prepare: async () => ({ path: '/api/v1/matrix' }) },
  'PUT /api/v1/matrix': {
    expect: admins(200),
    prepare: async (f) => {
      const current = (await f.t.api('GET', '/api/v1/matrix', { as: f.users.admin })).body;
      return { path: '/api/v1/matrix', body: { ...current, comment: 'unchanged' } };
    },
  },
  'GET /api/v1/matrix/holidays': {
    expect: organisation(200),
    prepare: async () => ({ path: '/api/v1/matrix/holidays?country=FR&year=2026&lang=en' }),
  },
  'GET /api/v1/matrix/versions': { expect: organisation(200), prepare: async () => ({ path: '/api/v1/matrix/versions' }) },
  'GET /api/v1/matrix/versions/{version}': {
    expect: organisation(200),
    prepare: async () => ({ path: '/api/v1/matrix/versions/1' }),
  },
  'GET /api/v1/matrix/diff': { expect: organisation(200), prepare: async () => ({ path: '/api/v1/matrix/diff?from=1&to=1' }) },

  'POST /api/v1/incidents': {
    expect: organisation(201),
    prepare: async () => ({ path: '/api/v1/incidents', body: newIncident }),
  },
  'GET /api/v1/incidents': { expect: everyone(200), prepare: async () => ({ path: '/api/v1/incidents' }) },
  'GET /api/v1/incidents/{id}': {
    expect: ownerOrStaff(200),
    prepare: async (f) => ({ path: `/api/v1/incidents/${await f.incident('new')}` }),
  },
  'GET /api/v1/incidents/{id}/timeline': {
    expect: ownerOrStaff(200),
    prepare: async (f) => ({ path: `/api/v1/incidents/${await f.incident('new')}/timeline` }),
  },
  'POST /api/v1/incidents/{id}/acknowledge': { expect: workAtL1(), prepare: on('new', 'acknowledge') },
  'POST /api/v1/incidents/{id}/start': { expect: workAtL1(), prepare: on('acknowledged', 'start') },
  'POST /api/v1/incidents/{id}/pend': {
    expect: workAtL1(),
    prepare: on('in_progress', 'pend', { reason: 'requester', note: 'Waiting' }),
  },
  'POST /api/v1/incidents/{id}/resume': { expect: workAtL1(), prepare: on('pending', 'resume') },
  'POST /api/v1/incidents/{id}/escalate': { expect: workAtL1(), prepare: on('in_progress', 'escalate', { reason: 'Needs L2' }) },
  'POST /api/v1/incidents/{id}/hand-back': {
    expect: workAtL2(),
    prepare: on('new', 'hand-back', { reason: 'Back to L1' }, { tier: 'L2' }),
  },
  'POST /api/v1/incidents/{id}/resolve': {
    expect: workAtL1(),
    prepare: on('in_progress', 'resolve', { resolution: 'Rebooted' }),
  },
  'POST /api/v1/incidents/{id}/close': { expect: ownerOrTier(), prepare: on('resolved', 'close') },
  'POST /api/v1/incidents/{id}/reopen': { expect: ownerOrTier(), prepare: on('resolved', 'reopen', { reason: 'Still broken' }) },
  'POST /api/v1/incidents/{id}/comments': { expect: ownerOrStaff(201), prepare: on('new', 'comments', { body: 'Any news?' }) },
  'POST /api/v1/incidents/{id}/clocks/{key}/stop': {
    // A breach is confidential in the seed: a manager the matrix does not name is told it does not exist.
    expect: { ...workAtL1(), manager: 404 },
    prepare: on('acknowledged', 'clocks/gdpr-art33/stop', { note: 'CNIL notified' }, { category: 'data-security-breach' }),
  },
  'PUT /api/v1/incidents/{id}/checklist/{index}': {
    expect: workAtL1(),
    prepare: async (f) => {
      const id = await f.incident('acknowledged');
      return { path: `/api/v1/incidents/${id}/checklist/0`, body: { checked: true }, incidentId: id };
    },
  },

  'POST /api/v1/incidents/{id}/attachments': {
    expect: ownerOrStaff(201),
    prepare: async (f) => ({ path: `/api/v1/incidents/${await f.incident('new')}/attachments`, form: textFile }),
  },
  'GET /api/v1/incidents/{id}/attachments': {
    expect: ownerOrStaff(200),
    prepare: async (f) => ({ path: `/api/v1/incidents/${await f.incident('new')}/attachments` }),
  },
  'GET /api/v1/incidents/{id}/attachments/{attachmentId}': {
    expect: ownerOrStaff(200),
    prepare: async (f) => {
      const id = await f.incident('new');
      const res = await fetch(`${f.t.url}/api/v1/incidents/${id}/attachments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${f.users.admin.token}` },
        body: textFile(),
      });
      return { path: `/api/v1/incidents/${id}/attachments/${((await res.json()) as Json).id}` };
    },
  },

  'GET /api/v1/users/me': { expect: everyone(200), prepare: async () => ({ path: '/api/v1/users/me' }) },
  'POST /api/v1/integrations': {
    expect: admins(201),
    prepare: async () => ({
      path: '/api/v1/integrations',
      body: { kind: 'events-v2', name: `pd-${Math.random().toString(36).slice(2)}` },
    }),
  },
  'GET /api/v1/integrations': { expect: admins(200), prepare: async () => ({ path: '/api/v1/integrations' }) },
  'GET /api/v1/integrations/{id}': {
    expect: admins(200),
    prepare: async (f) => ({ path: `/api/v1/integrations/${(await integration(f)).id}` }),
  },
  'POST /api/v1/integrations/{id}/disable': {
    expect: admins(200),
    prepare: async (f) => ({ path: `/api/v1/integrations/${(await integration(f)).id}/disable` }),
  },
  'POST /api/v1/integrations/{id}/enable': {
    expect: admins(200),
    prepare: async (f) => ({ path: `/api/v1/integrations/${(await integration(f)).id}/enable` }),
  },
  'POST /api/v1/integrations/{id}/rotate-key': {
    expect: admins(200),
    prepare: async (f) => ({ path: `/api/v1/integrations/${(await integration(f)).id}/rotate-key` }),
  },
  'GET /api/v1/integrations/{id}/messages': {
    expect: admins(200),
    prepare: async (f) => ({ path: `/api/v1/integrations/${(await integration(f)).id}/messages` }),
  },
  'GET /api/v1/notification-channels': { expect: admins(200), prepare: async () => ({ path: '/api/v1/notification-channels' }) },
  'POST /api/v1/notification-channels': {
    expect: admins(201),
    prepare: async () => ({
      path: '/api/v1/notification-channels',
      body: { name: 'Ops list', kind: 'email', target: 'ops@example.org', events: ['escalated'] },
    }),
  },
  'PATCH /api/v1/notification-channels/{id}': {
    expect: admins(200),
    prepare: async (f) => ({ path: `/api/v1/notification-channels/${(await channel(f)).id}`, body: { name: 'Renamed' } }),
  },
  'DELETE /api/v1/notification-channels/{id}': {
    expect: admins(204),
    prepare: async (f) => ({ path: `/api/v1/notification-channels/${(await channel(f)).id}` }),
  },
  'POST /api/v1/notification-channels/{id}/rotate-secret': {
    expect: admins(200),
    prepare: async (f) => ({ path: `/api/v1/notification-channels/${(await channel(f, 'webhook')).id}/rotate-secret` }),
  },
  'GET /api/v1/deliveries': { expect: readers(200), prepare: async () => ({ path: '/api/v1/deliveries?status=failed' }) },
  'POST /api/v1/deliveries/{id}/retry': {
    expect: admins(200),
    prepare: async (f) => ({ path: `/api/v1/deliveries/${await failedDelivery(f)}/retry` }),
  },
  // Machines authenticate with the integration key, whoever's token would otherwise be sent.
  'POST /api/v1/intake/alertmanager': {
    expect: everyone(200, 200),
    prepare: async (f) => {
      const { key } = await integration(f, 'alertmanager');
      return { path: '/api/v1/intake/alertmanager', token: key, body: alertmanagerBody() };
    },
  },
  'POST /api/v1/intake/events/v2/enqueue': {
    expect: everyone(202, 202),
    prepare: async (f) => {
      const { key } = await integration(f, 'events-v2');
      return {
        path: '/api/v1/intake/events/v2/enqueue',
        body: {
          routing_key: key,
          event_action: 'trigger',
          payload: { summary: 'Disk full', source: 'srv-1', severity: 'warning' },
        },
      };
    },
  },
  'GET /api/v1/matrix/export': { expect: organisation(200), prepare: async () => ({ path: '/api/v1/matrix/export?format=csv' }) },
  'POST /api/v1/matrix/import': {
    expect: admins(201),
    prepare: async (f) => {
      const { version: _v, ...matrix } = (await f.t.api('GET', '/api/v1/matrix', { as: f.users.admin })).body;
      return { path: '/api/v1/matrix/import', body: matrix };
    },
  },
  'GET /api/v1/incidents/export': {
    expect: staff(200),
    prepare: async () => ({ path: '/api/v1/incidents/export?format=csv&from=2020-01-01&to=2100-01-01' }),
  },
  'GET /api/v1/reports/volume': {
    expect: readers(200),
    prepare: async () => ({ path: '/api/v1/reports/volume?from=2020-01-01&to=2100-01-01' }),
  },
  'GET /api/v1/reports/times': {
    expect: readers(200),
    prepare: async () => ({ path: '/api/v1/reports/times?from=2020-01-01&to=2100-01-01' }),
  },
  'GET /api/v1/reports/sla': {
    expect: readers(200),
    prepare: async () => ({ path: '/api/v1/reports/sla?from=2020-01-01&to=2100-01-01' }),
  },
  'GET /api/v1/reports/escalations': {
    expect: readers(200),
    prepare: async () => ({ path: '/api/v1/reports/escalations?from=2020-01-01&to=2100-01-01' }),
  },
  'GET /api/v1/reports/vendors': {
    expect: readers(200),
    prepare: async () => ({ path: '/api/v1/reports/vendors?from=2020-01-01&to=2100-01-01' }),
  },
  'GET /api/v1/reports/tier-time': {
    expect: readers(200),
    prepare: async () => ({ path: '/api/v1/reports/tier-time?from=2020-01-01&to=2100-01-01' }),
  },
  'GET /api/v1/reports/trend': {
    expect: readers(200),
    prepare: async () => ({ path: '/api/v1/reports/trend?from=2026-01-01&to=2026-03-01&interval=week' }),
  },
  'POST /api/v1/simulations': {
    expect: readers(200),
    prepare: async (f) => {
      const { version: _v, ...matrix } = (await f.t.api('GET', '/api/v1/matrix', { as: f.users.admin })).body;
      return { path: '/api/v1/simulations', body: { matrix, from: '2020-01-01', to: '2100-01-01' } };
    },
  },
  // The queue is a list: requesters get theirs only, like GET /incidents.
  'GET /api/v1/queue': { expect: everyone(200), prepare: async () => ({ path: '/api/v1/queue' }) },
  'GET /api/v1/dashboard': { expect: readers(200), prepare: async () => ({ path: '/api/v1/dashboard' }) },
  'GET /api/v1/stream': { expect: everyone(200), prepare: async () => ({ path: '/api/v1/stream', stream: true }) },
  'PATCH /api/v1/users/me': {
    expect: everyone(200),
    prepare: async () => ({ path: '/api/v1/users/me', body: { locale: 'en' } }),
  },
  'GET /api/v1/users': { expect: readers(200), prepare: async () => ({ path: '/api/v1/users' }) },
  'GET /api/v1/users/{id}': { expect: readers(200), prepare: async (f) => ({ path: `/api/v1/users/${f.users.requesterA.id}` }) },
  'POST /api/v1/users': {
    expect: admins(201),
    prepare: async () => ({
      path: '/api/v1/users',
      body: { email: `new${Math.random().toString(36).slice(2)}@example.test`, role: 'requester' },
    }),
  },
  'PATCH /api/v1/users/{id}': {
    expect: admins(200),
    prepare: async (f) => ({ path: `/api/v1/users/${(await f.throwawayUser()).id}`, body: { role: 'manager' } }),
  },

  'GET /api/v1/escalations/upcoming': { expect: staff(200), prepare: async () => ({ path: '/api/v1/escalations/upcoming' }) },

  'GET /api/v1/vendors': { expect: staff(200), prepare: async () => ({ path: '/api/v1/vendors' }) },
  'POST /api/v1/vendors': {
    expect: admins(201),
    prepare: async () => ({
      path: '/api/v1/vendors',
      body: {
        name: `Vendor ${Math.random().toString(36).slice(2)}`,
        categories: ['network-downtime'],
        email: 'support@vendor.example',
      },
    }),
  },
  'GET /api/v1/vendors/{id}': { expect: staff(200), prepare: async (f) => ({ path: `/api/v1/vendors/${f.vendorId}` }) },
  'PATCH /api/v1/vendors/{id}': {
    expect: admins(200),
    prepare: async (f) => ({ path: `/api/v1/vendors/${f.vendorId}`, body: { contractRef: 'GTR-1' } }),
  },
  'POST /api/v1/incidents/{id}/engage-vendor': {
    expect: workAtL1(),
    prepare: async (f) => {
      const id = await f.incident('acknowledged');
      return {
        path: `/api/v1/incidents/${id}/engage-vendor`,
        body: { vendorId: f.vendorId, note: 'Over to you' },
        incidentId: id,
      };
    },
  },
  'POST /api/v1/incidents/{id}/vendor-acknowledge': {
    expect: vendorAnswer(),
    prepare: on('vendor', 'vendor-acknowledge', { ticket: 'V-1' }),
  },
  'POST /api/v1/incidents/{id}/vendor-update': {
    expect: vendorAnswer(),
    prepare: on('vendor', 'vendor-update', { note: 'On site at 14:00' }),
  },
  'POST /api/v1/incidents/{id}/vendor-done': {
    expect: vendorAnswer(),
    prepare: on('vendor', 'vendor-done', { note: 'Replaced' }),
  },
  'GET /api/v1/vendor-portal/{token}': {
    expect: linkHolder(),
    prepare: async (f) => ({ path: `/api/v1/vendor-portal/${await f.vendorLink()}` }),
  },
  'POST /api/v1/vendor-portal/{token}/acknowledge': {
    expect: linkHolder(),
    prepare: async (f) => ({ path: `/api/v1/vendor-portal/${await f.vendorLink()}/acknowledge`, body: { ticket: 'V-2' } }),
  },
  'POST /api/v1/vendor-portal/{token}/updates': {
    expect: linkHolder(),
    prepare: async (f) => ({ path: `/api/v1/vendor-portal/${await f.vendorLink()}/updates`, body: { note: 'Parts ordered' } }),
  },
  'POST /api/v1/vendor-portal/{token}/done': {
    expect: linkHolder(),
    prepare: async (f) => ({ path: `/api/v1/vendor-portal/${await f.vendorLink()}/done`, body: { note: 'Fixed' } }),
  },
  // Staff read the teams and who is on call; only administrators change them.
  'GET /api/v1/teams': { expect: staff(200), prepare: async () => ({ path: '/api/v1/teams' }) },
  'POST /api/v1/teams': {
    expect: admins(201),
    prepare: async () => ({ path: '/api/v1/teams', body: { name: `Team ${Math.random().toString(36).slice(2)}`, tier: 'L1' } }),
  },
  'GET /api/v1/teams/{id}': { expect: staff(200), prepare: async (f) => ({ path: `/api/v1/teams/${await team(f)}` }) },
  'PATCH /api/v1/teams/{id}': {
    expect: admins(200),
    prepare: async (f) => ({ path: `/api/v1/teams/${await team(f)}`, body: { email: 'l1@example.test' } }),
  },
  'DELETE /api/v1/teams/{id}': { expect: admins(204), prepare: async (f) => ({ path: `/api/v1/teams/${await team(f)}` }) },
  'PUT /api/v1/teams/{id}/members': {
    expect: admins(200),
    prepare: async (f) => ({ path: `/api/v1/teams/${await team(f)}/members`, body: [{ userId: f.users.agentL1.id, role: 'member' }] }),
  },
  'POST /api/v1/teams/{id}/overrides': {
    expect: admins(201),
    prepare: async (f) => ({
      path: `/api/v1/teams/${await team(f)}/overrides`,
      body: { userId: f.users.agentL1.id, startsAt: '2090-01-01T00:00:00Z', endsAt: '2090-01-02T00:00:00Z' },
    }),
  },
  'DELETE /api/v1/teams/{id}/overrides/{overrideId}': {
    expect: admins(204),
    prepare: async (f) => {
      const id = await team(f);
      const created = await f.t.api('POST', `/api/v1/teams/${id}/overrides`, {
        as: f.users.admin,
        body: { userId: f.users.agentL1.id, startsAt: '2090-01-01T00:00:00Z', endsAt: '2090-01-02T00:00:00Z' },
      });
      return { path: `/api/v1/teams/${id}/overrides/${created.body.id}` };
    },
  },
  'GET /api/v1/oncall': { expect: staff(200), prepare: async () => ({ path: '/api/v1/oncall?at=2026-11-28T10:00:00Z' }) },
};

describe.each(ENGINES)('authorization of every route on %s', (engine: EngineName) => {
  let t: TestServer;
  let f: Fixtures;
  let routes: string[];

  beforeAll(async () => {
    t = await startServer(engine);
    const users = {
      requesterA: await t.user('requester'),
      requesterB: await t.user('requester'),
      agentL1: await t.user('agent', { tiers: ['L1'] }),
      agentL2: await t.user('agent', { tiers: ['L2'] }),
      manager: await t.user('manager'),
      admin: await t.user('admin'),
      vendorContact: undefined as unknown as TestUser,
    };
    const vendor = await t.api('POST', '/api/v1/vendors', {
      as: users.admin,
      body: {
        name: 'Fixture vendor',
        categories: ['software-installation-failure', 'network-downtime', 'data-security-breach', 'cloud-service-interruption'],
        email: 'support@vendor.example',
        acknowledge: 'PT4H',
      },
    });
    const vendorId: number = vendor.body.id;
    users.vendorContact = await t.user('vendor', { vendorId });
    const ok = async (method: string, path: string, body?: unknown) => {
      const res = await t.api(method, path, { as: users.admin, body });
      if (res.status >= 300) throw new Error(`fixture ${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    f = {
      t,
      users,
      async incident(state, opts = {}) {
        const created = await t.api('POST', '/api/v1/incidents', {
          as: users.requesterA,
          body: { ...newIncident, category: opts.category ?? newIncident.category },
        });
        const id: number = created.body.id;
        const base = `/api/v1/incidents/${id}`;
        if (opts.tier === 'L2') await ok('POST', `${base}/escalate`, { reason: 'To L2' });
        if (state === 'new') return id;
        await ok('POST', `${base}/acknowledge`);
        if (state === 'acknowledged') return id;
        if (state === 'vendor') {
          await ok('POST', `${base}/engage-vendor`, { vendorId, note: 'Over to you' });
          return id;
        }
        await ok('POST', `${base}/start`);
        if (state === 'pending') await ok('POST', `${base}/pend`, { reason: 'requester', note: '' });
        if (state === 'resolved') await ok('POST', `${base}/resolve`, { resolution: 'Done' });
        return id;
      },
      async freshToken(who) {
        if (who === 'anonymous') return undefined;
        const res = await t.api('POST', '/api/v1/auth/tokens', { as: users[who], body: { name: 'to revoke' } });
        return res.body.token as string;
      },
      throwawayUser: () => t.user('requester'),
      vendorId,
      async vendorLink() {
        const id = await f.incident('vendor');
        return vendorLink(t.palier.services, { incidentId: id, vendorId }).token;
      },
    };
    const doc = (await t.api('GET', '/api/openapi.json')).body;
    routes = Object.entries<Json>(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
  }, 60_000);
  afterAll(async () => t?.close());

  it('has a row for every documented route, and no row for a route that is gone', () => {
    expect(routes.length).toBeGreaterThan(25);
    expect(routes.filter((r) => !TABLE[r])).toEqual([]);
    expect(Object.keys(TABLE).filter((r) => !routes.includes(r))).toEqual([]);
  });

  it('answers each role as the table says, and a refused request changes nothing', async () => {
    const mismatches: string[] = [];
    for (const route of routes) {
      const row = TABLE[route];
      if (!row) continue;
      const method = route.split(' ')[0]!;
      for (const who of ROLES) {
        const p = await row.prepare(f, who);
        const token = p.token ?? (who === 'anonymous' ? undefined : f.users[who].token);
        const before = p.incidentId ? await t.palier.services.incidents.events(p.incidentId) : undefined;
        const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
        const res = p.stream
          ? await openStream(t.url + p.path, headers)
          : p.form
            ? await fetch(t.url + p.path, { method, headers, body: p.form() }).then(async (r) => ({
                status: r.status,
                body: await r.text(),
              }))
            : await t.api(method, p.path, { body: p.body, headers });
        const expected = row.expect[who];
        if (res.status !== expected)
          mismatches.push(`${route} as ${who}: ${res.status} (expected ${expected}) ${JSON.stringify(res.body).slice(0, 160)}`);
        if (res.status >= 400 && p.incidentId) {
          const after = await t.palier.services.incidents.events(p.incidentId);
          if (after.length !== before!.length) mismatches.push(`${route} as ${who}: refused but wrote events`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  }, 120_000);

  it("never lists, counts or finds another requester's incidents, whatever the filters", async () => {
    const { requesterA, requesterB, agentL2 } = f.users;
    const mine = await t.api('POST', '/api/v1/incidents', { as: requesterB, body: { ...newIncident, title: 'Secret de B' } });
    const all = async (who: TestUser, query: string) => {
      const res = await t.api('GET', `/api/v1/incidents?limit=200&${query}`, { as: who });
      expect(res.status).toBe(200);
      return res.body.items as Json[];
    };
    for (const query of [
      '',
      `requester=${requesterB.id}`,
      'text=Secret',
      'status=open',
      'assignee=none',
      'sort=-updated_at',
      'tier=L1,L2,L3,LX',
    ]) {
      const items = await all(requesterA, query);
      expect(
        items.every((i) => i.requesterId === requesterA.id),
        query,
      ).toBe(true);
      expect(items.map((i) => i.id)).not.toContain(mine.body.id);
    }
    expect((await all(requesterB, 'text=Secret')).map((i) => i.id)).toEqual([mine.body.id]);
    expect((await all(agentL2, 'text=Secret')).map((i) => i.id)).toEqual([mine.body.id]);
    // Direct reads of it look exactly like a missing id.
    for (const path of [`/api/v1/incidents/${mine.body.id}`, `/api/v1/incidents/${mine.body.id}/timeline`]) {
      const res = await t.api('GET', path, { as: requesterA });
      expect(res.status).toBe(404);
      expect(res.body.error.message).toBe(`Incident ${mine.body.id} not found`);
      expect((await t.api('GET', path.replace(String(mine.body.id), '999999999'), { as: requesterA })).body.error.code).toBe(
        'not_found',
      );
    }
  });

  it('checks ids nested in bodies: a requester cannot open an incident in another name', async () => {
    const { requesterA, requesterB, agentL1 } = f.users;
    const before = await t.count('incidents');
    const res = await t.api('POST', '/api/v1/incidents', {
      as: requesterA,
      body: { ...newIncident, requesterId: requesterB.id },
    });
    expect(res.status).toBe(403);
    expect(await t.count('incidents')).toBe(before);
    // Naming oneself is fine; staff may open on behalf of an existing user only.
    expect(
      (await t.api('POST', '/api/v1/incidents', { as: requesterA, body: { ...newIncident, requesterId: requesterA.id } })).status,
    ).toBe(201);
    const onBehalf = await t.api('POST', '/api/v1/incidents', {
      as: agentL1,
      body: { ...newIncident, requesterId: requesterB.id },
    });
    expect(onBehalf.status).toBe(201);
    expect(onBehalf.body.requesterId).toBe(requesterB.id);
    expect(
      (await t.api('POST', '/api/v1/incidents', { as: agentL1, body: { ...newIncident, requesterId: 999_999 } })).status,
    ).toBe(400);
  });
});
