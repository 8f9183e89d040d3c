import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentReference, notificationMessageId } from '../../src/notify/mail-references.js';
import { ENGINES, type EngineName } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { openStream } from '../helpers/stream.js';
import { newIntegration } from '../intake/helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const BREACH = 'data-security-breach';
const WHO = ['requester', 'other', 'l1', 'l2', 'lx', 'manager', 'named', 'admin'] as const;
type Who = (typeof WHO)[number];

/** Who sees a breach report while the helpdesk holds it (the seed names L2 and L3; the test names one manager). */
const SEES_AT_L1: Record<Who, boolean> = {
  requester: true,
  other: false,
  l1: true,
  l2: true,
  lx: false,
  manager: false,
  named: true,
  admin: true,
};
/** Once it has moved up to L2, the helpdesk no longer sees it. */
const SEES_AT_L2: Record<Who, boolean> = { ...SEES_AT_L1, l1: false };
/** A network outage is confidential to nobody: every staff member and its requester see it. */
const SEES_CONTROL: Record<Who, boolean> = { ...SEES_AT_L1, l1: true, lx: true, manager: true };
const STAFF: Who[] = ['l1', 'l2', 'lx', 'manager', 'named', 'admin'];
const DESK: Who[] = ['manager', 'named', 'admin'];

