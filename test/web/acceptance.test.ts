import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { browserAvailable, ensureWebBuilt, launchBrowser, personContext, screenshot, signIn, watchPage } from './browser.js';

/**
 * The acceptance scenario, in a real Chromium against the real built app and server
 * (SQLite; the API these pages use is tested on both engines elsewhere). Steps depend on each other
 * and run in order.
 */
describe.skipIf(!browserAvailable)('web app: an outage from report to resolution, then a matrix change', () => {
  let t: TestServer;
  let browser: Browser;
  let requester: TestUser;
  let l1: TestUser;
  let l2: TestUser;
  let admin: TestUser;
  let requesterPage: Page;
  let l1Page: Page;
  const problems: Array<{ errors: string[]; dialogs: string[] }> = [];
  const title = 'Panne réseau au 3e étage';
  let incidentId = 0;

  async function pageFor(user: TestUser): Promise<Page> {
    const page = await (await personContext(browser)).newPage();
    problems.push(watchPage(page));
    await signIn(page, t.url, user.email);
    return page;
  }

  beforeAll(async () => {
    ensureWebBuilt();
    t = await startServer('sqlite');
    browser = await launchBrowser();
    requester = await t.user('requester', { locale: 'fr' });
    l1 = await t.user('agent', { tiers: ['L1'], locale: 'en' });
    l2 = await t.user('agent', { tiers: ['L2'], locale: 'fr' });
    admin = await t.user('admin', { locale: 'en' });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('shows the sign-in page and refuses a wrong password with a readable message', async () => {
    const page = await (await personContext(browser)).newPage();
    await page.goto(`${t.url}/queue`);
    await page.getByRole('heading', { name: 'Connexion à Palier' }).waitFor();
    await page.locator('input[type=email]').fill(l1.email);
    await page.locator('input[type=password]').fill('not the password');
    await page.locator('form button[type=submit]').click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe('Adresse ou mot de passe incorrect.');
    expect(await page.locator('input[type=email]').inputValue()).toBe(l1.email);
    await screenshot(page, '01-sign-in');
    await page.context().close();
  });

  it('an L1 agent watches the queue while a requester reports an outage in French; it appears without reload', async () => {
    l1Page = await pageFor(l1);
    expect(new URL(l1Page.url()).pathname).toBe('/queue');
    await l1Page.getByText('No open incident matches.').waitFor();
    // A marker on the window survives only if the page is never reloaded.
    await l1Page.evaluate(() => ((globalThis as unknown as { marker: string }).marker = 'same page'));

    requesterPage = await pageFor(requester);
    expect(new URL(requesterPage.url()).pathname).toBe('/portal');
    await requesterPage.getByRole('link', { name: 'Signaler un problème' }).first().click();
    await requesterPage.getByRole('heading', { name: 'Signaler un problème' }).waitFor();
    await requesterPage.getByLabel('Quel est le problème ? (titre court)').fill(title);
    await requesterPage.getByLabel('Type de problème').selectOption('network-downtime');
    await requesterPage.getByLabel('Beaucoup de personnes, ou un service essentiel').check();
    await requesterPage.getByLabel('Non, le travail est bloqué').check();
    await requesterPage.getByLabel(/^Détails/).fill('Plus aucun poste du 3e étage n’accède au réseau depuis 9 h.');
    await screenshot(requesterPage, '02-report');
    await requesterPage.getByRole('button', { name: 'Envoyer' }).click();
    await requesterPage.waitForURL(/\/incidents\/\d+$/);
    incidentId = Number(new URL(requesterPage.url()).pathname.split('/').pop());
    await requesterPage.getByRole('heading', { name: title }).waitFor();
    expect(await requesterPage.locator('.meta .badge').first().textContent()).toBe('P1');
    expect(await requesterPage.locator('.status-new').textContent()).toBe('Nouveau');

    const row = l1Page.getByRole('row').filter({ hasText: title });
    await row.waitFor({ timeout: 10_000 });
    expect(await l1Page.evaluate(() => (globalThis as unknown as { marker?: string }).marker)).toBe('same page');
    expect(await row.locator('.countdown').textContent()).toMatch(/\d+ min \d\d s/);
    await screenshot(l1Page, '03-queue');

    // Filters narrow the queue; a saved view brings a filter back.
    await l1Page.getByLabel('Priority').selectOption('P3');
    await l1Page.getByText('No open incident matches.').waitFor();
    await l1Page.getByLabel('View name').fill('P3 only');
    await l1Page.getByRole('button', { name: 'Save view' }).click();
    await l1Page.getByLabel('Priority').selectOption('');
    await l1Page.getByLabel('Search').fill('réseau');
    await row.waitFor();
    await l1Page.getByLabel('Search').fill('imprimante');
    await l1Page.getByText('No open incident matches.').waitFor();
    await l1Page.getByLabel('Search').fill('');
    await row.waitFor();
    await l1Page.getByRole('button', { name: 'P3 only' }).click();
    await l1Page.getByText('No open incident matches.').waitFor();
    expect(await l1Page.getByLabel('Priority').inputValue()).toBe('P3');
    await l1Page.getByLabel('Priority').selectOption('');
    await row.waitFor();
  });

  it('the L1 agent ticks the checklist and escalates to L2 with a reason', async () => {
    await l1Page.getByRole('link', { name: title }).click();
    await l1Page.getByRole('heading', { name: title }).waitFor();
    const boxes = l1Page.locator('.checklist input[type=checkbox]');
    expect(await boxes.count()).toBe(2);
    for (let n = 0; n < 2; n++) {
      await boxes.nth(n).check();
      await expect.poll(() => boxes.nth(n).isChecked()).toBe(true);
    }
    await l1Page.getByText('Action #2 done').waitFor();
    await l1Page.getByLabel('To tier').first().selectOption('L2');
    await l1Page.locator('textarea[name=escalate-reason]').fill('Switch core du 3e hors service, besoin du réseau.');
    await screenshot(l1Page, '04-incident-l1');
    await l1Page.getByRole('button', { name: 'Escalate' }).click();
    await l1Page.getByText('Escalated from L1 to L2').waitFor();
    expect(await l1Page.locator('.ladder li.current').textContent()).toContain('L2');
    const incident = await t.api('GET', `/api/v1/incidents/${incidentId}`, { as: admin });
    expect(incident.body).toMatchObject({ tier: 'L2', status: 'new', escalationCount: 1 });
    expect(incident.body.timeline.map((e: { kind: string }) => e.kind)).toEqual([
      'created',
      'action_checked',
      'action_checked',
      'escalated',
    ]);
  });

  it('an L2 agent finds it in their queue and resolves it; the requester sees it resolved', async () => {
    const l2Page = await pageFor(l2);
    await l2Page.getByRole('link', { name: title }).click();
    await l2Page.getByRole('heading', { name: title }).waitFor();
    await l2Page.getByRole('button', { name: 'Prendre en compte' }).click();
    await l2Page.getByText('Pris en compte', { exact: true }).first().waitFor();
    await l2Page.locator('textarea[name=resolution]').fill('Switch remplacé, réseau rétabli.');
    await l2Page.getByRole('button', { name: 'Résoudre' }).click();
    await l2Page.locator('.status-resolved').waitFor();
    await screenshot(l2Page, '05-incident-resolved');

    // The requester's open page follows without reload.
    await requesterPage.locator('.status-resolved').waitFor({ timeout: 10_000 });
    expect(await requesterPage.locator('.status-resolved').textContent()).toBe('Résolu');
    await requesterPage.getByText('Solution : Switch remplacé, réseau rétabli.').waitFor();
    await requesterPage.getByRole('link', { name: 'Mes incidents' }).click();
    await requesterPage.getByTestId('my-incidents').getByText('Résolu').waitFor();
    await screenshot(requesterPage, '06-portal');
  });

  it('an admin edits a cell, sees the diff and saves; new incidents follow it, older ones keep their version', async () => {
    const before = await t.api('POST', '/api/v1/incidents', {
      as: requester,
      body: { title: 'Wi-Fi coupé en salle B', category: 'network-downtime', impact: 3, urgency: 2 },
    });
    expect(before.status).toBe(201);

    const adminPage = await pageFor(admin);
    await adminPage.getByRole('link', { name: 'Matrix' }).click();
    await adminPage.getByTestId('matrix').waitFor();
    await screenshot(adminPage, '07-matrix');
    await adminPage.getByRole('button', { name: 'Edit' }).click();
    const cell = adminPage.locator('textarea[data-cell="network-downtime/L1"]');
    const newAction = 'Check the provider status page before resetting anything.';
    await cell.fill(`${await cell.inputValue()}\n${newAction}`);
    await adminPage.getByRole('button', { name: 'Review changes' }).click();
    const diff = adminPage.locator('.diff');
    await diff.getByRole('heading', { name: 'Changes against version 1' }).waitFor();
    expect(await diff.locator('ins').allTextContents()).toEqual([newAction]);
    expect(await diff.locator('del').count()).toBe(0);
    await adminPage.getByLabel('What changed and why').fill('Check the provider first');
    await screenshot(adminPage, '08-matrix-diff');
    await adminPage.getByRole('button', { name: 'Save as a new version' }).click();
    await adminPage.getByText('Version 2 saved.').waitFor();
    // Printed, the grid stands alone: no navigation, no controls.
    await adminPage.emulateMedia({ media: 'print' });
    expect(await adminPage.locator('header.top').isVisible()).toBe(false);
    expect(await adminPage.locator('.toolbar').isVisible()).toBe(false);
    expect(await adminPage.getByTestId('matrix').isVisible()).toBe(true);
    await screenshot(adminPage, '08b-matrix-print');
    await adminPage.emulateMedia({ media: 'screen' });

    // The saved version can be compared with the previous one.
    await adminPage.getByLabel('From').selectOption('1');
    await adminPage.getByLabel('To').selectOption('2');
    await adminPage.getByTestId('version-diff').getByText(newAction, { exact: false }).waitFor();

    // A new incident is handled under version 2: its L1 checklist shows the new action.
    await requesterPage.getByRole('link', { name: 'Signaler un problème' }).first().click();
    await requesterPage.getByLabel('Quel est le problème ? (titre court)').fill('Réseau lent au 2e étage');
    await requesterPage.getByLabel('Type de problème').selectOption('network-downtime');
    await requesterPage.getByRole('button', { name: 'Envoyer' }).click();
    await requesterPage.waitForURL(/\/incidents\/\d+$/);
    const newId = Number(new URL(requesterPage.url()).pathname.split('/').pop());

    await l1Page.goto(`${t.url}/incidents/${newId}`);
    await l1Page.getByText('Handled under matrix version 2').waitFor();
    expect(await l1Page.locator('.checklist li').allTextContents()).toHaveLength(3);
    await l1Page.locator('.checklist').getByText(newAction).waitFor();

    // The incident opened before the change keeps version 1 and its two actions.
    await l1Page.goto(`${t.url}/incidents/${before.body.id}`);
    await l1Page.getByText('Handled under matrix version 1').waitFor();
    expect(await l1Page.locator('.checklist li').count()).toBe(2);
    expect(await l1Page.locator('.checklist').textContent()).not.toContain(newAction);

    // The dashboard and users pages render for the admin.
    await adminPage.getByRole('link', { name: 'Dashboard' }).click();
    await adminPage.getByTestId('heatmap').waitFor();
    await screenshot(adminPage, '09-dashboard');
    await adminPage.getByRole('link', { name: 'Users' }).click();
    await adminPage.getByRole('cell', { name: l2.email }).waitFor();
    await screenshot(adminPage, '10-users');
  });

  it('switches language from the header and keeps it in the profile', async () => {
    await l1Page.goto(`${t.url}/queue`);
    await l1Page.getByRole('heading', { name: /^Tier queue/ }).waitFor();
    await l1Page.getByLabel('Language').selectOption('fr');
    await l1Page.getByRole('heading', { name: /^File du niveau/ }).waitFor();
    await expect.poll(async () => (await t.api('GET', '/api/v1/users/me', { as: l1 })).body.locale).toBe('fr');
    // The profile, not this browser's storage, brings it back.
    await l1Page.evaluate(() => (globalThis as unknown as { localStorage: { clear(): void } }).localStorage.clear());
    await l1Page.reload();
    await l1Page.getByRole('heading', { name: /^File du niveau/ }).waitFor();
    expect(await l1Page.locator('html').getAttribute('lang')).toBe('fr');
  });

  it('fits a phone screen without sideways scrolling', async () => {
    await requesterPage.setViewportSize({ width: 390, height: 844 });
    for (const [path, name] of [
      ['/portal', '11-portal-phone'],
      [`/incidents/${incidentId}`, '12-incident-phone'],
      ['/report', '13-report-phone'],
    ] as const) {
      await requesterPage.goto(t.url + path);
      await requesterPage.locator('main h1').waitFor();
      const overflow = await requesterPage.evaluate(() => {
        const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } })
          .document;
        return root.documentElement.scrollWidth - root.documentElement.clientWidth;
      });
      expect(overflow, path).toBeLessThanOrEqual(0);
      await screenshot(requesterPage, name);
    }
  });

  it('no page threw an error or opened a dialog', () => {
    expect(problems.flatMap((p) => [...p.errors, ...p.dialogs])).toEqual([]);
  });
});
