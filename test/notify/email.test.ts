import nodemailer, { type Transporter } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../src/notify/dispatcher.js';
import { incidentReference } from '../../src/notify/mail-references.js';
import type { ContactDirectory } from '../../src/notify/recipients.js';
import { actOnIncident } from '../../src/services/incident.service.js';
import { nameInConfidentialCategories } from '../helpers/confidential.js';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { newIntegration } from '../intake/helpers.js';
import { notifyConfig, startListener, startSmtpSink, type SmtpSink } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const PUBLIC_URL = 'https://palier.example.org';

describe.each(ENGINES)('notification e-mail over SMTP on %s', (engine) => {
  let t: TestServer;
  let sink: SmtpSink;
  let smtp: Transporter;
  let intakeAddress: string;
  let requester: TestUser;
  let agentL1: TestUser;
  let agentL2fr: TestUser;
  let agentL2en: TestUser;

  const to = (user: TestUser) => sink.messages.filter((m) => m.to.includes(user.email));
  const dispatch = () => t.palier.dispatcher.runOnce();

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startServer(engine, {
      config: {
        publicUrl: PUBLIC_URL,
        notify: notifyConfig({ smtpUrl: `smtp://127.0.0.1:${sink.port}`, mailFrom: 'Palier <palier@palier.example.org>' }),
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
    const admin = await t.user('admin');
    const integration = await newIntegration(t, admin, {
      kind: 'email',
      name: 'Helpdesk',
      address: 'helpdesk@palier.example.org',
    });
    intakeAddress = `incidents+${integration.key}@palier.example.org`;
    smtp = nodemailer.createTransport({ host: '127.0.0.1', port: t.palier.intake.smtpPort!, secure: false, ignoreTLS: true });
    requester = await t.user('requester', { locale: 'en' });
    agentL1 = await t.user('agent', { tiers: ['L1'], locale: 'fr' });
    agentL2fr = await t.user('agent', { tiers: ['L2'], locale: 'fr' });
    agentL2en = await t.user('agent', { tiers: ['L2', 'L3'], locale: 'en' });
  });
  afterAll(async () => {
    smtp?.close();
    await t?.close();
    await sink?.close();
  });

  it('mails the new tier on escalation, each member in their language, threaded under the incident, and takes the reply as a comment', async () => {
    const created = await t.api('POST', '/api/v1/incidents', {
      as: requester,
      body: {
        title: 'Switch <core-2> down',
        description: 'Building B has no network',
        category: 'network-downtime',
        impact: 2,
        urgency: 2,
      },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as number;
    await dispatch();
    // Creation: the L1 team hears of it, nobody else.
    expect(to(agentL1)).toHaveLength(1);
    expect(to(agentL1)[0]!.mail.subject).toBe(
      `[Palier #${id}] Switch <core-2> down - Nouvel incident ${created.body.priority} au niveau L1`,
    );
    expect(sink.messages.map((m) => m.to).flat()).toEqual([agentL1.email]);

    expect((await t.api('POST', `/api/v1/incidents/${id}/acknowledge`, { as: agentL1 })).status).toBe(200);
    expect(
      (await t.api('POST', `/api/v1/incidents/${id}/escalate`, { as: agentL1, body: { reason: 'Needs the network team' } }))
        .status,
    ).toBe(200);
    await dispatch();

    const [fr] = to(agentL2fr);
    const [en] = to(agentL2en);
    expect(to(agentL2fr)).toHaveLength(1);
    expect(to(agentL2en)).toHaveLength(1);
    expect(fr!.to).toEqual([agentL2fr.email]);
    expect(en!.to).toEqual([agentL2en.email]);
    expect(fr!.from).toBe('palier@palier.example.org');
    expect(fr!.mail.subject).toBe(`[Palier #${id}] Switch <core-2> down - Escaladé de L1 à L2 : Needs the network team`);
    expect(en!.mail.subject).toBe(`[Palier #${id}] Switch <core-2> down - Escalated from L1 to L2: Needs the network team`);
    expect(fr!.mail.text).toContain(`Voir l’incident: ${PUBLIC_URL}/incidents/${id}`);
    expect(en!.mail.text).toContain(`Open the incident: ${PUBLIC_URL}/incidents/${id}`);
    expect(en!.mail.html).toContain(`<a href="${PUBLIC_URL}/incidents/${id}">`);
    // The title is text, never markup.
    expect(en!.mail.html).toContain('Switch &lt;core-2&gt; down');
    expect(en!.mail.html).not.toContain('<core-2>');
    const { signer, site } = t.palier.services;
    const root = incidentReference(signer, id, site.mailDomain);
    expect(site.mailDomain).toBe('palier.example.org');
    expect(en!.mail.messageId).toMatch(new RegExp(`^<incident-${id}\\.[\\w-]{22}\\.d\\d+@palier\\.example\\.org>$`));
    expect(en!.mail.inReplyTo).toBe(root);
    expect(en!.mail.references).toContain(root);
    expect(en!.mail.headers.get('auto-submitted')).toBe('auto-generated');
    // The requester is told of the acknowledgement, in English; the actor hears nothing of their own escalation.
    expect(to(requester).map((m) => m.mail.subject)).toEqual([`[Palier #${id}] Switch <core-2> down - Incident acknowledged`]);
    expect(to(agentL1)).toHaveLength(1);

    // Replying to the notification, as any mail client does, lands as a comment by that agent.
    await smtp.sendMail({
      from: agentL2en.email,
      to: intakeAddress,
      subject: `Re: ${en!.mail.subject}`,
      text: `Replacing the line card now.\n\nOn Sun, Palier wrote:\n> ${en!.mail.subject}`,
      inReplyTo: en!.mail.messageId,
      references: [...[en!.mail.references ?? []].flat(), en!.mail.messageId!],
    });
    const events = await t.palier.services.incidents.events(id);
    const comment = events.find((e) => e.kind === 'commented');
    expect(comment).toMatchObject({ actorId: agentL2en.id, data: { body: 'Replacing the line card now.' } });

    const deliveries = await t.api('GET', `/api/v1/deliveries?incident=${id}&status=sent`, { as: await t.user('manager') });
    expect(deliveries.status).toBe(200);
    expect(deliveries.body.items.map((d: { recipient: string }) => d.recipient).sort()).toEqual(
      [agentL1, agentL2fr, agentL2en, requester].map((u) => `email:${u.email}`).sort(),
    );
    for (const d of deliveries.body.items) expect(d.idempotencyKey).toMatch(/^outbox:\d+:email:/);
  });

  it('mails the requester when the incident is resolved, and sends an e-mail channel its list', async () => {
    const admin = await t.user('admin');
    const channel = await t.api('POST', '/api/v1/notification-channels', {
      as: admin,
      body: {
        name: 'Network managers',
        kind: 'email',
        target: 'noc@example.org, Head.Of.Net@example.org',
        events: ['resolved'],
        locale: 'en',
        categories: ['network-downtime'],
      },
    });
    expect(channel.status).toBe(201);
    expect(channel.body).toMatchObject({ target: 'noc@example.org, head.of.net@example.org', secret: null, signed: false });
    const id = (
      await t.api('POST', '/api/v1/incidents', {
        as: requester,
        body: { title: 'Wi-Fi drops', description: 'Every 5 minutes', category: 'network-downtime', impact: 3, urgency: 3 },
      })
    ).body.id as number;
    await t.api('POST', `/api/v1/incidents/${id}/acknowledge`, { as: agentL1 });
    await t.api('POST', `/api/v1/incidents/${id}/start`, { as: agentL1 });
    expect(
      (await t.api('POST', `/api/v1/incidents/${id}/resolve`, { as: agentL1, body: { resolution: 'Firmware updated' } })).status,
    ).toBe(200);
    const before = sink.messages.length;
    await dispatch();
    const fresh = sink.messages.slice(before);
    const list = fresh.find((m) => m.to.includes('noc@example.org'));
    expect(list!.to.sort()).toEqual(['head.of.net@example.org', 'noc@example.org']);
    expect(list!.mail.subject).toBe(`[Palier #${id}] Wi-Fi drops - Incident resolved: Firmware updated`);
    // The requester got one message for the acknowledgement and the resolution together (same window).
    const mine = fresh.filter((m) => m.to.includes(requester.email));
    expect(mine).toHaveLength(1);
    expect(mine[0]!.mail.subject).toBe(`[Palier #${id}] Wi-Fi drops - 2 updates`);
    expect(mine[0]!.mail.text).toContain('Incident acknowledged');
    expect(mine[0]!.mail.text).toContain('Incident resolved: Firmware updated');
  });

  it('reaches a team through its mailbox and its on-call person when the directory knows them, and the vendor it is handed to', async () => {
    const onCall = { userId: agentL2en.id, name: 'On call', email: 'oncall.l2@example.org', locale: 'en' as const };
    const calls: Array<[string, number]> = [];
    const room = await startListener();
    const directory: ContactDirectory = {
      async tierContacts(tier, at) {
        calls.push([tier, at]);
        return {
          tier,
          teams: [
            {
              id: 7,
              name: `Team ${tier}`,
              email: `team-${tier.toLowerCase()}@example.org`,
              chatWebhookUrl: tier === 'L2' ? `${room.url}/webhookb2/team-l2?token=s3cret` : null,
              onCall: tier === 'L2' ? onCall : null,
              members: [{ userId: agentL2fr.id, name: 'Member', email: agentL2fr.email, locale: 'fr' }],
              managers: [],
            },
          ],
        };
      },
    };
    const dispatcher = new Dispatcher(t.palier.services, notifyConfig({ smtpUrl: `smtp://127.0.0.1:${sink.port}` }), directory);
    const id = (
      await t.api('POST', '/api/v1/incidents', {
        as: requester,
        body: { title: 'SAN latency', description: 'Storage slow', category: 'network-downtime', impact: 2, urgency: 2 },
      })
    ).body.id as number;
    await t.api('POST', `/api/v1/incidents/${id}/acknowledge`, { as: agentL1 });
    await t.api('POST', `/api/v1/incidents/${id}/escalate`, { as: agentL1, body: { reason: 'Storage team' } });
    const before = sink.messages.length;
    await dispatcher.runOnce();
    const fresh = sink.messages.slice(before).filter((m) => m.mail.subject?.includes('Escala'));
    expect(
      fresh
        .map((m) => m.to)
        .flat()
        .sort(),
    ).toEqual(['oncall.l2@example.org', 'team-l2@example.org']);
    expect(calls.some(([tier]) => tier === 'L2')).toBe(true);
    // The team's chat room gets a Teams card; the list of deliveries never shows its secret URL.
    expect(room.received).toHaveLength(1);
    expect(JSON.parse(room.received[0]!.body)).toMatchObject({
      '@type': 'MessageCard',
      sections: [{ activityTitle: 'Escalated from L1 to L2: Storage team' }],
    });
    await room.close();
    const listed = await t.api('GET', `/api/v1/deliveries?incident=${id}`, { as: await t.user('admin') });
    expect(listed.body.items.map((d: { recipient: string }) => d.recipient)).toContain('chat:team:7');
    expect(JSON.stringify(listed.body)).not.toContain('s3cret');

    // Handed to a vendor: the vendor's address from the hand-off, in its language.
    const manager = await t.user('manager');
    await t.api('POST', `/api/v1/incidents/${id}/acknowledge`, { as: manager });
    await actOnIncident(t.palier.services, { id: manager.id, role: 'manager', tiers: [] }, id, {
      type: 'engage_vendor',
      vendor: { id: 3, name: 'StoreCorp', email: 'support@storecorp.example', locale: 'en' },
      note: 'Case opened by phone',
    });
    await sleep(5);
    const mark = sink.messages.length;
    await dispatcher.runOnce();
    const vendorMail = sink.messages.slice(mark).find((m) => m.to.includes('support@storecorp.example'));
    expect(vendorMail!.mail.subject).toBe(`[Palier #${id}] SAN latency - Handed to vendor StoreCorp: Case opened by phone`);
  });

  it('reaches a tier team of the directory: its mailbox and the person on call, not every member', async () => {
    const admin = await t.user('admin');
    const l3 = await t.user('agent', { tiers: ['L3'], locale: 'fr' });
    const team = await t.api('POST', '/api/v1/teams', {
      as: admin,
      body: { name: 'Systèmes N3', tier: 'L3', email: 'n3@example.org' },
    });
    expect(team.status, JSON.stringify(team.body)).toBe(201);
    const members = await t.api('PUT', `/api/v1/teams/${team.body.id}/members`, {
      as: admin,
      body: [
        { userId: agentL2en.id, role: 'member' },
        { userId: l3.id, role: 'member' },
      ],
    });
    expect(members.status, JSON.stringify(members.body)).toBe(200);
    const id = (
      await t.api('POST', '/api/v1/incidents', {
        as: requester,
        body: { title: 'Hypervisor crash', description: 'Cluster B', category: 'network-downtime', impact: 1, urgency: 1 },
      })
    ).body.id as number;
    expect(
      (await t.api('POST', `/api/v1/incidents/${id}/escalate`, { as: admin, body: { tier: 'L3', reason: 'Hypervisor' } })).status,
    ).toBe(200);
    const mark = sink.messages.length;
    await dispatch();
    const escalation = sink.messages.slice(mark).filter((m) => m.mail.subject?.includes('L3'));
    expect(
      escalation
        .map((m) => m.to)
        .flat()
        .sort(),
    ).toEqual([agentL2en.email, 'n3@example.org'].sort());
    // The team's mailbox speaks the on-call person's language.
    expect(escalation.find((m) => m.to.includes('n3@example.org'))!.mail.subject).toBe(
      `[Palier #${id}] Hypervisor crash - Escalated from L1 to L3: Hypervisor`,
    );
  });
  it('tells of a confidential incident only those who may read it, and only channels that name its category', async () => {
    const admin = await t.user('admin');
    const named = await t.user('manager', { locale: 'en' });
    const unnamed = await t.user('manager', { locale: 'en' });
    await nameInConfidentialCategories(t, named);
    const open = await t.api('POST', '/api/v1/notification-channels', {
      as: admin,
      body: { name: 'All escalations', kind: 'email', target: 'everything@example.org', events: ['escalated'] },
    });
    const dpo = await t.api('POST', '/api/v1/notification-channels', {
      as: admin,
      body: {
        name: 'Data protection',
        kind: 'email',
        target: 'dpo@example.org',
        events: ['escalated'],
        categories: ['data-security-breach'],
      },
    });
    expect([open.status, dpo.status]).toEqual([201, 201]);
    const contact = (u: TestUser) => ({ userId: u.id, name: u.email, email: u.email, locale: 'en' as const });
    // A team whose members include a manager the matrix does not name for breaches.
    const directory: ContactDirectory = {
      async tierContacts(tier) {
        if (tier !== 'L2') return { tier, teams: [] };
        return {
          tier,
          teams: [
            {
              id: 9,
              name: tier,
              email: null,
              chatWebhookUrl: null,
              onCall: null,
              members: [contact(agentL2en), contact(named), contact(unnamed)],
              managers: [],
            },
          ],
        };
      },
    };
    const dispatcher = new Dispatcher(t.palier.services, notifyConfig({ smtpUrl: `smtp://127.0.0.1:${sink.port}` }), directory);
    const escalate = async (category: string) => {
      const id = (
        await t.api('POST', '/api/v1/incidents', {
          as: requester,
          body: { title: `Escalated ${category}`, description: 'x', category, impact: 2, urgency: 2 },
        })
      ).body.id as number;
      await t.api('POST', `/api/v1/incidents/${id}/acknowledge`, { as: agentL1 });
      expect(
        (await t.api('POST', `/api/v1/incidents/${id}/escalate`, { as: agentL1, body: { reason: 'Needs L2' } })).status,
      ).toBe(200);
      const mark = sink.messages.length;
      await dispatcher.runOnce();
      return sink.messages
        .slice(mark)
        .filter((m) => m.mail.subject?.includes(`Escalated ${category}`) && m.mail.subject?.includes('L2'))
        .flatMap((m) => m.to)
        .sort();
    };
    const breach = await escalate('data-security-breach');
    expect(breach).toEqual([agentL2en.email, 'dpo@example.org', named.email].sort());
    // The same escalation in an ordinary category reaches everyone: the filter is the category's.
    const network = await escalate('network-downtime');
    expect(network).toEqual([agentL2en.email, 'everything@example.org', named.email, unnamed.email].sort());
  });
});
