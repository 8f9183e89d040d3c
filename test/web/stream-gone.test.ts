import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportIncident } from '../helpers/confidential.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { browserAvailable, ensureWebBuilt, launchBrowser, screenshot, signedInPage, watchPage } from './browser.js';

const BREACH_TITLE = 'Fichier clients zorglub exposé';
const OUTAGE_TITLE = 'Commutateur zorglub en panne';

/** Open pages let go of an incident that moves out of the viewer's sight, without a reload. */
describe.skipIf(!browserAvailable)('web app: an incident moved out of sight', { timeout: 60_000 }, () => {
  let t: TestServer;
  let browser: Browser;
  let admin: TestUser;
  const seen: Array<{ errors: string[]; dialogs: string[] }> = [];

  const pageFor = (user: TestUser) => signedInPage(browser, t.url, user.email, seen);

  beforeAll(async () => {
    ensureWebBuilt();
    t = await startServer('sqlite');
    browser = await launchBrowser();
    admin = await t.user('admin');
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('drops an escalated breach from the helpdesk queue and says so on its open page, in English and French', async () => {
    const requester = await t.user('requester');
    const open = (title: string, category: string) => reportIncident(t, requester, title, category);
    const breach = await open(BREACH_TITLE, 'data-security-breach');
    await open(OUTAGE_TITLE, 'network-downtime');

    /** The breach's page, open and listening to the live feed. */
    const showBreach = async (page: Page) => {
      await page.goto(`${t.url}/incidents/${breach}`);
      await page.getByRole('heading', { name: BREACH_TITLE }).waitFor();
      await page.locator('.live.on').waitFor();
    };
    // An English-speaking L1 agent has the queue and the breach open in two tabs; a French one, the breach.
    const queuePage = await pageFor(await t.user('agent', { tiers: ['L1'], locale: 'en' }));
    await queuePage.goto(`${t.url}/queue`);
    await queuePage.getByRole('link', { name: BREACH_TITLE }).waitFor();
    await queuePage.locator('.live.on').waitFor();
    const englishPage = await queuePage.context().newPage();
    seen.push(watchPage(englishPage));
    await showBreach(englishPage);
    const incidentPage = await pageFor(await t.user('agent', { tiers: ['L1'], locale: 'fr' }));
    await showBreach(incidentPage);

    // Someone else moves it up to L2, which the seed matrix names for breaches; the helpdesk loses sight.
    expect((await t.api('POST', `/api/v1/incidents/${breach}/acknowledge`, { as: admin })).status).toBe(200);
    const escalated = await t.api('POST', `/api/v1/incidents/${breach}/escalate`, {
      as: admin,
      body: { reason: 'Fuite confirmée : analyse par le niveau 2' },
    });
    expect(escalated.status).toBe(200);
    expect(escalated.body.tier).toBe('L2');

    await queuePage.getByRole('link', { name: BREACH_TITLE }).waitFor({ state: 'detached' });
    await queuePage.getByRole('link', { name: OUTAGE_TITLE }).waitFor();
    await incidentPage.getByRole('heading', { name: 'Cet incident ne vous est plus visible.' }).waitFor();
    expect(await incidentPage.getByText(BREACH_TITLE).count()).toBe(0);
    await screenshot(incidentPage, 'stream-gone-incident');

    await englishPage.getByRole('heading', { name: 'This incident is no longer visible to you.' }).waitFor();
    expect(await englishPage.getByText(BREACH_TITLE).count()).toBe(0);

    for (const s of seen) expect(s).toEqual({ errors: [], dialogs: [] });
  });
});
