import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { browserAvailable, ensureWebBuilt, launchBrowser, personContext, screenshot, signIn, watchPage } from './browser.js';

const PAYLOAD = '<img src=x onerror="window.__pwned = \'calendar\'; alert(1)">';
const KEY = 'lyon-desk';
const NAME_EN = `${PAYLOAD} Lyon desk`;

/** The Calendars page: business calendars of the matrix, read by staff, edited by administrators. */
describe.skipIf(!browserAvailable)('web app: business calendars', { timeout: 60_000 }, () => {
  let t: TestServer;
  let browser: Browser;
  let admin: TestUser;
  let agent: TestUser;
  const seen: Array<{ errors: string[]; dialogs: string[] }> = [];

  async function pageFor(user: TestUser): Promise<Page> {
    const page = await (await personContext(browser)).newPage();
    page.setDefaultTimeout(10_000);
    seen.push(watchPage(page));
    await signIn(page, t.url, user.email);
    return page;
  }
  const matrix = async () => (await t.api('GET', '/api/v1/matrix', { as: admin })).body;
  const versionCount = async () => (await t.api('GET', '/api/v1/matrix/versions', { as: admin })).body.length as number;
  const card = (page: Page): Locator => page.getByTestId(`calendar-${KEY}`);
  const pwned = (page: Page) => page.evaluate(() => (globalThis as unknown as { __pwned?: string }).__pwned ?? null);

  beforeAll(async () => {
    ensureWebBuilt();
    t = await startServer('sqlite');
    browser = await launchBrowser();
    admin = await t.user('admin', { locale: 'en' });
    agent = await t.user('agent', { locale: 'en' });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('lets an admin add a calendar with hours, public holidays and a closed day, stored as exactly that', async () => {
    const page = await pageFor(admin);
    await page.getByRole('navigation').getByRole('link', { name: 'Calendars' }).click();
    await page.getByRole('heading', { name: 'Business calendars', level: 1 }).waitFor();
    // The built-in calendars are listed, with the SLA targets counting on them by default.
    const business = page.getByTestId('calendar-business');
    await expect(business.locator('td[data-day="mon"]').textContent()).resolves.toBe('09:00–18:00');
    await expect(business.locator('td[data-day="sat"]').textContent()).resolves.toBe('Closed');
    await expect(business.locator('.used-by').textContent()).resolves.toContain('SLA L1 P2 (by default)');
    await expect(page.getByTestId('calendar-24x7').locator('.used-by').textContent()).resolves.toContain(
      'SLA L1 P1 (by default)',
    );
    const before = await versionCount();

    await page.getByRole('button', { name: 'Add a calendar' }).click();
    const form = page.getByRole('form', { name: 'New calendar' });
    await form.getByLabel('Key').fill(KEY);
    await form.getByLabel('Name in French').fill('Permanence de Lyon');
    await form.getByLabel('Name in English').fill(NAME_EN);
    await form.getByLabel('Time zone').fill('Europe/Paris');
    await form.getByLabel('Monday, range 1, from', { exact: true }).fill('08:00');
    await form.getByLabel('Monday, range 1, to', { exact: true }).fill('12:00');
    await form.getByRole('button', { name: 'Add a range on Monday' }).click();
    await form.getByLabel('Monday, range 2, from', { exact: true }).fill('13:30');
    await form.getByLabel('Monday, range 2, to', { exact: true }).fill('17:30');
    await form.getByRole('button', { name: 'Remove range 1 of Friday' }).click();
    await form.getByRole('button', { name: 'Add a range on Saturday' }).click();
    await form.getByLabel('Saturday, range 1, from', { exact: true }).fill('09:00');
    await form.getByLabel('Saturday, range 1, to', { exact: true }).fill('12:00');
    await form.getByLabel('Public holidays of').fill('FR');
    await form.getByLabel('Region').fill('57');
    await form.getByLabel('Closed day', { exact: true }).fill('2026-12-24');
    await form.getByLabel('Name of the day').fill('Christmas Eve');
    await form.getByRole('button', { name: 'Add the closed day' }).click();
    await form.getByLabel('Closed day', { exact: true }).fill('2026-12-31');
    await form.getByRole('button', { name: 'Add the closed day' }).click();
    await form.getByRole('button', { name: 'Remove the closed day 2026-12-31' }).click();
    await form.getByRole('button', { name: 'Save the calendar' }).click();
    await page
      .getByRole('status')
      .getByText(`Version ${before + 1} of the matrix saved.`)
      .waitFor();

    const stored = await matrix();
    expect(stored.version).toBe(before + 1);
    expect(stored.comment).toBe(`Calendar ${KEY} added`);
    const day = [{ start: '09:00', end: '18:00' }];
    expect(stored.calendars).toEqual([
      {
        key: KEY,
        name: { fr: 'Permanence de Lyon', en: NAME_EN },
        calendar: {
          kind: 'business-hours',
          timeZone: 'Europe/Paris',
          week: {
            mon: [
              { start: '08:00', end: '12:00' },
              { start: '13:30', end: '17:30' },
            ],
            tue: day,
            wed: day,
            thu: day,
            sat: [{ start: '09:00', end: '12:00' }],
          },
          holidays: { country: 'FR', region: '57' },
          closures: [{ date: '2026-12-24', name: 'Christmas Eve' }],
        },
      },
    ]);

    // Shown as stored: the name is text, never markup.
    await expect(card(page).getByRole('heading', { level: 2 }).textContent()).resolves.toContain(NAME_EN);
    await expect(card(page).locator('td[data-day="mon"]').textContent()).resolves.toBe('08:00–12:0013:30–17:30');
    await expect(card(page).locator('td[data-day="fri"]').textContent()).resolves.toBe('Closed');
    await expect(card(page).locator('.facts').textContent()).resolves.toContain('France (FR), region 57');
    await expect(card(page).locator('.closures time').getAttribute('datetime')).resolves.toBe('2026-12-24');
    await expect(card(page).locator('.closures li').textContent()).resolves.toMatch(/ — Christmas Eve$/);
    // This year's public holidays of Moselle, by date and name.
    const holidays = card(page).locator('details.holidays');
    await expect(holidays.locator('summary').textContent()).resolves.toMatch(/^13 public holidays in \d{4}$/);
    await holidays.locator('summary').click();
    await holidays.getByText(/— Bastille Day$/).waitFor();
    await expect(card(page).textContent()).resolves.toContain('No SLA target or clock uses this calendar.');
    expect(await page.locator('main img, main script').count()).toBe(0);
    await page.waitForTimeout(300);
    expect(await pwned(page)).toBeNull();
    await screenshot(page, '40-calendars-admin');
  });

  it('shows the API refusing an invalid entry, in the user language, and stores no version', async () => {
    const page = await pageFor(admin);
    await page.goto(`${t.url}/calendars`);
    const before = await versionCount();
    await card(page).getByRole('button', { name: 'Edit' }).click();
    const form = page.getByRole('form', { name: /^Edit the calendar/ });
    await form.getByLabel('Tuesday, range 1, to', { exact: true }).fill('08:00');
    await form.getByRole('button', { name: 'Save the calendar' }).click();
    const alert = form.getByRole('alert');
    await alert.getByText('calendars[0].calendar.week.tue[0].end').waitFor();
    await expect(alert.textContent()).resolves.toContain('Tuesday, range 1, end');
    await expect(alert.textContent()).resolves.toContain('the end must be after the start');
    // Switching language translates the refusal; what was typed stays.
    await page.getByRole('combobox', { name: 'Language' }).selectOption('fr');
    await page.getByRole('alert').getByText('la fin doit être après le début').waitFor();
    await expect(page.getByLabel('mardi, plage 1, à', { exact: true }).inputValue()).resolves.toBe('08:00');
    await page.getByRole('combobox', { name: 'Langue' }).selectOption('en');

    await form.getByLabel('Tuesday, range 1, to', { exact: true }).fill('18:00');
    await form.getByLabel('Time zone').fill('Europe/Lyon');
    await form.getByRole('button', { name: 'Save the calendar' }).click();
    await alert.getByText('calendars[0].calendar.timeZone').waitFor();
    await expect(alert.textContent()).resolves.toContain('unknown time zone');
    await screenshot(page, '41-calendars-refused');
    expect(await versionCount()).toBe(before);
    expect((await matrix()).calendars[0].calendar.timeZone).toBe('Europe/Paris');

    // Someone else saves meanwhile: this edit is refused whole rather than overwriting theirs.
    await form.getByLabel('Time zone').fill('America/Montreal');
    const other = await matrix();
    expect((await t.api('PUT', '/api/v1/matrix', { as: admin, body: { ...other, comment: 'elsewhere' } })).status).toBe(200);
    await form.getByRole('button', { name: 'Save the calendar' }).click();
    await alert.getByText(/Someone saved the matrix in the meantime/).waitFor();
    expect(await versionCount()).toBe(before + 1);
    expect((await matrix()).calendars[0].calendar.timeZone).toBe('Europe/Paris');
  });

  it('refuses to delete a calendar an SLA target uses, and deletes it once unused', async () => {
    const m = await matrix();
    const target = m.sla.findIndex(
      (s: { tier: string; priority: string; category?: string }) => s.tier === 'L2' && s.priority === 'P3' && !s.category,
    );
    m.sla[target].calendar = KEY;
    expect((await t.api('PUT', '/api/v1/matrix', { as: admin, body: m })).status).toBe(200);
    const before = await versionCount();

    const page = await pageFor(admin);
    await page.goto(`${t.url}/calendars`);
    await expect(card(page).locator('.used-by').textContent()).resolves.toBe('SLA L2 P3');
    await card(page).getByRole('button', { name: 'Delete' }).click();
    await page
      .getByRole('alert')
      .getByText(/cannot be deleted: SLA L2 P3 use it/)
      .waitFor();
    expect(await page.getByRole('button', { name: 'Delete the calendar' }).count()).toBe(0);
    expect(await versionCount()).toBe(before);

    const unused = await matrix();
    delete unused.sla[target].calendar;
    expect((await t.api('PUT', '/api/v1/matrix', { as: admin, body: unused })).status).toBe(200);
    await page.reload();
    await card(page).getByRole('button', { name: 'Delete' }).click();
    await card(page).getByRole('button', { name: 'Delete the calendar' }).click();
    await page
      .getByRole('status')
      .getByText(`Version ${before + 2} of the matrix saved.`)
      .waitFor();
    const after = await matrix();
    expect(after.calendars).toEqual([]);
    expect(after.comment).toBe(`Calendar ${KEY} deleted`);
    expect(await card(page).count()).toBe(0);

    // A calendar open around the clock has no hours to give.
    await page.getByRole('button', { name: 'Add a calendar' }).click();
    const form = page.getByRole('form', { name: 'New calendar' });
    await form.getByLabel('Key').fill('night-shift');
    await form.getByLabel('Open around the clock').check();
    expect(await form.getByLabel('Time zone').count()).toBe(0);
    await form.getByRole('button', { name: 'Save the calendar' }).click();
    await page.getByTestId('calendar-night-shift').getByText('Open around the clock, every day of the year.').waitFor();
    expect((await matrix()).calendars).toEqual([{ key: 'night-shift', calendar: { kind: '24x7' } }]);
  });

  it('shows an agent the calendars read-only, and the API refuses their change', async () => {
    // A calendar to read, added through the API.
    const m = await matrix();
    m.calendars = [
      {
        key: KEY,
        name: { fr: 'Lyon', en: NAME_EN },
        calendar: { kind: 'business-hours', timeZone: 'Europe/Paris', week: { mon: [{ start: '08:00', end: '12:00' }] } },
      },
    ];
    expect((await t.api('PUT', '/api/v1/matrix', { as: admin, body: m })).status).toBe(200);

    const page = await pageFor(agent);
    await page.getByRole('navigation').getByRole('link', { name: 'Calendars' }).click();
    await card(page).waitFor();
    await expect(card(page).getByRole('heading', { level: 2 }).textContent()).resolves.toContain(NAME_EN);
    await expect(card(page).locator('td[data-day="mon"]').textContent()).resolves.toBe('08:00–12:00');
    expect(await page.locator('main button, main input, main form').count()).toBe(0);
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(await pwned(page)).toBeNull();

    const before = await versionCount();
    const refused = await t.api('PUT', '/api/v1/matrix', { as: agent, body: { ...m, calendars: [] } });
    expect(refused.status).toBe(403);
    expect(await versionCount()).toBe(before);
  });

  afterAll(() => {
    for (const s of seen) {
      expect(s.errors).toEqual([]);
      expect(s.dialogs).toEqual([]);
    }
  });
});
