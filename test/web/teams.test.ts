import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/services/auth.service.js';
import { PASSWORD, startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { browserAvailable, ensureWebBuilt, launchBrowser, personContext, screenshot, signIn, watchPage } from './browser.js';

const IMG = '<img src=x onerror="window.__pwned = \'img\'; alert(1)">';
const SCRIPT = '<script>window.__pwned = "script"</script>';
const TEAM = `${IMG} Réseau`;

/** Teams and on-call, and user administration, as people use them in the browser. */
describe.skipIf(!browserAvailable)('web app: teams, on-call and users', { timeout: 60_000 }, () => {
  let t: TestServer;
  let browser: Browser;
  let admin: TestUser;
  let alice: TestUser;
  let bruno: TestUser;
  let chloe: TestUser;
  let gaston: TestUser;
  const seen: Array<{ errors: string[]; dialogs: string[] }> = [];

  async function person(role: 'agent' | 'admin' | 'requester', displayName: string, tiers: string[] = []): Promise<TestUser> {
    const email = `${displayName.replace(/\W/g, '').toLowerCase() || 'x'}-${Math.random().toString(36).slice(2)}@example.test`;
    const u = await addUser(t.palier.services, { email, password: PASSWORD, role, displayName, tiers, locale: 'en' });
    const res = await t.api('POST', '/api/v1/auth/token', { body: { email, password: PASSWORD } });
    return { id: u.id, email, token: res.body.token };
  }
  async function pageFor(user: TestUser): Promise<Page> {
    const page = await (await personContext(browser)).newPage();
    page.setDefaultTimeout(10_000);
    seen.push(watchPage(page));
    await signIn(page, t.url, user.email);
    return page;
  }
  const pwned = (page: Page) => page.evaluate(() => (globalThis as unknown as { __pwned?: string }).__pwned ?? null);
  /** A datetime-local value for an instant, in the page's own time zone. */
  const localInput = (page: Page, ms: number) =>
    page.evaluate((at) => {
      const d = new Date(at);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    }, ms);
  const shown = (page: Page, iso: string) =>
    page.evaluate(
      (at) => new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(at)),
      iso,
    );
  const memberNames = async (page: Page) =>
    (await page.getByTestId('members').locator('li > span:first-child').allTextContents()).map((x) => x.trim());

  beforeAll(async () => {
    ensureWebBuilt();
    t = await startServer('sqlite');
    browser = await launchBrowser();
    admin = await person('admin', 'Ada Admin');
    alice = await person('agent', 'Alice', ['L1']);
    bruno = await person('agent', 'Bruno', ['L1']);
    chloe = await person('agent', 'Chloé', ['L1']);
    gaston = await person('agent', 'Gaston', ['L2']);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('lets an admin create a team, order its rotation, add an override and see who is on call', async () => {
    const page = await pageFor(admin);
    await page.locator('nav a[href="/teams"]').click();
    await page.getByRole('heading', { name: 'Teams and on-call' }).waitFor();

    const create = page.getByRole('form', { name: 'New team' });
    await create.getByLabel('Tier').selectOption('L1');
    await create.getByLabel('Name').fill(TEAM);
    await create.getByLabel('Shared e-mail').fill('n1@example.test');
    await create.getByRole('combobox', { name: /^Hand-over/ }).selectOption('daily');
    await create.getByLabel('Hand-over time').fill('08:30');
    await create.getByRole('button', { name: 'Create the team' }).click();
    const card = page.getByRole('article', { name: TEAM });
    await card.waitFor();
    await expect(card.locator('.facts').textContent()).resolves.toContain('Daily, 08:30 (Europe/Paris)');
    await expect(card.locator('.facts').textContent()).resolves.toContain('n1@example.test');

    const addMember = card.getByRole('form', { name: 'Add to the team' });
    // An agent of another tier is not offered for the rotation.
    expect(await addMember.getByLabel('Person').locator(`option[value="${gaston.id}"]`).count()).toBe(0);
    expect(await addMember.getByLabel('Person').locator(`option[value="${alice.id}"]`).count()).toBe(1);
    for (const [name, who] of [
      ['Alice', alice],
      ['Bruno', bruno],
    ] as const) {
      await addMember.getByLabel('Person').selectOption(String(who.id));
      await addMember.getByRole('button', { name: 'Add to the team' }).click();
      await card.getByTestId('members').getByText(name, { exact: true }).waitFor();
    }
    await addMember.getByLabel('As').selectOption('manager');
    await addMember.getByLabel('Person').selectOption(String(admin.id));
    await addMember.getByRole('button', { name: 'Add to the team' }).click();
    await card.getByTestId('managers').getByText('Ada Admin', { exact: true }).waitFor();
    expect(await memberNames(page)).toEqual(['Alice', 'Bruno']);

    // The first member of the rotation is on call; moving Bruno up makes it him.
    await expect(card.getByTestId('team-oncall').textContent()).resolves.toMatch(/^Alice/);
    await card.getByRole('button', { name: 'Move Bruno up' }).click();
    await expect.poll(() => memberNames(page)).toEqual(['Bruno', 'Alice']);
    await expect.poll(() => card.getByTestId('team-oncall').textContent()).toMatch(/^Bruno/);
    const [team] = (await t.api('GET', '/api/v1/teams', { as: admin })).body.items;
    expect(team.members.map((m: { userId: number; role: string }) => [m.userId, m.role])).toEqual([
      [bruno.id, 'member'],
      [alice.id, 'member'],
      [admin.id, 'manager'],
    ]);
    expect(team.onCall.userId).toBe(bruno.id);

    // Chloé stands in from a few minutes ago for two hours.
    const override = card.getByRole('form', { name: 'Add the override' });
    await override.getByLabel('On call instead').selectOption(String(chloe.id));
    await override.getByLabel('From', { exact: true }).fill(await localInput(page, Date.now() - 5 * 60_000));
    await override.getByLabel('To', { exact: true }).fill(await localInput(page, Date.now() + 2 * 3600_000));
    await override.getByLabel('Reason').fill('Bruno en formation');
    await override.getByRole('button', { name: 'Add the override' }).click();
    await card.getByTestId('overrides').getByText('Bruno en formation').waitFor();

    const oncall = (await t.api('GET', '/api/v1/oncall', { as: admin })).body;
    const now = oncall.tiers.find((x: { tier: string }) => x.tier === 'L1').teams[0];
    expect(now.onCall).toMatchObject({ userId: chloe.id, name: 'Chloé', source: 'override' });
    const row = page.getByTestId('oncall').getByRole('row').filter({ hasText: 'Chloé' });
    await row.waitFor();
    const cells = await row.getByRole('cell').allTextContents();
    expect(cells[1]).toBe(TEAM);
    expect(cells[2]).toBe('Chloé (override)');
    expect(cells[3]).toBe(await shown(page, now.until));
    await expect(card.getByTestId('team-oncall').textContent()).resolves.toMatch(/^Chloé — until /);
    await screenshot(page, '30-teams-admin');

    // The team's settings: a wrong time zone is refused and changes nothing, a right one is saved.
    await card.getByRole('button', { name: 'Change the team' }).click();
    const settings = card.getByRole('form', { name: 'Change the team' });
    await settings.getByLabel('Time zone').fill('Europe/Atlantis');
    await settings.getByRole('button', { name: 'Save' }).click();
    await expect(card.getByRole('alert').textContent()).resolves.toContain('IANA time zone');
    await settings.getByLabel('Time zone').fill('America/Montreal');
    await settings.getByRole('combobox', { name: /^Hand-over/ }).selectOption('weekly');
    await settings.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => card.locator('.facts').textContent()).toContain('Weekly, 08:30 (America/Montreal)');
    expect((await t.api('GET', '/api/v1/teams', { as: admin })).body.items[0].rotation).toMatchObject({
      period: 'weekly',
      timeZone: 'America/Montreal',
    });

    // Removing the override gives the shift back to the rotation.
    await card.getByTestId('overrides').getByRole('button', { name: 'Remove' }).click();
    await expect.poll(() => card.getByTestId('team-oncall').textContent()).toMatch(/^Bruno/);
    await expect.poll(async () => (await t.api('GET', '/api/v1/teams', { as: admin })).body.items[0].overrides.length).toBe(0);

    // A refused change says why and leaves the team as it was: an override that is already over.
    await override.getByLabel('On call instead').selectOption(String(alice.id));
    await override.getByLabel('From', { exact: true }).fill(await localInput(page, Date.now() - 3 * 3600_000));
    await override.getByLabel('To', { exact: true }).fill(await localInput(page, Date.now() - 2 * 3600_000));
    await override.getByRole('button', { name: 'Add the override' }).click();
    await expect(card.getByRole('alert').textContent()).resolves.toContain('This override would already be over');
    expect((await t.api('GET', '/api/v1/teams', { as: admin })).body.items[0].overrides).toEqual([]);
    expect(await page.locator('main img, main svg, main script').count()).toBe(0);
    expect(await pwned(page)).toBeNull();
  });

  it('shows an agent the teams and who is on call, read-only, with names as text', async () => {
    const page = await pageFor(alice);
    await page.locator('nav a[href="/teams"]').click();
    const card = page.getByRole('article', { name: TEAM });
    await card.waitFor();
    await card.getByTestId('members').getByText('Bruno', { exact: true }).waitFor();
    expect(await memberNames(page)).toEqual(['Bruno', 'Alice']);
    await expect(page.getByTestId('oncall').getByRole('cell', { name: TEAM }).count()).resolves.toBe(1);
    // Nothing to change: no forms, no buttons, and the webhook address is not shown.
    expect(await page.locator('main form, main button, main input, main select').count()).toBe(0);
    expect(await page.locator('main img, main svg, main script').count()).toBe(0);
    await page.waitForTimeout(300);
    expect(await pwned(page)).toBeNull();
    await screenshot(page, '31-teams-agent');
    // The API refuses an agent's change as well.
    const [team] = (await t.api('GET', '/api/v1/teams', { as: alice })).body.items;
    expect((await t.api('PUT', `/api/v1/teams/${team.id}/members`, { as: alice, body: [] })).status).toBe(403);
  });

  it("lets an admin change a user's name, role, tiers and language; names stay text", async () => {
    const target = await person('requester', 'Denis');
    const page = await pageFor(admin);
    await page.goto(`${t.url}/users`);
    const row = page.getByTestId(`user-${target.id}`);
    await row.getByRole('button', { name: 'Change' }).click();
    const form = page.getByRole('form', { name: 'Change Denis' });
    await form.getByLabel('Display name').fill(`${SCRIPT} Denis`);
    await form.getByLabel('Role').selectOption('agent');
    await form.getByLabel('Tiers (comma-separated)').fill('L1, L2');
    await form.getByLabel('Language').selectOption('fr');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').getByText(`User ${target.email} saved.`).waitFor();
    await expect(row.getByRole('cell').first().textContent()).resolves.toBe(`${SCRIPT} Denis`);
    const after = (await t.api('GET', `/api/v1/users/${target.id}`, { as: admin })).body;
    expect(after).toMatchObject({
      displayName: `${SCRIPT} Denis`,
      role: 'agent',
      tiers: ['L1', 'L2'],
      locale: 'fr',
      disabled: false,
    });

    // A refused change is explained and nothing is written.
    await row.getByRole('button', { name: 'Change' }).click();
    await page
      .getByRole('form', { name: `Change ${SCRIPT} Denis` })
      .getByLabel('Tiers (comma-separated)')
      .fill('L9');
    await page
      .getByRole('form', { name: `Change ${SCRIPT} Denis` })
      .getByRole('button', { name: 'Save' })
      .click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Unknown tier L9');
    expect((await t.api('GET', `/api/v1/users/${target.id}`, { as: admin })).body.tiers).toEqual(['L1', 'L2']);

    // An admin's own row offers no disabling and no role change.
    const own = page.getByTestId(`user-${admin.id}`);
    expect(await own.getByRole('button', { name: 'Disable' }).count()).toBe(0);
    await own.getByRole('button', { name: 'Change' }).click();
    await expect(page.getByRole('form', { name: 'Change Ada Admin' }).getByLabel('Role').isDisabled()).resolves.toBe(true);
    expect(await page.locator('main img, main svg, main script').count()).toBe(0);
    await page.waitForTimeout(300);
    expect(await pwned(page)).toBeNull();
  });

  it("ends a user's open session at once when an admin disables them, and lets them back when enabled", async () => {
    const target = await person('agent', 'Émile', ['L1']);
    const theirs = await pageFor(target);
    await theirs.getByTestId('user-name').waitFor();
    const me = () => theirs.evaluate(async () => (await fetch('/api/v1/users/me', { credentials: 'same-origin' })).status);
    expect(await me()).toBe(200);

    const page = await pageFor(admin);
    await page.goto(`${t.url}/users`);
    const row = page.getByTestId(`user-${target.id}`);
    await row.getByRole('button', { name: 'Disable' }).click();
    await row.getByRole('cell', { name: 'disabled' }).waitFor();
    // The very next request of their open page is refused, and a reload shows the sign-in form.
    expect(await me()).toBe(401);
    await theirs.reload();
    await theirs.locator('input[type=password]').waitFor();
    expect(await theirs.locator('header.top').count()).toBe(0);
    expect((await t.api('GET', '/api/v1/users/me', { as: target })).status).toBe(401);

    await row.getByRole('button', { name: 'Enable' }).click();
    await expect.poll(() => row.getByRole('button', { name: 'Disable' }).count()).toBe(1);
    await signIn(theirs, t.url, target.email);
    expect(await me()).toBe(200);
    await screenshot(page, '32-users-admin');
  });

  afterAll(() => {
    for (const s of seen) {
      expect(s.errors).toEqual([]);
      expect(s.dialogs).toEqual([]);
    }
  });
});
