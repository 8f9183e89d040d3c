import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollOnce } from '../../src/intake/imap-poller.js';
import { integrationOf } from '../../src/intake/integrations.js';
import { incidentReference } from '../../src/notify/mail-references.js';
import { DOVECOT_AVAILABLE, startDovecot, type ImapServer } from '../helpers/dovecot.js';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { commentOf, newIntegration, timeline } from './helpers.js';

let n = 0;
/** A plain RFC 5322 message, as a mail client would leave it in the mailbox. */
function message(o: { from: string; subject: string; text: string; headers?: Record<string, string> }): string {
  const lines = [
    `From: ${o.from}`,
    'To: support@palier.test',
    `Subject: ${o.subject}`,
    `Message-ID: <imap-${++n}.${Date.now()}@mail.example.org>`,
    'Date: Sat, 28 Nov 2026 10:00:00 +0100',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    ...Object.entries(o.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
    '',
    o.text,
    '',
  ];
  return lines.join('\r\n');
}

describe.skipIf(!DOVECOT_AVAILABLE).each(ENGINES)('e-mail intake by IMAP polling on %s', (engine) => {
  let dovecot: ImapServer;
  let t: TestServer;
  let admin: TestUser;
  let mailbox: ImapFlow;
  const user = `helpdesk-${engine}`;

  const imapSettings = () => ({
    host: dovecot.host,
    port: dovecot.port,
    secure: false,
    user,
    password: dovecot.password,
    mailbox: 'INBOX',
    pollSeconds: 60,
  });
  const append = (raw: string) => mailbox.append('INBOX', raw);
  const unseen = async () => {
    const lock = await mailbox.getMailboxLock('INBOX');
    try {
      return (await mailbox.search({ seen: false }, { uid: true })) || [];
    } finally {
      lock.release();
    }
  };
  /** Incidents opened by a message of that integration (e-mail incidents are requested by their sender). */
  const incidentsOf = async (_t: TestServer, integrationId: number) => {
    const rows = await t.palier.services.store.db
      .selectFrom('inbound_messages')
      .select('incident_id')
      .distinct()
      .where('integration_id', '=', integrationId)
      .where('incident_id', 'is not', null)
      .orderBy('incident_id')
      .execute();
    return Promise.all(rows.map(async (r) => (await t.palier.services.incidents.get(Number(r.incident_id)))!));
  };
  const integrationById = async (id: number) => integrationOf((await t.palier.services.intake.integration(id))!);

  beforeAll(async () => {
    dovecot = await startDovecot();
    t = await startServer(engine, {
      config: {
        worker: true,
        intake: {
          smtpHost: '127.0.0.1',
          smtpPort: null,
          smtpMaxBytes: 1 << 20,
          sweepMs: 30_000,
          imap: true,
          imapTickMs: 100,
          ratePerMinute: 1000,
        },
      },
    });
    admin = await t.user('admin');
    mailbox = new ImapFlow({
      host: dovecot.host,
      port: dovecot.port,
      secure: false,
      auth: { user, pass: dovecot.password },
      logger: false,
    });
    await mailbox.connect();
  });
  afterAll(async () => {
    await mailbox?.logout().catch(() => undefined);
    await t?.close();
    dovecot?.stop();
  });

  it('opens an incident per unseen message, flags it seen, and takes nothing twice', async () => {
    await append(
      message({ from: 'Dana <dana@example.org>', subject: 'Wi-Fi down on floor 3', text: 'No access point answers.' }),
    );
    await append(message({ from: 'eric@example.org', subject: 'Switch port dead', text: 'Port 12 of the switch in room 204.' }));
    const created = await newIntegration(t, admin, {
      kind: 'email',
      name: 'Polled',
      category: 'network-downtime',
      imap: { ...imapSettings(), pollSeconds: 3600 },
    });

    // The running poller reads the integration list at every tick, so one created after start is polled.
    await expect.poll(async () => (await incidentsOf(t, created.id)).length, { timeout: 10_000 }).toBe(2);
    const incidents = await incidentsOf(t, created.id);
    expect(incidents.map((i) => [i.title, i.category])).toEqual([
      ['Wi-Fi down on floor 3', 'network-downtime'],
      ['Switch port dead', 'network-downtime'],
    ]);
    expect(incidents[0]!.description).toBe('No access point answers.');
    const dana = await t.palier.services.users.byEmail('dana@example.org');
    expect(incidents[0]!.requesterId).toBe(dana!.id);
    expect(await unseen()).toEqual([]);

    expect(await pollOnce(t.palier.services, await integrationById(created.id))).toEqual([]);
    expect(await incidentsOf(t, created.id)).toHaveLength(2);
    expect((await t.api('POST', `/api/v1/integrations/${created.id}/disable`, { as: admin })).status).toBe(200);
  });

  it('does not open a second incident for a message fetched again after a crash before it was flagged', async () => {
    const created = await newIntegration(t, admin, { kind: 'email', name: 'Replayed', category: 'network-downtime' });
    const integration = {
      ...(await integrationById(created.id)),
      config: { ...(await integrationById(created.id)).config, imap: imapSettings() },
    };
    const appended = await append(message({ from: 'fanny@example.org', subject: 'Router reboots', text: 'Every ten minutes.' }));
    const first = await pollOnce(t.palier.services, integration);
    expect(first).toHaveLength(1);
    // As if the flag had never been written: the message is unseen again and fetched a second time.
    const lock = await mailbox.getMailboxLock('INBOX');
    try {
      await mailbox.messageFlagsRemove(String(appended && appended.uid), ['\\Seen'], { uid: true });
    } finally {
      lock.release();
    }
    const second = await pollOnce(t.palier.services, integration);
    expect(second).toHaveLength(1);
    expect(second[0]).not.toBe(first[0]);
    const titles = (await incidentsOf(t, created.id)).map((i) => i.title);
    expect(titles.filter((title) => title === 'Router reboots')).toHaveLength(1);
  });

  it('adds a reply that carries a signed reference to its incident as a comment', async () => {
    const created = await newIntegration(t, admin, { kind: 'email', name: 'Replies', category: 'network-downtime' });
    const integration = {
      ...(await integrationById(created.id)),
      config: { ...(await integrationById(created.id)).config, imap: imapSettings() },
    };
    await append(message({ from: 'gael@example.org', subject: 'VPN drops', text: 'Since the update.' }));
    await pollOnce(t.palier.services, integration);
    const [incident] = (await incidentsOf(t, created.id)).filter((i) => i.title === 'VPN drops');
    const { signer, site } = t.palier.services;
    const ref = incidentReference(signer, incident!.id, site.mailDomain);
    await append(
      message({
        from: 'gael@example.org',
        subject: `Re: [Palier #${incident!.id}] VPN drops`,
        text: 'It drops on Wi-Fi only.',
        headers: { 'In-Reply-To': ref, References: ref },
      }),
    );
    await pollOnce(t.palier.services, integration);
    const events = await timeline(t, incident!.id);
    expect(events.filter((e) => e.kind === 'commented').map(commentOf)).toEqual(['It drops on Wi-Fi only.']);
    expect((await incidentsOf(t, created.id)).filter((i) => i.title.includes('VPN drops'))).toHaveLength(1);
  });

  it('stores nothing when the mailbox refuses the password', async () => {
    const created = await newIntegration(t, admin, { kind: 'email', name: 'Wrong password', category: 'network-downtime' });
    const integration = await integrationById(created.id);
    const before = await t.count('inbound_messages');
    await append(message({ from: 'hugo@example.org', subject: 'Never read', text: 'x' }));
    await expect(
      pollOnce(t.palier.services, {
        ...integration,
        config: { ...integration.config, imap: { ...imapSettings(), password: 'wrong' } },
      }),
    ).rejects.toThrow();
    expect(await t.count('inbound_messages')).toBe(before);
  });
});
