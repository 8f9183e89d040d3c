import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { notifyConfig, startSmtpSink, type SmtpSink } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PUBLIC_URL = 'https://palier.example.org';

/** The hand-off message is how a vendor learns of the incident: it must carry the vendor's signed page. */
describe.each(ENGINES)('the vendor hand-off e-mail on %s', (engine) => {
  let t: TestServer;
  let sink: SmtpSink;
  let admin: TestUser;

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startServer(engine, {
      config: {
        publicUrl: PUBLIC_URL,
        notify: notifyConfig({ smtpUrl: `smtp://127.0.0.1:${sink.port}`, mailFrom: 'Palier <palier@palier.example.org>' }),
      },
    });
    admin = await t.user('admin');
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it('mails the vendor in its language with a link to its page, which opens it', async () => {
    const vendor = await t.api('POST', '/api/v1/vendors', {
      as: admin,
      body: { name: 'StoreCorp', categories: ['cloud-service-interruption'], email: 'Support@StoreCorp.example', locale: 'en' },
    });
    expect(vendor.status).toBe(201);
    const created = await t.api('POST', '/api/v1/incidents', {
      as: admin,
      body: { title: 'SAN latency', category: 'cloud-service-interruption', impact: 2, urgency: 2 },
    });
    const id = created.body.id as number;
    await t.api('POST', `/api/v1/incidents/${id}/acknowledge`, { as: admin });
    await t.palier.dispatcher.runOnce();
    const mark = sink.messages.length;
    expect(
      (
        await t.api('POST', `/api/v1/incidents/${id}/engage-vendor`, {
          as: admin,
          body: { vendorId: vendor.body.id, note: 'Case 42' },
        })
      ).status,
    ).toBe(200);
    await sleep(5);
    await t.palier.dispatcher.runOnce();

    const mail = sink.messages.slice(mark).find((m) => m.to.includes('support@storecorp.example'));
    expect(mail, JSON.stringify(sink.messages.slice(mark).map((m) => m.to))).toBeDefined();
    expect(mail!.mail.subject).toBe(`[Palier #${id}] SAN latency - Handed to vendor StoreCorp: Case 42`);
    const link = new RegExp(`${PUBLIC_URL.replace(/\./g, '\\.')}/vendor/([0-9a-z.A-Z_-]+)`).exec(mail!.mail.text ?? '');
    expect(link, mail!.mail.text).not.toBeNull();
    expect(mail!.mail.text).not.toContain(`/incidents/${id}`);
    // The link opens the vendor's page for this incident.
    const page = await t.api('GET', `/api/v1/vendor-portal/${link![1]}`);
    expect(page.status).toBe(200);
    expect(page.body.incident).toMatchObject({ id, title: 'SAN latency', vendorStatus: 'engaged' });
  });
});
