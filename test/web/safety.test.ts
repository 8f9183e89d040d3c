import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/services/auth.service.js';
import { fixture, incidentsOf, newIntegration } from '../intake/helpers.js';
import { PASSWORD, startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { browserAvailable, ensureWebBuilt, launchBrowser, personContext, screenshot, signIn, watchPage } from './browser.js';

const SCRIPT = '<script>window.__pwned = "script"</script>';
const IMG = '<img src=x onerror="window.__pwned = \'img\'; alert(1)">';
const SVG = '<svg onload="window.__pwned = \'svg\'"></svg>';

/** User text must reach the screen as text: nothing typed by anyone may run in another's browser. */
describe.skipIf(!browserAvailable)('web app: user text is never run as HTML', () => {
  let t: TestServer;
  let browser: Browser;
  let requester: TestUser;
  let agent: TestUser;
  let incidentId: number;
  const seen: Array<{ errors: string[]; dialogs: string[] }> = [];

  async function userWithName(
    role: 'agent' | 'requester' | 'admin',
    displayName: string,
    tiers: string[] = [],
  ): Promise<TestUser> {
    const email = `${role}-xss-${Math.random().toString(36).slice(2)}@example.test`;
    const u = await addUser(t.palier.services, { email, password: PASSWORD, role, displayName, tiers, locale: 'en' });
    const res = await t.api('POST', '/api/v1/auth/token', { body: { email, password: PASSWORD } });
    return { id: u.id, email, token: res.body.token };
  }
  async function pageFor(user: TestUser): Promise<Page> {
    const page = await (await personContext(browser)).newPage();
    seen.push(watchPage(page));
    await signIn(page, t.url, user.email);
    return page;
  }
  const pwned = (page: Page) => page.evaluate(() => (globalThis as unknown as { __pwned?: string }).__pwned ?? null);

  beforeAll(async () => {
    ensureWebBuilt();
    t = await startServer('sqlite');
    browser = await launchBrowser();
    requester = await userWithName('requester', IMG);
    agent = await userWithName('agent', SCRIPT, ['L1']);
    const admin = await userWithName('admin', SVG);
    // A matrix action is user text too.
    const matrix = (await t.api('GET', '/api/v1/matrix', { as: admin })).body;
    const cell = matrix.cells.find(
      (c: { category: string; tier: string }) => c.category === 'network-downtime' && c.tier === 'L1',
    );
    cell.actions.push({ fr: IMG, en: IMG });
    expect((await t.api('PUT', '/api/v1/matrix', { as: admin, body: matrix })).status).toBe(200);

    const created = await t.api('POST', '/api/v1/incidents', {
      as: requester,
      body: { title: `${SCRIPT} VPN`, description: `${IMG}\n${SVG}`, category: 'network-downtime', impact: 2, urgency: 2 },
    });
    expect(created.status).toBe(201);
    incidentId = created.body.id;
    expect(
      (await t.api('POST', `/api/v1/incidents/${incidentId}/comments`, { as: agent, body: { body: `${IMG} ${SCRIPT}` } })).status,
    ).toBe(201);
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('shows titles, descriptions, comments, actions and names as text in the queue and on the incident page', async () => {
    const page = await pageFor(agent);
    expect(await page.getByTestId('user-name').textContent()).toBe(SCRIPT);
    const link = page.getByRole('link', { name: `${SCRIPT} VPN` });
    await link.waitFor();
    await link.click();
    await page.getByRole('heading', { name: `${SCRIPT} VPN` }).waitFor();
    expect(await page.getByTestId('description').textContent()).toBe(`${IMG}\n${SVG}`);
    expect(await page.getByTestId('timeline').textContent()).toContain(`${IMG} ${SCRIPT}`);
    expect(await page.locator('.checklist').textContent()).toContain(IMG);
    // None of the payloads became an element.
    expect(await page.locator('main img, main svg, main script').count()).toBe(0);
    await page.waitForTimeout(300); // give a failed image load time to fire onerror, were there one
    expect(await pwned(page)).toBeNull();
    await screenshot(page, '14-incident-hostile-text');
  });

  it("shows them as text to the requester too, and to an admin listing users' names", async () => {
    const page = await pageFor(requester);
    expect(await page.getByTestId('user-name').textContent()).toBe(IMG);
    await page.getByTestId('my-incidents').getByText(`${SCRIPT} VPN`).waitFor();
    await page.goto(`${t.url}/incidents/${incidentId}`);
    await page.getByRole('heading', { name: `${SCRIPT} VPN` }).waitFor();
    await page.locator('textarea').first().fill(`${SVG} merci`);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByTestId('timeline').getByText(`${SVG} merci`).waitFor();
    expect(await page.locator('main img, main svg, main script').count()).toBe(0);
    expect(await pwned(page)).toBeNull();

    const admin = await userWithName('admin', 'Admin');
    const adminPage = await pageFor(admin);
    await adminPage.goto(`${t.url}/users`);
    await adminPage.getByRole('cell', { name: IMG }).waitFor();
    await adminPage.getByRole('cell', { name: SCRIPT }).waitFor();
    expect(await adminPage.locator('main img, main svg, main script').count()).toBe(0);
    expect(await pwned(adminPage)).toBeNull();
  });

  it('keeps what was typed and says what went wrong when the API refuses or cannot be reached', async () => {
    const page = await pageFor(requester);
    await page.goto(`${t.url}/report`);
    await page.getByLabel('What is wrong? (short title)').fill('Imprimante hors ligne');
    await page.getByLabel('Kind of problem').selectOption('software-installation-failure');
    await page.getByLabel(/^Details/).fill('Depuis ce matin.');
    // The network fails: the server is not reached.
    await page.route('**/api/v1/incidents', (route) =>
      route.request().method() === 'POST' ? route.abort('connectionrefused') : route.fallback(),
    );
    await page.getByRole('button', { name: 'Send' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe(
      'The server cannot be reached. Check your connection and try again.',
    );
    expect(await page.getByLabel('What is wrong? (short title)').inputValue()).toBe('Imprimante hors ligne');
    expect(await page.getByLabel(/^Details/).inputValue()).toBe('Depuis ce matin.');
    await screenshot(page, '15-report-error');
    // Back online, the same form goes through.
    await page.unroute('**/api/v1/incidents');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.waitForURL(/\/incidents\/\d+$/);
    await page.getByRole('heading', { name: 'Imprimante hors ligne' }).waitFor();

    // A refusal of the real API (a reason longer than it accepts) is explained; the reason stays.
    const agentPage = await pageFor(agent);
    await agentPage.goto(`${t.url}/incidents/${incidentId}`);
    const reason = 'x'.repeat(2001);
    await agentPage.locator('textarea[name=escalate-reason]').fill(reason);
    await agentPage.getByRole('button', { name: 'Escalate' }).click();
    const alert = agentPage.locator('.actions [role=alert]');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/reason.*Your input is kept\.$/);
    expect(await alert.textContent()).not.toMatch(/\[object|\{"/);
    expect(await agentPage.locator('textarea[name=escalate-reason]').inputValue()).toBe(reason);
    expect((await t.api('GET', `/api/v1/incidents/${incidentId}`, { as: agent })).body.tier).toBe('L1');
  });

  it('shows an attached file name and alert annotations as text', async () => {
    // The requester attaches a file through the page; its name carries markup.
    const page = await pageFor(requester);
    await page.goto(`${t.url}/incidents/${incidentId}`);
    await page.getByRole('heading', { name: `${SCRIPT} VPN` }).waitFor();
    await page
      .getByTestId('attach-file')
      .setInputFiles({ name: `${IMG}.txt`, mimeType: 'text/plain', buffer: Buffer.from('ping: timeout') });
    const link = page.getByTestId('attachments').getByRole('link');
    await link.waitFor();
    // Markup characters are replaced in stored names; what is left is shown as text, offered as a download.
    const shown = await link.textContent();
    expect(shown).toMatch(/^_img src=x onerror=.+alert\(1\).+\.txt$/);
    expect(shown).not.toMatch(/[<>]/);
    expect(await link.getAttribute('download')).toBe(shown);
    const stored = await t.api('GET', `/api/v1/incidents/${incidentId}/attachments`, { as: requester });
    expect(stored.body.items.map((a: { fileName: string }) => a.fileName)).toEqual([shown]);

    // An alert from Prometheus Alertmanager whose annotations carry markup opens an incident at L1.
    const admin = await userWithName('admin', 'Admin');
    const integration = await newIntegration(t, admin, {
      kind: 'alertmanager',
      name: 'Prometheus',
      category: 'network-downtime',
    });
    const body = fixture('alertmanager-v4-firing.json');
    body.alerts = [body.alerts[0]];
    body.alerts[0].annotations = { summary: `${SCRIPT} disk full`, description: IMG };
    const res = await fetch(`${t.url}/api/v1/intake/alertmanager`, {
      method: 'POST',
      headers: { authorization: `Bearer ${integration.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBeLessThan(300);
    const [opened] = await incidentsOf(t, integration.id);
    const agentPage = await pageFor(agent);
    await agentPage.goto(`${t.url}/incidents/${opened!.id}`);
    await agentPage.getByRole('heading', { name: `${SCRIPT} disk full` }).waitFor();
    expect(await agentPage.getByTestId('description').textContent()).toContain(IMG);
    for (const p of [page, agentPage]) {
      expect(await p.locator('main img, main svg, main script').count()).toBe(0);
      expect(await pwned(p)).toBeNull();
    }
  });

  it('no payload ran anywhere: no dialog, no page error', () => {
    expect(seen.flatMap((s) => s.dialogs)).toEqual([]);
    expect(seen.flatMap((s) => s.errors)).toEqual([]);
  });
});
