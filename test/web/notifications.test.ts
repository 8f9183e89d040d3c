import { createHmac } from 'node:crypto';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOTIFIED_EVENTS } from '../../src/store/escalation.repository.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { notifyConfig, startListener, type Listener } from '../notify/helpers.js';
import { browserAvailable, ensureWebBuilt, launchBrowser, personContext, screenshot, signIn, watchPage } from './browser.js';

const HOSTILE = '<img src=x onerror="window.__pwned = \'img\'; alert(1)"> Ops';
const incident = { title: 'VPN down', description: 'No tunnel since 8:00', category: 'network-downtime', impact: 1, urgency: 1 };

/** The outbound notifications page, against a real webhook receiver on 127.0.0.1 (allow-listed). */
describe.skipIf(!browserAvailable)('web app: outbound notifications', { timeout: 90_000 }, () => {
  let t: TestServer;
  let l: Listener;
  let browser: Browser;
  let admin: TestUser;
  let agent: TestUser;
  let requester: TestUser;
  let page: Page;
  const seen: Array<{ errors: string[]; dialogs: string[] }> = [];

  const pageFor = async (user: TestUser) => {
    const p = await (await personContext(browser)).newPage();
    p.setDefaultTimeout(10_000);
    seen.push(watchPage(p));
    await signIn(p, t.url, user.email);
    return p;
  };
  const newIncident = async () => (await t.api('POST', '/api/v1/incidents', { as: requester, body: incident })).body.id as number;
  const channelsByApi = async () =>
    (await t.api('GET', '/api/v1/notification-channels', { as: admin })).body.items as Array<{
      id: number;
      name: string;
      enabled: boolean;
      target: string;
    }>;
  const deliveryRow = (incidentId: number): Locator =>
    page
      .getByTestId('deliveries')
      .getByRole('row')
      .filter({ has: page.getByRole('link', { name: `#${incidentId}`, exact: true }) });
  /** Reloads the log and waits for the delivery of that incident to show the status. */
  const expectStatus = async (incidentId: number, status: string) => {
    await expect
      .poll(async () => {
        await page.getByRole('button', { name: 'Refresh' }).click();
        return deliveryRow(incidentId)
          .getByTestId('delivery-status')
          .textContent({ timeout: 1000 })
          .catch(() => null);
      })
      .toBe(status);
  };
  const addForm = () => page.getByRole('form', { name: 'Add a channel' });
  /** Waits for the page to confirm what was done. */
  const told = (text: string | RegExp) => page.getByRole('status').getByText(text).waitFor();
  const pwned = (p: Page) => p.evaluate(() => (globalThis as unknown as { __pwned?: string }).__pwned ?? null);

  beforeAll(async () => {
    ensureWebBuilt();
    l = await startListener();
    t = await startServer('sqlite', {
      // The receiver listens on loopback: allowed here as an administrator would with PALIER_WEBHOOK_ALLOW.
      config: { notify: notifyConfig({ webhookAllow: ['127.0.0.1'], maxAttempts: 1 }) },
    });
    browser = await launchBrowser();
    admin = await t.user('admin', { locale: 'en' });
    agent = await t.user('agent', { locale: 'en' });
    requester = await t.user('requester', { locale: 'en' });
    page = await pageFor(admin);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await l?.close();
  });

  it('adds a signed webhook through the form, shows the secret once, and logs the delivery as sent', async () => {
    await page.locator('nav a[href="/notifications"]').click();
    await page.getByRole('heading', { name: 'Outbound notifications' }).waitFor();
    await page.getByText('No channel yet.').waitFor();

    const form = addForm();
    // The form offers every event kind the server notifies, and only those.
    const offered = await form
      .getByRole('group', { name: 'Events' })
      .getByRole('checkbox')
      .evaluateAll((boxes) => boxes.map((b) => b.getAttribute('value')));
    expect(offered.sort()).toEqual([...NOTIFIED_EVENTS].sort());
    await form.getByLabel('Kind').selectOption('webhook');
    await form.getByLabel('Name').fill('SIEM');
    await form.getByLabel('Webhook URL').fill(`${l.url}/siem`);
    await form.getByRole('checkbox', { name: 'Resolved' }).check();
    await form.getByRole('checkbox', { name: 'Escalated' }).uncheck();
    await form.getByLabel('Language of the messages').selectOption('en');
    await form.getByRole('button', { name: 'Add the channel' }).click();

    const notice = page.getByRole('region', { name: 'Signing secret' });
    await notice.getByText('Copy it now: this is the only time the signing secret of SIEM is shown.').waitFor();
    const secret = (await notice.getByTestId('secret').textContent())!;
    expect(secret).toMatch(/^whsec_/);
    const [hook] = await channelsByApi();
    expect(hook).toMatchObject({ name: 'SIEM', target: `${l.url}/siem`, enabled: true });
    expect(JSON.stringify(await channelsByApi())).not.toContain(secret);
    const row = page.getByTestId(`channel-${hook!.id}`);
    const cells = await row.getByRole('cell').allTextContents();
    expect(cells.slice(0, 8)).toEqual([
      'SIEM',
      'Generic webhook (signed JSON)',
      `${l.url}/siem`,
      'Incident opened, Resolved',
      'All categoriesAll tiers',
      'English',
      'Enabled',
      'Yes',
    ]);
    await screenshot(page, '60-notifications-secret');
    await notice.getByRole('button', { name: 'I have copied it' }).click();
    expect(await page.getByTestId('secret').count()).toBe(0);

    // An incident is opened; the dispatcher sends it to the receiver, signed with the secret shown.
    const id = await newIncident();
    await t.palier.dispatcher.runOnce();
    const got = l.received.filter((r) => r.path === '/siem');
    expect(got).toHaveLength(1);
    const ts = String(got[0]!.headers['x-palier-timestamp']);
    const expected = createHmac('sha256', secret).update(`${ts}.${got[0]!.body}`).digest('hex');
    expect(got[0]!.headers['x-palier-signature']).toBe(`sha256=${expected}`);
    expect(JSON.parse(got[0]!.body).incident).toMatchObject({ id, title: 'VPN down' });

    await expectStatus(id, 'Sent');
    const logged = await deliveryRow(id).getByRole('cell').allTextContents();
    expect(logged.slice(2, 6)).toEqual(['SIEM', `${l.url}/siem`, 'Sent', '1']);
    await deliveryRow(id)
      .getByRole('link', { name: `#${id}` })
      .click();
    await page.waitForURL(`${t.url}/incidents/${id}`);
    await page.goBack();
    await page.getByRole('heading', { name: 'Delivery log' }).waitFor();
  });

  it('shows the refusal of an address that is not allowed, keeping what was typed', async () => {
    const before = (await channelsByApi()).length;
    const form = addForm();
    await form.getByLabel('Name').fill('Metadata');
    await form.getByLabel('Webhook URL').fill('http://169.254.169.254/latest/meta-data');
    await form.getByRole('button', { name: 'Add the channel' }).click();
    await expect(form.getByRole('alert').textContent()).resolves.toContain(
      'This address is refused: it is a loopback, link-local, private or otherwise reserved address.',
    );
    expect(await form.getByLabel('Name').inputValue()).toBe('Metadata');
    // Loopback on another address than the one allowed is refused as well.
    await form.getByLabel('Webhook URL').fill('http://127.0.0.2:9/hook');
    await form.getByRole('button', { name: 'Add the channel' }).click();
    await expect(form.getByRole('alert').textContent()).resolves.toContain('PALIER_WEBHOOK_ALLOW');
    expect((await channelsByApi()).length).toBe(before);
    await form.getByLabel('Name').fill('');
    await form.getByLabel('Webhook URL').fill('');
  });

  it('shows a channel name made of HTML as text', async () => {
    const form = addForm();
    await form.getByLabel('Kind').selectOption('slack');
    await form.getByLabel('Name').fill(HOSTILE);
    await form.getByLabel('Webhook URL').fill(`${l.url}/slack`);
    await form.getByRole('button', { name: 'Add the channel' }).click();
    await told(`Channel ${HOSTILE} added.`);
    const created = (await channelsByApi()).find((c) => c.name === HOSTILE)!;
    const row = page.getByTestId(`channel-${created.id}`);
    expect(await row.getByRole('cell').first().textContent()).toBe(HOSTILE);
    expect(await page.locator('img').count()).toBe(0);
    // A Slack incoming webhook is not signed: no secret to show.
    expect(await page.getByTestId('secret').count()).toBe(0);
    expect(await row.getByRole('button', { name: 'Rotate the secret' }).count()).toBe(0);
    await row.getByRole('button', { name: 'Delete' }).click();
    await row.getByRole('button', { name: 'Yes, delete' }).click();
    await told(`Channel ${HOSTILE} deleted.`);
    expect((await channelsByApi()).some((c) => c.id === created.id)).toBe(false);
    expect(await pwned(page)).toBeNull();
  });

  it('edits, disables and enables a channel, rotates its secret, and retries failed and dropped deliveries', async () => {
    const [hook] = await channelsByApi();
    const row = page.getByTestId(`channel-${hook!.id}`);
    await row.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('form', { name: 'Edit the channel SIEM' });
    // A new address is checked as at creation; the refusal shows in the form being edited.
    await edit.getByLabel('Webhook URL').fill('http://192.168.1.20/hook');
    await edit.getByRole('button', { name: 'Save' }).click();
    await expect(edit.getByRole('alert').textContent()).resolves.toContain('This address is refused');
    expect((await channelsByApi())[0]!.target).toBe(`${l.url}/siem`);
    await edit.getByLabel('Webhook URL').fill(`${l.url}/siem`);
    await edit.getByLabel('Name').fill('SIEM Paris');
    await edit.getByRole('button', { name: 'Save' }).click();
    await told('Channel SIEM Paris saved.');
    expect((await channelsByApi())[0]!.name).toBe('SIEM Paris');

    // The receiver is down: with one attempt allowed, the delivery fails, then is retried from the log.
    l.status = 503;
    const failing = await newIncident();
    await t.palier.dispatcher.runOnce();
    await page.getByRole('combobox', { name: /^Status/ }).selectOption('failed');
    await expectStatus(failing, 'Failed');
    expect(await page.getByTestId('deliveries').getByRole('row').count()).toBe(2); // header and this one
    expect(await deliveryRow(failing).getByRole('cell').nth(6).textContent()).toBe('HTTP 503: down for maintenance');
    l.status = 200;
    await deliveryRow(failing).getByRole('button', { name: 'Retry' }).click();
    await told(/will be sent again shortly/);
    await t.palier.dispatcher.runOnce();
    await page.getByRole('combobox', { name: /^Status/ }).selectOption('');
    await expectStatus(failing, 'Sent');

    // A delivery to a disabled channel is dropped; once the channel is enabled again it can be retried.
    const dropped = await newIncident();
    await t.palier.dispatcher.expand(Date.now()); // its delivery is planned, not yet sent
    await row.getByRole('button', { name: 'Disable' }).click();
    await told(/Channel SIEM Paris disabled/);
    expect(await row.getByRole('cell').nth(6).textContent()).toBe('Disabled');
    await t.palier.dispatcher.runOnce();
    await expectStatus(dropped, 'Dropped');
    expect(await deliveryRow(dropped).getByRole('cell').nth(6).textContent()).toBe('The channel was disabled or deleted');
    await row.getByRole('button', { name: 'Enable' }).click();
    await told('Channel SIEM Paris enabled.');
    await deliveryRow(dropped).getByRole('button', { name: 'Retry' }).click();
    await told(/will be sent again shortly/);
    await t.palier.dispatcher.runOnce();
    await expectStatus(dropped, 'Sent');
    expect(l.received.filter((r) => r.path === '/siem')).toHaveLength(4);

    // Filtering by channel keeps only its deliveries (three incidents, and the header row).
    await page.getByRole('combobox', { name: /^Channel/ }).selectOption(String(hook!.id));
    await expect.poll(() => page.getByTestId('deliveries').getByRole('row').count()).toBe(4);

    // A rotated secret is shown once and signs what follows.
    await row.getByRole('button', { name: 'Rotate the secret' }).click();
    const rotated = (await page.getByRole('region', { name: 'Signing secret' }).getByTestId('secret').textContent())!;
    expect(rotated).toMatch(/^whsec_/);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await newIncident();
    await t.palier.dispatcher.runOnce();
    const last = l.received.filter((r) => r.path === '/siem').at(-1)!;
    const expected = createHmac('sha256', rotated)
      .update(`${String(last.headers['x-palier-timestamp'])}.${last.body}`)
      .digest('hex');
    expect(last.headers['x-palier-signature']).toBe(`sha256=${expected}`);
  });

  it('pages the log and filters it by incident', async () => {
    const log = page.getByTestId('deliveries');
    const shownIncidents = async () => (await log.getByRole('link').allTextContents()).map((x) => Number(x.slice(1)));
    // The channel's deliveries so far (the filter by channel is still on): four incidents, newest first.
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(async () => (await shownIncidents()).length).toBe(4);
    const earlier = await shownIncidents();
    // Fifty more incidents, planned for the channel (not sent: the log lists pending ones too).
    const ids: number[] = [];
    for (let i = 0; i < 50; i++) ids.push(await newIncident());
    while ((await t.palier.dispatcher.expand(Date.now())) > 0);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(shownIncidents).toEqual([...ids].reverse());
    expect(await page.getByRole('button', { name: 'Newer deliveries' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Older deliveries' }).click();
    await expect.poll(shownIncidents).toEqual(earlier);
    expect(await page.getByRole('button', { name: 'Older deliveries' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Newer deliveries' }).click();
    await expect.poll(async () => (await shownIncidents())[0]).toBe(ids.at(-1));
    await screenshot(page, '61-notifications-log');

    await page.getByRole('textbox', { name: 'Incident no.' }).fill(String(ids[10]));
    await expect.poll(shownIncidents).toEqual([ids[10]]);
    expect(await log.getByRole('row').nth(1).getByTestId('delivery-status').textContent()).toBe('Pending');
    await page.getByRole('textbox', { name: 'Incident no.' }).fill('');
  });

  it('speaks French, refusals included', async () => {
    await page.locator('header select').selectOption('fr');
    await page.getByRole('heading', { name: 'Notifications sortantes' }).waitFor();
    const form = page.getByRole('form', { name: 'Ajouter un canal' });
    await form.getByLabel('Nom').fill('Interne');
    await form.getByLabel('URL du webhook').fill('http://10.0.0.8/hook');
    await form.getByRole('button', { name: 'Ajouter le canal' }).click();
    await expect(form.getByRole('alert').textContent()).resolves.toContain('Cette adresse est refusée');
    await page.getByRole('heading', { name: 'Journal des envois' }).waitFor();
    await page.locator('header select').selectOption('en');
  });

  it('gives an agent neither the page nor the API', async () => {
    const p = await pageFor(agent);
    expect(await p.locator('nav a[href="/notifications"]').count()).toBe(0);
    await p.goto(`${t.url}/notifications`);
    await p.waitForURL(`${t.url}/queue`);
    expect(await p.getByRole('heading', { name: 'Outbound notifications' }).count()).toBe(0);
    for (const path of ['/api/v1/notification-channels', '/api/v1/deliveries'])
      expect((await t.api('GET', path, { as: agent })).status).toBe(403);
    const refused = await t.api('POST', '/api/v1/notification-channels', {
      as: agent,
      body: { name: 'Mine', kind: 'webhook', target: `${l.url}/x`, events: ['created'] },
    });
    expect(refused.status).toBe(403);
    expect(seen.flatMap((s) => [...s.errors, ...s.dialogs])).toEqual([]);
  });
});
