import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError } from '../helpers/api-assertions.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { browserAvailable, ensureWebBuilt, launchBrowser, personContext, screenshot, signIn, watchPage } from './browser.js';

const IMG = '<img src=x onerror="window.__pwned = \'img\'">';
const SCRIPT = '<script>window.__pwned = "script"</script>';

/** A vendor's own page: its details for staff, and the form administrators change them with. */
describe.skipIf(!browserAvailable)('web app: a vendor’s page and its details', () => {
  let t: TestServer;
  let browser: Browser;
  let admin: TestUser, manager: TestUser, agent: TestUser;
  const seen: Array<{ errors: string[]; dialogs: string[] }> = [];

  async function signedIn(who: TestUser): Promise<Page> {
    const page = await (await personContext(browser)).newPage();
    seen.push(watchPage(page));
    await signIn(page, t.url, who.email);
    return page;
  }
  const pwned = (page: Page) => page.evaluate(() => (globalThis as unknown as { __pwned?: string }).__pwned ?? null);
  const read = async (id: number) => (await t.api('GET', `/api/v1/vendors/${id}`, { as: admin })).body;

  async function vendor(name: string): Promise<number> {
    const res = await t.api('POST', '/api/v1/vendors', {
      as: admin,
      body: {
        name,
        categories: ['network-downtime'],
        email: 'support@telecom.example',
        phone: '+33 1 23 45 67 89',
        locale: 'fr',
        contractRef: 'GTR-4H',
        acknowledge: 'PT4H',
        resolve: 'P1D',
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as number;
  }

  beforeAll(async () => {
    ensureWebBuilt();
    t = await startServer('sqlite');
    browser = await launchBrowser();
    admin = await t.user('admin', { locale: 'fr' });
    manager = await t.user('manager', { locale: 'en' });
    agent = await t.user('agent', { tiers: ['LX'], locale: 'en' });
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it(
    'an administrator edits every detail through the form; a refused value shows the reason next to its field, in French, and changes nothing',
    { timeout: 60_000 },
    async () => {
      const id = await vendor(`${IMG} Télécom Ouest`);
      const before = await read(id);
      const page = await signedIn(admin);
      await page.getByRole('link', { name: 'Fournisseurs' }).click();
      await page.getByRole('link', { name: `${IMG} Télécom Ouest` }).click();
      await page.waitForURL(`**/vendors/${id}`);
      // The name is text, not markup.
      expect(await page.getByTestId('vendor-name').textContent()).toBe(`${IMG} Télécom Ouest`);
      const details = page.getByTestId('vendor-details');
      expect(await details.textContent()).toContain('GTR-4H');
      expect(await details.textContent()).toContain('4 h');
      expect(await details.textContent()).toContain('Temps d’arrêt du réseau');

      await page.getByRole('button', { name: 'Modifier la fiche' }).click();
      const form = page.getByRole('form', { name: 'Modifier la fiche du fournisseur' });
      expect(await form.getByLabel('Nom', { exact: true }).inputValue()).toBe(`${IMG} Télécom Ouest`);

      // An address the browser lets through but the API refuses.
      await form.getByLabel('Adresse de contact').fill('noc@intranet');
      await form.getByLabel('Nom', { exact: true }).fill('Ne doit pas être enregistré');
      await form.getByRole('button', { name: 'Enregistrer' }).click();
      await form.getByTestId('error-email').waitFor();
      expect(await form.getByTestId('error-email').textContent()).toBe(
        'Saisissez une adresse électronique, p. ex. support@fournisseur.example.',
      );
      expect(await form.getByRole('alert').textContent()).toBe('Rien n’a été enregistré : vérifiez Adresse de contact.');
      const email = form.getByLabel('Adresse de contact', { exact: true });
      expect(await email.getAttribute('aria-invalid')).toBe('true');
      // The message describes the field (read out with it), it does not rename it.
      const describedBy = await email.getAttribute('aria-describedby');
      expect(await form.locator(`[id="${describedBy}"]`).textContent()).toBe(
        await form.getByTestId('error-email').textContent(),
      );
      expect(await form.getByLabel('Nom', { exact: true }).inputValue()).toBe('Ne doit pas être enregistré');

      // A response target that is not an ISO 8601 duration (the vendor check, after the request check).
      await form.getByLabel('Adresse de contact').fill('noc@fibre.example');
      await form.getByLabel(/Délai contractuel de résolution/).fill('4 heures');
      await form.getByRole('button', { name: 'Enregistrer' }).click();
      await form.getByTestId('error-resolve').waitFor();
      expect(await form.getByTestId('error-email').count()).toBe(0);
      expect(await form.getByTestId('error-resolve').textContent()).toContain('durée ISO 8601');
      expect(await form.getByRole('alert').textContent()).toContain('Délai contractuel de résolution');
      await screenshot(page, 'vendor-edit-01-refused');
      expect(await read(id)).toEqual(before);

      // Every field changed at once.
      await form.getByLabel('Nom', { exact: true }).fill(`${SCRIPT} Fibre & Co`);
      await form.getByLabel('Interruptions du service cloud').check();
      await form.getByLabel('Temps d’arrêt du réseau').uncheck();
      await form.getByLabel('Téléphone').fill('');
      await form.getByLabel('Langue').selectOption('en');
      await form.getByLabel('Référence du contrat ou du support').fill('SLA-PLATINE');
      await form.getByLabel(/Délai contractuel de prise en compte/).fill('PT30M');
      await form.getByLabel(/Délai contractuel de résolution/).fill('PT6H');
      await form.getByRole('button', { name: 'Enregistrer' }).click();
      await page.getByRole('status').filter({ hasText: `Modifications de ${SCRIPT} Fibre & Co enregistrées.` }).waitFor();
      expect(await form.count()).toBe(0);
      expect(await page.getByTestId('vendor-name').textContent()).toBe(`${SCRIPT} Fibre & Co`);
      await details.filter({ hasText: 'SLA-PLATINE' }).filter({ hasText: '30 min' }).waitFor();
      expect(await details.textContent()).toContain('English');
      expect(await details.textContent()).toContain('Interruptions du service cloud');

      expect(await read(id)).toMatchObject({
        name: `${SCRIPT} Fibre & Co`,
        categories: ['cloud-service-interruption'],
        email: 'noc@fibre.example',
        phone: null,
        locale: 'en',
        contractRef: 'SLA-PLATINE',
        acknowledge: 'PT30M',
        resolve: 'PT6H',
        active: true,
      });
      await screenshot(page, 'vendor-edit-02-saved');

      // The directory shows the new name as text too.
      await page.getByRole('link', { name: '← Tous les fournisseurs' }).click();
      await page.getByTestId('vendors').getByRole('link', { name: `${SCRIPT} Fibre & Co` }).waitFor();
      expect(await page.locator('main img, main script').count()).toBe(0);
      expect(await pwned(page)).toBeNull();
    },
  );

  it('does not overwrite a change someone saved while the form was open, and keeps what was typed', async () => {
    const id = await vendor('Hébergeur Sud');
    const page = await signedIn(admin);
    await page.goto(`${t.url}/vendors/${id}`);
    await page.getByRole('button', { name: 'Modifier la fiche' }).click();
    const form = page.getByRole('form', { name: 'Modifier la fiche du fournisseur' });
    await form.getByLabel('Référence du contrat ou du support').fill('MINE');
    // Meanwhile another administrator changes the contract.
    expect((await t.api('PATCH', `/api/v1/vendors/${id}`, { as: admin, body: { contractRef: 'THEIRS' } })).status).toBe(200);
    await form.getByRole('button', { name: 'Enregistrer' }).click();
    await form.getByRole('alert').filter({ hasText: 'Quelqu’un d’autre a modifié ce fournisseur' }).waitFor();
    expect((await read(id)).contractRef).toBe('THEIRS');
    await page.getByTestId('vendor-details').filter({ hasText: 'THEIRS' }).waitFor();
    expect(await form.getByLabel('Référence du contrat ou du support').inputValue()).toBe('MINE');
    // Having seen theirs, saving again replaces it.
    await form.getByRole('button', { name: 'Enregistrer' }).click();
    await page.getByRole('status').filter({ hasText: 'Modifications de Hébergeur Sud enregistrées.' }).waitFor();
    expect((await read(id)).contractRef).toBe('MINE');
  });

  it('managers and agents read a vendor’s page without any way to change it, and the API refuses them', async () => {
    const id = await vendor('Opérateur Est');
    const incident = await t.api('POST', '/api/v1/incidents', {
      as: admin,
      body: { title: 'Lien coupé', category: 'network-downtime', impact: 1, urgency: 1 },
    });
    const incidentId = incident.body.id as number;
    expect(
      (await t.api('POST', `/api/v1/incidents/${incidentId}/escalate`, { as: admin, body: { tier: 'LX', reason: 'Opérateur' } }))
        .status,
    ).toBe(200);
    expect((await t.api('POST', `/api/v1/incidents/${incidentId}/acknowledge`, { as: agent })).status).toBe(200);
    expect(
      (await t.api('POST', `/api/v1/incidents/${incidentId}/engage-vendor`, { as: agent, body: { vendorId: id } })).status,
    ).toBe(200);

    for (const who of [manager, agent]) {
      const page = await signedIn(who);
      await page.getByRole('link', { name: 'Vendors' }).click();
      await page.getByTestId('vendors').getByRole('link', { name: 'Opérateur Est' }).waitFor();
      // Nothing to add or retire in the directory either.
      expect(await page.getByRole('button', { name: 'Retire' }).count()).toBe(0);
      expect(await page.getByRole('form').count()).toBe(0);
      await page.getByTestId('vendors').getByRole('link', { name: 'Opérateur Est' }).click();
      await page.getByTestId('vendor-details').filter({ hasText: 'GTR-4H' }).waitFor();
      expect(await page.getByRole('button', { name: 'Edit details' }).count()).toBe(0);
      expect(await page.getByRole('form').count()).toBe(0);
      // The count of incidents in its hands is for those who read the reports.
      if (who === manager) expect(await page.getByTestId('vendor-open').textContent()).toBe('1');
      else expect(await page.getByTestId('vendor-open').count()).toBe(0);

      for (const unknown of ['999999', 'abc']) {
        await page.goto(`${t.url}/vendors/${unknown}`);
        await page.getByRole('alert').filter({ hasText: 'Not found.' }).waitFor();
      }

      const refused = await t.api('PATCH', `/api/v1/vendors/${id}`, { as: who, body: { name: 'Pirate' } });
      expectError(refused, 403, 'forbidden');
      await page.close();
    }
    expect((await read(id)).name).toBe('Opérateur Est');
  });

  it('no payload ran anywhere: no dialog, no page error', () => {
    expect(seen.flatMap((s) => s.dialogs)).toEqual([]);
    expect(seen.flatMap((s) => s.errors)).toEqual([]);
  });
});
