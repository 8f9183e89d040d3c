import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vendorToken } from '../../src/notify/vendor-link.js';
import { vendorLink } from '../../src/services/vendor.service.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { browserAvailable, ensureWebBuilt, launchBrowser, personContext, screenshot, signIn, watchPage } from './browser.js';

const SCRIPT = '<script>window.__pwned = "script"</script>';
const IMG = '<img src=x onerror="window.__pwned = \'img\'; alert(1)">';
const SVG = '<svg onload="window.__pwned = \'svg\'"></svg>';

/** The vendor's page, opened from its signed link in a browser that has never signed in to Palier. */
describe.skipIf(!browserAvailable)('web app: the vendor page', () => {
  let t: TestServer;
  let browser: Browser;
  let admin: TestUser;
  let vendorId: number;
  const seen: Array<{ errors: string[]; dialogs: string[] }> = [];

  async function freshPage(): Promise<Page> {
    const page = await (await personContext(browser)).newPage();
    seen.push(watchPage(page));
    return page;
  }
  const pwned = (page: Page) => page.evaluate(() => (globalThis as unknown as { __pwned?: string }).__pwned ?? null);

  /** A new incident with hostile text, handed to the vendor; returns it and its link's path. */
  async function handedOver(): Promise<{ id: number; path: string; token: string }> {
    const created = await t.api('POST', '/api/v1/incidents', {
      as: admin,
      body: {
        title: `${SCRIPT} Fibre ${IMG}`,
        description: `${IMG}\n${SVG}`,
        category: 'network-downtime',
        impact: 1,
        urgency: 2,
      },
    });
    const id = created.body.id as number;
    expect((await t.api('POST', `/api/v1/incidents/${id}/acknowledge`, { as: admin })).status).toBe(200);
    expect(
      (await t.api('POST', `/api/v1/incidents/${id}/comments`, { as: admin, body: { body: 'Interne : ne pas montrer' } })).status,
    ).toBe(201);
    const engaged = await t.api('POST', `/api/v1/incidents/${id}/engage-vendor`, {
      as: admin,
      body: { vendorId, note: `Merci ${SVG}` },
    });
    expect(engaged.status).toBe(200);
    const { token, url } = vendorLink(t.palier.services, { incidentId: id, vendorId });
    return { id, token, path: new URL(url).pathname };
  }

  beforeAll(async () => {
    ensureWebBuilt();
    t = await startServer('sqlite');
    browser = await launchBrowser();
    admin = await t.user('admin', { locale: 'en' });
    const vendor = await t.api('POST', '/api/v1/vendors', {
      as: admin,
      body: {
        name: `${IMG} Télécom`,
        categories: ['network-downtime'],
        email: 'support@telecom.example',
        locale: 'fr',
        acknowledge: 'PT4H',
      },
    });
    expect(vendor.status).toBe(201);
    vendorId = vendor.body.id;
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it(
    'acknowledges with a ticket, posts an update and marks the part done, in the vendor language, hostile text shown as text',
    { timeout: 60_000 },
    async () => {
      const { id, path } = await handedOver();
      const page = await freshPage();
      await page.goto(`${t.url}${path}`);
      // The vendor's language (French) first, whatever the browser's.
      await page.getByRole('button', { name: 'Prendre en compte' }).waitFor();
      expect(await page.getByTestId('vendor-incident-title').textContent()).toBe(`${SCRIPT} Fibre ${IMG}`);
      expect(await page.getByTestId('description').textContent()).toBe(`${IMG}\n${SVG}`);
      expect(await page.getByTestId('vendor-timeline').textContent()).toContain(`Merci ${SVG}`);
      expect(await page.locator('main').textContent()).not.toContain('Interne');
      expect(await page.locator('main').textContent()).toContain(`${IMG} Télécom`);
      await screenshot(page, 'vendor-01-engaged');

      // Switch to English and work through the page.
      await page.getByLabel('Langue').selectOption('en');
      await page.getByRole('form', { name: 'Acknowledge' }).getByLabel('Your ticket number').fill('INC-4242');
      await page.getByRole('button', { name: 'Acknowledge' }).click();
      await page.getByTestId('vendor-ticket').filter({ hasText: 'INC-4242' }).waitFor();
      expect(await page.getByTestId('vendor-status').textContent()).toBe('Acknowledged, in progress');

      const update = page.getByRole('form', { name: 'Post an update' });
      await update.getByLabel('Update').fill(`Technicien en route ${SCRIPT}`);
      await update.getByLabel('Your ticket number').fill('INC-4242-B');
      await page.getByRole('button', { name: 'Send the update' }).click();
      await page.getByTestId('vendor-timeline').getByText(`Technicien en route ${SCRIPT}`).waitFor();
      await page.getByTestId('vendor-ticket').filter({ hasText: 'INC-4242-B' }).waitFor();

      await page.getByRole('form', { name: 'Mark our part done' }).getByLabel('What was done').fill('Fibre ressoudée');
      await page.getByRole('button', { name: 'Mark our part done' }).click();
      await page.getByRole('status').filter({ hasText: 'Your part is marked done. Thank you.' }).waitFor();
      await screenshot(page, 'vendor-02-done');

      expect(await page.locator('main img, main svg, main script').count()).toBe(0);
      await page.waitForTimeout(300); // a failed image load would have fired onerror by now
      expect(await pwned(page)).toBeNull();

      // Each step is on the incident's timeline, recorded by the vendor.
      const detail = (await t.api('GET', `/api/v1/incidents/${id}`, { as: admin })).body;
      expect(detail).toMatchObject({ vendorTicket: 'INC-4242-B', vendorStatus: 'done', status: 'in_progress' });
      expect(
        detail.timeline.filter((e: { kind: string }) => e.kind.startsWith('vendor_')).map((e: { kind: string }) => e.kind),
      ).toEqual(['vendor_engaged', 'vendor_acknowledged', 'vendor_updated', 'vendor_done']);
    },
  );

  it('keeps the typed update when the server refuses it, and says why', async () => {
    const { path, token } = await handedOver();
    const page = await freshPage();
    await page.goto(`${t.url}${path}`);
    await page.getByRole('button', { name: 'Prendre en compte' }).click();
    await page.getByRole('button', { name: 'Envoyer le point' }).waitFor();
    // Meanwhile the desk records by phone that the vendor is done: the page's next update is refused.
    const id = Number(token.split('.')[0]);
    expect(
      (await t.api('POST', `/api/v1/incidents/${id}/vendor-done`, { as: admin, body: { note: 'Par téléphone' } })).status,
    ).toBe(200);
    await page.getByRole('textbox', { name: 'Point d’avancement', exact: true }).fill('Pièce commandée');
    await page.getByRole('button', { name: 'Envoyer le point' }).click();
    await page.getByRole('alert').filter({ hasText: 'Cet incident n’attend plus votre société.' }).waitFor();
    expect(await page.getByRole('textbox', { name: 'Point d’avancement', exact: true }).inputValue()).toBe('Pièce commandée');
  });

  it('explains an expired link and a forged one, showing nothing of the incident', async () => {
    const { id, token } = await handedOver();
    const expired = vendorToken(t.palier.services.signer, { incidentId: id, vendorId, expiresAt: Date.now() - 1000 });
    const page = await freshPage();
    await page.goto(`${t.url}/vendor/${expired}`);
    // The vendor's language is not known without a valid link: the browser's (French here).
    await page
      .getByRole('alert')
      .filter({ hasText: 'Ce lien a expiré. Demandez-en un nouveau au centre de services.' })
      .waitFor();
    expect(await page.locator('main').textContent()).not.toContain('Fibre');

    const forged = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    await page.goto(`${t.url}/vendor/${forged}`);
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/not valid|pas valide/);
    expect(await page.locator('main').textContent()).not.toContain('Fibre');
    await screenshot(page, 'vendor-03-forged');
  });

  it('staff hand an incident to a covering vendor from the incident page, and see where its part stands', async () => {
    const created = await t.api('POST', '/api/v1/incidents', {
      as: admin,
      body: { title: 'Routeur du site de Nantes', category: 'network-downtime', impact: 2, urgency: 2 },
    });
    const id = created.body.id as number;
    expect((await t.api('POST', `/api/v1/incidents/${id}/acknowledge`, { as: admin })).status).toBe(200);
    const page = await freshPage();
    await signIn(page, t.url, admin.email);
    await page.goto(`${t.url}/incidents/${id}`);
    const handOff = page.getByRole('region', { name: 'Vendor (level X)' });
    await handOff.locator('select[name=vendor]').waitFor();
    // The vendor's name (hostile text) is an option's text, not markup.
    expect(await handOff.locator('select[name=vendor]').locator('option').first().textContent()).toBe(`${IMG} Télécom`);
    await handOff.getByLabel('Note for the vendor').fill('Merci de passer sur site');
    await handOff.getByRole('button', { name: 'Hand to the vendor' }).click();
    await page.getByTestId('vendor-part').filter({ hasText: 'Waiting for the vendor to acknowledge' }).waitFor();
    expect((await t.api('GET', `/api/v1/incidents/${id}`, { as: admin })).body).toMatchObject({ vendorId, status: 'pending' });

    const { token } = vendorLink(t.palier.services, { incidentId: id, vendorId });
    expect((await t.api('POST', `/api/v1/vendor-portal/${token}/acknowledge`, { body: { ticket: 'TCK-77' } })).status).toBe(200);
    await page.reload();
    await page.getByTestId('vendor-part').filter({ hasText: 'TCK-77' }).waitFor();
    expect(await page.getByTestId('timeline').textContent()).toContain('Vendor acknowledged');
    expect(await page.locator('main img, main svg, main script').count()).toBe(0);
    await screenshot(page, 'vendor-04-incident-page');
  });

  it('administrators add vendors to the directory and retire them; what was typed stays when refused', async () => {
    const page = await freshPage();
    await signIn(page, t.url, admin.email);
    await page.getByRole('link', { name: 'Vendors' }).click();
    const form = page.locator('form.card');
    await page.getByLabel('Name', { exact: true }).fill('Hébergeur Nord');
    await page.getByLabel('Cloud service interruptions').check();
    await page.getByLabel('Contact e-mail').fill('noc@hebergeur.example');
    await page.getByLabel('Contract or support reference').fill('SLA-GOLD-7');
    await page.getByLabel(/Contract acknowledge target/).fill('four hours');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await form.getByRole('alert').waitFor();
    expect(await form.getByRole('alert').textContent()).toMatch(/acknowledge/);
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('Hébergeur Nord');
    await page.getByLabel(/Contract acknowledge target/).fill('PT2H');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Vendor Hébergeur Nord added.' }).waitFor();
    const row = page.getByTestId('vendors').getByRole('row').filter({ hasText: 'Hébergeur Nord' });
    await row.filter({ hasText: 'SLA-GOLD-7' }).filter({ hasText: 'Cloud service interruptions' }).waitFor();
    expect(await row.textContent()).toContain('2 h');
    await row.getByRole('button', { name: 'Retire' }).click();
    await row.filter({ hasText: 'Retired' }).waitFor();
    const stored = (await t.api('GET', '/api/v1/vendors', { as: admin })).body.items.find(
      (v: { name: string }) => v.name === 'Hébergeur Nord',
    );
    expect(stored).toMatchObject({
      categories: ['cloud-service-interruption'],
      contractRef: 'SLA-GOLD-7',
      acknowledge: 'PT2H',
      active: false,
    });
    await screenshot(page, 'vendor-05-directory');
  });

  it('no payload ran anywhere: no dialog, no page error', () => {
    expect(seen.flatMap((s) => s.dialogs)).toEqual([]);
    expect(seen.flatMap((s) => s.errors)).toEqual([]);
  });
});