describe.each(ENGINES)('confidential categories on %s', (engine: EngineName) => {
  let t: TestServer;
  const u = {} as Record<Who, TestUser>;
  let breach: number;
  let control: number;
  let attachment: number;
  const period = () => {
    const day = 86_400_000;
    return `from=${new Date(Date.now() - day).toISOString()}&to=${new Date(Date.now() + day).toISOString()}`;
  };

  const seen = async (who: Who, path: string): Promise<number[]> => {
    const res = await t.api('GET', path, { as: u[who] });
    expect(res.status, `${who} GET ${path}`).toBe(200);
    return (res.body.items as Json[]).map((i) => (i.incident ?? i).id as number);
  };
  /** Who, among `whom`, gets `ok` for a GET of `path`, and who gets 404. */
  const statuses = async (path: string, whom: readonly Who[] = WHO) =>
    Object.fromEntries(await Promise.all(whom.map(async (w) => [w, (await t.api('GET', path, { as: u[w] })).status])));
  const expected = (sees: Record<Who, boolean>, ok = 200, whom: readonly Who[] = WHO) =>
    Object.fromEntries(whom.map((w) => [w, sees[w] ? ok : 404]));

  beforeAll(async () => {
    t = await startServer(engine);
    u.requester = await t.user('requester');
    u.other = await t.user('requester');
    u.l1 = await t.user('agent', { tiers: ['L1'] });
    u.l2 = await t.user('agent', { tiers: ['L2'] });
    u.lx = await t.user('agent', { tiers: ['LX'] });
    u.manager = await t.user('manager');
    u.named = await t.user('manager');
    u.admin = await t.user('admin');
    const matrix = (await t.api('GET', '/api/v1/matrix', { as: u.admin })).body;
    matrix.categories.find((c: Json) => c.key === BREACH).confidential = { tiers: ['L2', 'L3'], users: [u.named.id] };
    const put = await t.api('PUT', '/api/v1/matrix', {
      as: u.admin,
      body: { ...matrix, comment: 'Name the data protection officer' },
    });
    expect(put.status).toBe(200);
    const open = async (title: string, category: string) => {
      const res = await t.api('POST', '/api/v1/incidents', {
        as: u.requester,
        body: { title, description: 'Signalé par le service client', category, impact: 1, urgency: 1 },
      });
      expect(res.status).toBe(201);
      return res.body.id as number;
    };
    breach = await open('Fichier clients zorglub exposé', BREACH);
    control = await open('Commutateur zorglub en panne', 'network-downtime');
    const form = new FormData();
    form.append('file', new Blob(['Liste des fichiers exposés\n']), 'constat.txt');
    const up = await fetch(`${t.url}/api/v1/incidents/${breach}/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${u.requester.token}` },
      body: form,
    });
    expect(up.status).toBe(201);
    attachment = ((await up.json()) as Json).id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('shows who may see a confidential category in the matrix, the seed naming L2 and L3 for breaches', async () => {
    const res = await t.api('GET', '/api/v1/matrix', { as: u.l1 });
    const categories = res.body.categories as Json[];
    expect(categories.find((c) => c.key === BREACH).confidential).toEqual({ tiers: ['L2', 'L3'], users: [u.named.id] });
    expect(categories.filter((c) => c.confidential)).toHaveLength(1);
    const seed = await t.api('GET', '/api/v1/matrix/versions/1', { as: u.l1 });
    expect(seed.body.categories.find((c: Json) => c.key === BREACH).confidential).toEqual({ tiers: ['L2', 'L3'], users: [] });
    const diff = await t.api('GET', '/api/v1/matrix/diff?from=1&to=2', { as: u.l1 });
    expect(diff.body.changes ?? diff.body).toEqual([expect.objectContaining({ kind: 'changed', path: `categories.${BREACH}` })]);
  });

  it('answers 404, never 403, to a read by id, a timeline or an attachment of a breach the caller may not see', async () => {
    expect(await statuses(`/api/v1/incidents/${breach}`)).toEqual(expected(SEES_AT_L1));
    expect(await statuses(`/api/v1/incidents/${breach}/timeline`)).toEqual(expected(SEES_AT_L1));
    expect(await statuses(`/api/v1/incidents/${breach}/attachments`)).toEqual(expected(SEES_AT_L1));
    expect(await statuses(`/api/v1/incidents/${breach}/attachments/${attachment}`)).toEqual(expected(SEES_AT_L1));
    // The hidden incident and one that does not exist look the same.
    const hidden = await t.api('GET', `/api/v1/incidents/${breach}`, { as: u.manager });
    const missing = await t.api('GET', '/api/v1/incidents/999999', { as: u.manager });
    expect(hidden.body.error.code).toBe(missing.body.error.code);
    expect(await statuses(`/api/v1/incidents/${control}`)).toEqual(expected(SEES_CONTROL));
  });

  it('leaves a hidden breach out of every list, filtered list and text search', async () => {
    for (const who of WHO) {
      const all = await seen(who, '/api/v1/incidents?limit=200');
      const search = await seen(who, '/api/v1/incidents?text=ZORGLUB');
      const filtered = await seen(who, `/api/v1/incidents?category=${BREACH}`);
      const open = await seen(who, '/api/v1/incidents?status=open&tier=L1&sort=-created_at');
      expect({
        who,
        all: all.includes(breach),
        search: search.includes(breach),
        filtered: filtered.includes(breach),
        open: open.includes(breach),
      }).toEqual({
        who,
        all: SEES_AT_L1[who],
        search: SEES_AT_L1[who],
        filtered: SEES_AT_L1[who],
        open: SEES_AT_L1[who],
      });
      expect({ who, control: search.includes(control) }).toEqual({ who, control: SEES_CONTROL[who] });
    }
  });

  it('leaves it out of the tier queues and the upcoming escalations', async () => {
    for (const who of WHO) {
      const queue = await seen(who, '/api/v1/queue?tier=L1,L2,L3,LX');
      expect({ who, breach: queue.includes(breach), control: queue.includes(control) }).toEqual({
        who,
        breach: SEES_AT_L1[who],
        control: SEES_CONTROL[who],
      });
    }
    for (const who of STAFF) {
      const upcoming = await seen(who, '/api/v1/escalations/upcoming?hours=48');
      expect({ who, breach: upcoming.includes(breach), control: upcoming.includes(control) }).toEqual({
        who,
        breach: SEES_AT_L1[who],
        control: true,
      });
    }
  });

  it('counts it on the dashboard and in reports only for those who may see it', async () => {
    for (const who of DESK) {
      const res = await t.api('GET', '/api/v1/dashboard', { as: u[who] });
      expect(res.status).toBe(200);
      const rows = res.body.open as Json[];
      expect({ who, breach: rows.some((r) => r.category === BREACH) }).toEqual({ who, breach: SEES_AT_L1[who] });
      expect(rows.find((r) => r.category === 'network-downtime')).toMatchObject({ tier: 'L1', count: 1 });
      const oldest = (res.body.oldest as Json[]).find((o) => o.tier === 'L1');
      // The breach was opened first: the oldest at L1 for those who see it, the outage for the others.
      expect({ who, oldest: oldest.incident.id }).toEqual({ who, oldest: SEES_AT_L1[who] ? breach : control });
      const volume = await t.api('GET', `/api/v1/reports/volume?${period()}`, { as: u[who] });
      expect(volume.status).toBe(200);
      expect({ who, opened: volume.body.opened }).toEqual({ who, opened: SEES_AT_L1[who] ? 2 : 1 });
      const cells = await t.api('GET', `/api/v1/reports/escalations?${period()}`, { as: u[who] });
      expect({ who, breach: (cells.body.items ?? cells.body).some((r: Json) => r.category === BREACH) }).toEqual({
        who,
        breach: SEES_AT_L1[who],
      });
    }
  });

  it('replays in a simulation only the incidents the reader may see', async () => {
    const matrix = (await t.api('GET', '/api/v1/matrix', { as: u.admin })).body;
    const day = 86_400_000;
    const body = { matrix, from: new Date(Date.now() - day).toISOString(), to: new Date(Date.now() + day).toISOString() };
    for (const who of DESK) {
      const res = await t.api('POST', '/api/v1/simulations', { as: u[who], body });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect({ who, incidents: res.body.incidents }).toEqual({ who, incidents: SEES_AT_L1[who] ? 2 : 1 });
    }
  });

  it('leaves it out of the CSV export of incidents and of events', async () => {
    for (const who of STAFF) {
      const incidents = await t.api('GET', `/api/v1/incidents/export?${period()}&format=csv`, { as: u[who] });
      expect(incidents.status).toBe(200);
      const events = await t.api('GET', `/api/v1/incidents/export?${period()}&format=csv&part=events`, { as: u[who] });
      const ids = (csv: string) =>
        csv
          .split('\r\n')
          .slice(1)
          .map((line) => Number(line.replace(/^\uFEFF/, '').split(',')[0]));
      expect({
        who,
        title: String(incidents.body).includes('Fichier clients zorglub'),
        row: ids(incidents.body).includes(breach),
      }).toEqual({
        who,
        title: SEES_AT_L1[who],
        row: SEES_AT_L1[who],
      });
      expect({ who, control: ids(incidents.body).includes(control), events: ids(events.body).includes(breach) }).toEqual({
        who,
        control: true,
        events: SEES_AT_L1[who],
      });
    }
  });

  it('announces its changes on the live stream only to those who may see it', async () => {
    const streams = Object.fromEntries(
      await Promise.all(WHO.map(async (w) => [w, await openStream(t.url, u[w].token)] as const)),
    );
    try {
      expect(
        await t.api('POST', `/api/v1/incidents/${breach}/comments`, { as: u.admin, body: { body: 'DPO informé' } }),
      ).toMatchObject({ status: 201 });
      expect(
        await t.api('POST', `/api/v1/incidents/${control}/comments`, { as: u.admin, body: { body: 'En cours' } }),
      ).toMatchObject({ status: 201 });
      // The outage is announced to all who see it; by then the breach's earlier change has been told too.
      for (const w of WHO)
        if (SEES_CONTROL[w]) await expect.poll(() => streams[w]!.received, { timeout: 8000 }).toContain(control);
      await new Promise((r) => setTimeout(r, 1500));
      const told = Object.fromEntries(WHO.map((w) => [w, streams[w]!.received.includes(breach)]));
      expect(told).toEqual(SEES_AT_L1);
    } finally {
      for (const s of Object.values(streams)) s.close();
    }
  });

  it('refuses commands on a hidden breach as not found, and lets named staff comment', async () => {
    const comment = (who: Who) => t.api('POST', `/api/v1/incidents/${breach}/comments`, { as: u[who], body: { body: 'Vu' } });
    expect((await comment('lx')).status).toBe(404);
    expect((await comment('manager')).status).toBe(404);
    expect((await comment('other')).status).toBe(404);
    expect((await comment('l2')).status).toBe(201);
    expect((await comment('named')).status).toBe(201);
    const ack = await t.api('POST', `/api/v1/incidents/${breach}/acknowledge`, { as: u.manager });
    expect(ack.status).toBe(404);
    // A named L2 agent sees it at L1 but may not work it there.
    expect((await t.api('POST', `/api/v1/incidents/${breach}/acknowledge`, { as: u.l2 })).status).toBe(403);
    const form = new FormData();
    form.append('file', new Blob(['x\n']), 'x.txt');
    const up = await fetch(`${t.url}/api/v1/incidents/${breach}/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${u.lx.token}` },
      body: form,
    });
    expect(up.status).toBe(404);
  });

  it('hides it from the helpdesk once it moves up to L2, even from the agent who took it in', async () => {
    expect((await t.api('POST', `/api/v1/incidents/${breach}/acknowledge`, { as: u.l1 })).status).toBe(200);
    const escalated = await t.api('POST', `/api/v1/incidents/${breach}/escalate`, {
      as: u.l1,
      body: { reason: 'Fuite confirmée : analyse par le niveau 2' },
    });
    expect(escalated.status).toBe(200);
    expect(escalated.body.tier).toBe('L2');
    expect(await statuses(`/api/v1/incidents/${breach}`)).toEqual(expected(SEES_AT_L2));
    for (const who of WHO)
      expect({ who, listed: (await seen(who, '/api/v1/incidents?text=zorglub')).includes(breach) }).toEqual({
        who,
        listed: SEES_AT_L2[who],
      });
    expect((await t.api('POST', `/api/v1/incidents/${breach}/acknowledge`, { as: u.l2 })).status).toBe(200);
  });

  it('checks the tiers and users a matrix names: unknown tier, unknown user, a requester', async () => {
    const matrix = (await t.api('GET', '/api/v1/matrix', { as: u.admin })).body;
    const i = (matrix.categories as Json[]).findIndex((c) => c.key === BREACH);
    const before = await t.count('matrix_versions');
    const attempt = async (confidential: unknown) => {
      matrix.categories[i].confidential = confidential;
      const res = await t.api('PUT', '/api/v1/matrix', { as: u.admin, body: matrix });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_matrix');
      return res.body.error.details;
    };
    expect(await attempt({ tiers: ['L2', 'L7'], users: [] })).toEqual([
      { path: `categories[${i}].confidential.tiers[1]`, message: 'unknown tier "L7"' },
    ]);
    expect(await attempt({ tiers: ['L2'], users: [u.named.id, 987654] })).toEqual([
      { path: `categories[${i}].confidential.users[1]`, message: 'unknown user 987654' },
    ]);
    expect(await attempt({ tiers: ['L2'], users: [u.other.id] })).toEqual([
      { path: `categories[${i}].confidential.users[0]`, message: `user ${u.other.id} is a requester: only staff can be named` },
    ]);
    expect(await attempt({ tiers: 'L2' })).toEqual([
      expect.objectContaining({ path: expect.stringContaining(`categories[${i}].confidential`) }),
    ]);
    expect(await t.count('matrix_versions')).toBe(before);
  });

  it('follows the current matrix: a category no longer confidential is seen by all staff at once', async () => {
    const matrix = (await t.api('GET', '/api/v1/matrix', { as: u.admin })).body;
    delete matrix.categories.find((c: Json) => c.key === BREACH).confidential;
    expect((await t.api('PUT', '/api/v1/matrix', { as: u.admin, body: matrix })).status).toBe(200);
    expect((await t.api('GET', `/api/v1/incidents/${breach}`, { as: u.manager })).status).toBe(200);
    expect(await seen('lx', '/api/v1/incidents?text=zorglub')).toContain(breach);
    expect((await t.api('GET', `/api/v1/incidents/${breach}`, { as: u.other })).status).toBe(404);
  });
});

