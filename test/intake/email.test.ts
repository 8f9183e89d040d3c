import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentReference, notificationMessageId } from '../../src/notify/mail-references.js';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { commentOf, counts, newIntegration, storesNothing, timeline } from './helpers.js';

describe.each(ENGINES)('e-mail intake over SMTP on %s', (engine) => {
  let t: TestServer;
  let admin: TestUser;
  let smtp: Transporter;
  let key: string;
  let integrationId: number;
  let to: string;
  let n = 0;

  /** Sends a real message over SMTP to Palier's listener. */
  const mail = (opts: SendMailOptions) => smtp.sendMail({ to, messageId: `<m${++n}.${Date.now()}@mail.example.org>`, ...opts });

  const userByEmail = (email: string) => t.palier.services.users.byEmail(email);
  const incidentsRequestedBy = async (userId: number) => {
    const rows = await t.palier.services.store.db
      .selectFrom('incidents')
      .select('id')
      .where('requester_id', '=', userId)
      .orderBy('id')
      .execute();
    return Promise.all(rows.map(async (r) => (await t.palier.services.incidents.get(Number(r.id)))!));
  };
  const lastMessage = async () => (await t.palier.services.intake.messages(integrationId, 1, 0))[0]!;
  const replyHeaders = (incidentId: number) => {
    const { signer, site } = t.palier.services;
    return {
      inReplyTo: notificationMessageId(signer, incidentId, 7, site.mailDomain),
      references: [
        incidentReference(signer, incidentId, site.mailDomain),
        notificationMessageId(signer, incidentId, 7, site.mailDomain),
      ],
    };
  };

  beforeAll(async () => {
    t = await startServer(engine, {
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
    admin = await t.user('admin');
    const created = await newIntegration(t, admin, {
      kind: 'email',
      name: 'Helpdesk mailbox',
      category: 'software-installation-failure',
      address: 'Helpdesk@palier.test',
    });
    key = created.key;
    integrationId = created.id;
    to = `incidents+${key}@palier.test`;
    smtp = nodemailer.createTransport({ host: '127.0.0.1', port: t.palier.intake.smtpPort!, secure: false, ignoreTLS: true });
  });
  afterAll(async () => {
    smtp?.close();
    await t?.close();
  });

  it('opens an incident for a new message, making a requester account for an unknown sender', async () => {
    const info = await mail({
      from: '"Alice Martin" <alice@example.org>',
      subject: 'Excel will not install',
      text: 'The installer stops at 80% with error 1603.\nMy laptop is PC-0420.',
    });
    expect(info.rejected).toEqual([]);
    expect(info.response).toMatch(/^250 Stored as #\d+/);
    const alice = await userByEmail('alice@example.org');
    expect(alice).toMatchObject({ role: 'requester', displayName: 'Alice Martin', passwordHash: null, disabled: false });
    const [incident] = await incidentsRequestedBy(alice!.id);
    expect(incident).toMatchObject({
      title: 'Excel will not install',
      category: 'software-installation-failure',
      status: 'new',
      requesterId: alice!.id,
    });
    expect(incident!.description).toBe('The installer stops at 80% with error 1603.\nMy laptop is PC-0420.');
    const events = await timeline(t, incident!.id);
    expect(events.map((e) => [e.kind, e.actorId])).toEqual([['created', alice!.id]]);
  });

  it('reaches the integration through its configured address too, and keeps HTML out (text only)', async () => {
    await smtp.sendMail({
      from: 'bob@example.org',
      to: 'helpdesk@palier.test',
      subject: 'Printer driver',
      html: '<p>The <b>driver</b> fails.</p><script>alert(1)</script>',
    });
    const bob = await userByEmail('bob@example.org');
    const [incident] = await incidentsRequestedBy(bob!.id);
    expect(incident!.title).toBe('Printer driver');
    expect(incident!.description).toContain('The driver fails.');
    expect(incident!.description).not.toMatch(/<[a-z]/i);
  });

  it('turns a reply to a notification into a comment, once, however often it is delivered', async () => {
    await mail({ from: 'carol@example.org', subject: 'VPN client crashes', text: 'Since this morning.' });
    const carol = (await userByEmail('carol@example.org'))!;
    const [incident] = await incidentsRequestedBy(carol.id);
    const before = await counts(t);
    const reply = {
      from: 'Carol <carol@example.org>',
      subject: `Re: [Palier #${incident!.id}] VPN client crashes`,
      text: 'It also crashes after a reboot.\n\nOn Sat, 28 Nov 2026 at 10:00, Palier <palier@localhost> wrote:\n> Your incident was escalated to L2',
      messageId: `<reply-${incident!.id}@mail.example.org>`,
      ...replyHeaders(incident!.id),
    };
    await smtp.sendMail({ to, ...reply });
    await smtp.sendMail({ to, ...reply }); // the sending server retried
    const after = await counts(t);
    expect(after.incidents).toBe(before.incidents);
    const events = await timeline(t, incident!.id);
    expect(events.map((e) => e.kind)).toEqual(['created', 'commented']);
    expect(commentOf(events[1]!)).toBe('It also crashes after a reboot.');
    expect(events[1]!.actorId).toBe(carol.id);
    expect((await lastMessage()).outcome).toContain('"duplicate":true');
  });

  it('lets staff reply by e-mail as well', async () => {
    await mail({ from: 'dan@example.org', subject: 'Teams will not update', text: 'Error 0x80070005' });
    const [incident] = await incidentsRequestedBy((await userByEmail('dan@example.org'))!.id);
    const agent = await t.user('agent', { tiers: ['L1'] });
    await mail({ from: agent.email, subject: 'Re: Teams', text: 'Please run the repair tool.', ...replyHeaders(incident!.id) });
    const events = await timeline(t, incident!.id);
    expect(events.map((e) => [e.kind, e.actorId])).toEqual([
      ['created', expect.any(Number)],
      ['commented', agent.id],
    ]);
  });

  it('takes a vendor contact’s reply on an incident handed to its vendor, and nothing else from it', async () => {
    const vendor = await t.api('POST', '/api/v1/vendors', {
      as: admin,
      body: { name: 'Éditeur', categories: ['software-installation-failure'], email: 'support@editeur.example' },
    });
    const contact = await t.user('vendor', { email: 'hotline@editeur.example', vendorId: vendor.body.id });
    await mail({ from: 'gina@example.org', subject: 'ERP will not start', text: 'Licence error.' });
    await mail({ from: 'hank@example.org', subject: 'ERP slow', text: 'Very slow.' });
    const [handed] = await incidentsRequestedBy((await userByEmail('gina@example.org'))!.id);
    const [other] = await incidentsRequestedBy((await userByEmail('hank@example.org'))!.id);
    await t.api('POST', `/api/v1/incidents/${handed!.id}/acknowledge`, { as: admin });
    expect(
      (await t.api('POST', `/api/v1/incidents/${handed!.id}/engage-vendor`, { as: admin, body: { vendorId: vendor.body.id } }))
        .status,
    ).toBe(200);

    await mail({ from: contact.email, subject: 'Re: ERP', text: 'Patch 4.2 fixes it.', ...replyHeaders(handed!.id) });
    const events = await timeline(t, handed!.id);
    expect(events.at(-1)).toMatchObject({ kind: 'commented', actorId: contact.id });

    const before = await counts(t);
    await mail({ from: contact.email, subject: 'Re: ERP slow', text: 'Not ours.', ...replyHeaders(other!.id) });
    expect((await lastMessage()).status).toBe('rejected');
    await mail({ from: contact.email, subject: 'New problem', text: 'A new incident?' });
    expect((await lastMessage()).error).toBe('hotline@editeur.example is a vendor contact and opens no incidents');
    const after = await counts(t);
    expect(after.incidents).toBe(before.incidents);
    expect(after.incident_events).toBe(before.incident_events);
  });

  it('refuses a spoofed reply: an unknown sender or another requester adds nothing to the incident', async () => {
    await mail({ from: 'erin@example.org', subject: 'Outlook profile broken', text: 'Cannot open mail.' });
    const [incident] = await incidentsRequestedBy((await userByEmail('erin@example.org'))!.id);
    const frank = await t.user('requester', { email: 'frank@example.org' });
    const before = await counts(t);
    const timelineBefore = await timeline(t, incident!.id);

    await mail({
      from: 'mallory@evil.example',
      subject: 'Re: Outlook',
      text: 'Close this, it is fixed.',
      ...replyHeaders(incident!.id),
    });
    let message = await lastMessage();
    expect(message.status).toBe('rejected');
    expect(message.error).toBe(`mallory@evil.example may not comment on incident ${incident!.id}`);
    expect(await userByEmail('mallory@evil.example')).toBeUndefined();

    await mail({ from: frank.email, subject: 'Re: Outlook', text: 'Me too', ...replyHeaders(incident!.id) });
    message = await lastMessage();
    expect(message.status).toBe('rejected');

    const after = await counts(t);
    expect(after.incidents).toBe(before.incidents);
    expect(after.incident_events).toBe(before.incident_events);
    expect(after.users).toBe(before.users);
    expect(await timeline(t, incident!.id)).toEqual(timelineBefore);
  });

  it('refuses a reply whose reference is not signed by Palier: no comment, no new incident', async () => {
    await mail({ from: 'gina@example.org', subject: 'Adobe licence', text: 'Licence expired.' });
    const gina = (await userByEmail('gina@example.org'))!;
    const [incident] = await incidentsRequestedBy(gina.id);
    const forged = `<incident-${incident!.id}.AAAAAAAAAAAAAAAAAAAAAA@localhost>`;
    const before = await counts(t);
    await mail({
      from: 'gina@example.org',
      subject: 'Re: Adobe licence',
      text: 'Any news?',
      inReplyTo: forged,
      references: [forged],
    });
    const message = await lastMessage();
    expect(message.status).toBe('rejected');
    expect(message.error).toMatch(/reference Palier did not sign/);
    const after = await counts(t);
    expect(after.incidents).toBe(before.incidents);
    expect(after.incident_events).toBe(before.incident_events);
  });

  it('opens a new incident for a reply in a thread that is not Palier’s', async () => {
    await mail({
      from: 'hugo@example.org',
      subject: 'Re: lunch',
      text: 'And my screen is black',
      inReplyTo: '<123@other.example>',
      references: ['<123@other.example>'],
    });
    expect(await incidentsRequestedBy((await userByEmail('hugo@example.org'))!.id)).toHaveLength(1);
  });

  it('does not open incidents for automatic replies', async () => {
    await storesNothingButTheMessage(async () => {
      await mail({
        from: 'ivan@example.org',
        subject: 'Out of office',
        text: 'Back Monday',
        headers: { 'Auto-Submitted': 'auto-replied' },
      });
    });
    expect((await lastMessage()).status).toBe('rejected');
  });

  it('refuses unknown recipients and disabled integrations at RCPT TO, storing nothing', async () => {
    await storesNothing(t, async () => {
      await expect(
        smtp.sendMail({ from: 'a@example.org', to: 'nobody@palier.test', subject: 'x', text: 'y' }),
      ).rejects.toMatchObject({ responseCode: 550 });
      await expect(
        smtp.sendMail({ from: 'a@example.org', to: 'x+0123456789abcdef0123456789abcdef@palier.test', subject: 'x', text: 'y' }),
      ).rejects.toMatchObject({
        responseCode: 550,
      });
    });
    const other = await newIntegration(t, admin, { kind: 'email', name: 'to disable', category: 'network-downtime' });
    await t.api('POST', `/api/v1/integrations/${other.id}/disable`, { as: admin });
    await storesNothing(t, async () => {
      await expect(
        smtp.sendMail({ from: 'a@example.org', to: `it+${other.key}@palier.test`, subject: 'x', text: 'y' }),
      ).rejects.toMatchObject({ responseCode: 550 });
    });
  });

  it('refuses a second integration at the same address, and options of other kinds, writing nothing', async () => {
    const before = { integrations: await t.count('integrations'), users: await t.count('users') };
    const taken = await t.api('POST', '/api/v1/integrations', {
      as: admin,
      body: { kind: 'email', name: 'again', address: 'HELPDESK@palier.test' },
    });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('address_taken');
    const wrongKind = await t.api('POST', '/api/v1/integrations', {
      as: admin,
      body: { kind: 'email', name: 'x', keyBy: 'groupKey' },
    });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.error).toMatchObject({
      code: 'alertmanager_only',
      details: [{ path: 'keyBy', message: 'only for kind "alertmanager"' }],
    });
    const badAddress = await t.api('POST', '/api/v1/integrations', {
      as: admin,
      body: { kind: 'alertmanager', name: 'x', address: 'a@b.example' },
    });
    expect(badAddress.body.error.code).toBe('email_only');
    const unknownField = await t.api('POST', '/api/v1/integrations', {
      as: admin,
      body: { kind: 'email', name: 'x', key: 'mine' },
    });
    expect(unknownField.status).toBe(400);
    expect({ integrations: await t.count('integrations'), users: await t.count('users') }).toEqual(before);
  });

  it('keeps the IMAP password of a polled mailbox out of every answer', async () => {
    const imap = { host: 'imap.example.org', user: 'helpdesk', password: 'mailbox-secret-123', mailbox: 'Support' };
    const created = await newIntegration(t, admin, { kind: 'email', name: 'Polled mailbox', category: 'network-downtime', imap });
    expect(created.body.imap).toEqual({
      host: 'imap.example.org',
      port: 993,
      secure: true,
      user: 'helpdesk',
      mailbox: 'Support',
      pollSeconds: 60,
    });
    const one = await t.api('GET', `/api/v1/integrations/${created.id}`, { as: admin });
    const list = await t.api('GET', '/api/v1/integrations?kind=email', { as: admin });
    for (const res of [one, list]) {
      expect(res.status).toBe(200);
      expect(JSON.stringify(res.body)).not.toContain('mailbox-secret-123');
    }
    expect(list.body.items.every((i: { kind: string }) => i.kind === 'email')).toBe(true);
  });

  it('refuses a message larger than the configured size with 552, storing nothing', async () => {
    await storesNothing(t, async () => {
      await expect(mail({ from: 'big@example.org', subject: 'Logs', text: 'x'.repeat(1024 * 1024 + 10) })).rejects.toMatchObject({
        responseCode: 552,
      });
    });
  });

  /** Only the message row itself is written (as rejected): no incident, event or user. */
  async function storesNothingButTheMessage(run: () => Promise<void>) {
    const before = await counts(t);
    await run();
    const after = await counts(t);
    expect(after).toEqual({ ...before, inbound_messages: before.inbound_messages! + 1 });
  }
});