describe.each(ENGINES)('confidential incidents by e-mail and in missed-target counts on %s', (engine: EngineName) => {
  let t: TestServer;
  let now = Date.parse('2026-03-02T09:00:00Z');
  const u = {} as Record<'requester' | 'manager' | 'l2' | 'lx' | 'admin', TestUser>;
  let smtp: Transporter;
  let to: string;
  let integrationId: number;
  let breach: number;
  let n = 0;

  const mail = (opts: SendMailOptions) => smtp.sendMail({ to, messageId: `<c${++n}.${Date.now()}@mail.example.org>`, ...opts });
  const replyHeaders = (incidentId: number) => {
    const { signer, site } = t.palier.services;
    return {
      inReplyTo: notificationMessageId(signer, incidentId, 1, site.mailDomain),
      references: [incidentReference(signer, incidentId, site.mailDomain)],
    };
  };
  const lastMessage = async () => (await t.palier.services.intake.messages(integrationId, 1, 0))[0]!;

  beforeAll(async () => {
    t = await startServer(engine, {
      clock: { now: () => now },
      config: {
        intake: {
          smtpHost: '127.0.0.1',
          smtpPort: 0,
          smtpMaxBytes: 1024 * 1024,
          sweepMs: 30_000,
          imap: false,
          ratePerMinute: 1000,
        },
      },
    });
    u.requester = await t.user('requester');
    u.manager = await t.user('manager');
    u.l2 = await t.user('agent', { tiers: ['L2'] });
    u.lx = await t.user('agent', { tiers: ['LX'] });
    u.admin = await t.user('admin');
    const created = await newIntegration(t, u.admin, {
      kind: 'email',
      name: 'Helpdesk mailbox',
      address: 'helpdesk@palier.test',
    });
    integrationId = created.id;
    to = `incidents+${created.key}@palier.test`;
    smtp = nodemailer.createTransport({ host: '127.0.0.1', port: t.palier.intake.smtpPort!, secure: false, ignoreTLS: true });
    const res = await t.api('POST', '/api/v1/incidents', {
      as: u.requester,
      body: { title: 'Clé USB perdue avec la paie', description: '', category: BREACH, impact: 1, urgency: 1 },
    });
    breach = res.body.id;
  });
  afterAll(async () => {
    smtp?.close();
    await t?.close();
  });

  it('refuses an e-mail reply from staff who may not see the breach, and takes one from a named tier', async () => {
    for (const who of ['manager', 'lx'] as const) {
      await mail({ from: u[who].email, subject: 'Re: Clé USB', text: 'Je regarde', ...replyHeaders(breach) });
      const message = await lastMessage();
      expect({ who, status: message.status, error: message.error }).toEqual({
        who,
        status: 'rejected',
        error: `${u[who].email} may not comment on incident ${breach}`,
      });
    }
    await mail({ from: u.l2.email, subject: 'Re: Clé USB', text: 'Analyse lancée', ...replyHeaders(breach) });
    expect((await lastMessage()).status).toBe('processed');
    const comments = (await t.palier.services.incidents.events(breach)).filter((e) => e.kind === 'commented');
    expect(comments.map((e) => e.actorId)).toEqual([u.l2.id]);
  });

  it('counts its missed targets on the dashboard only for those who may see it', async () => {
    const since = encodeURIComponent(new Date(now).toISOString());
    now += 20 * 60_000; // past the 15-minute acknowledge target of a P1 at L1
    await t.palier.worker.runOnce(now);
    const admin = await t.api('GET', `/api/v1/dashboard?since=${since}`, { as: u.admin });
    expect(admin.body.breaches.incidents).toBe(1);
    expect(admin.body.breaches.events).toBeGreaterThanOrEqual(1);
    const manager = await t.api('GET', `/api/v1/dashboard?since=${since}`, { as: u.manager });
    expect(manager.body).toMatchObject({ open: [], breaches: { events: 0, incidents: 0 }, oldest: [] });
  });
});
