import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { addUser } from '../../src/services/auth.service.js';
import { createServices } from '../../src/services/context.js';
import { vendorLink } from '../../src/services/vendor.service.js';
import { vendorToken } from '../../src/notify/vendor-link.js';
import { expectError, withoutWrites } from '../helpers/api-assertions.js';
import { ENGINES } from '../helpers/engines.js';
import { PASSWORD, startServer, type TestServer, type TestUser } from '../helpers/server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const newVendor = (over: Record<string, unknown> = {}) => ({
  name: `Opérateur ${Math.random().toString(36).slice(2, 8)}`,
  categories: ['network-downtime', 'cloud-service-interruption'],
  email: 'support@operateur.example',
  phone: '+33 1 23 45 67 89',
  locale: 'fr',
  contractRef: 'GTR-2026-042',
  acknowledge: 'PT4H',
  resolve: 'P1DT12H',
  ...over,
});

describe.each(ENGINES)('vendors on %s', (engine) => {
  let t: TestServer;
  let admin: TestUser, manager: TestUser, l1: TestUser, lx: TestUser, requester: TestUser;

  beforeAll(async () => {
    t = await startServer(engine);
    admin = await t.user('admin');
    manager = await t.user('manager');
    l1 = await t.user('agent', { tiers: ['L1'] });
    lx = await t.user('agent', { tiers: ['LX'] });
    requester = await t.user('requester');
  });
  afterAll(() => t?.close());

  const vendor = async (over: Record<string, unknown> = {}) => {
    const res = await t.api('POST', '/api/v1/vendors', { as: admin, body: newVendor(over) });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as Json;
  };

  /** An incident of the requester, acknowledged at `tier` by an administrator. */
  const incident = async (opts: { tier?: string; category?: string; title?: string } = {}) => {
    const created = await t.api('POST', '/api/v1/incidents', {
      as: requester,
      body: {
        title: opts.title ?? 'Lien opérateur coupé',
        description: 'Site de Lyon',
        category: opts.category ?? 'network-downtime',
        impact: 1,
        urgency: 1,
      },
    });
    const id = created.body.id as number;
    if (opts.tier && opts.tier !== 'L1')
      expect(
        (await t.api('POST', `/api/v1/incidents/${id}/escalate`, { as: admin, body: { tier: opts.tier, reason: 'Opérateur' } }))
          .status,
      ).toBe(200);
    expect((await t.api('POST', `/api/v1/incidents/${id}/acknowledge`, { as: admin })).status).toBe(200);
    return id;
  };

  describe('directory', () => {
    it('creates, reads, lists and changes a vendor', async () => {
      const v = await vendor({ name: 'Orange Business' });
      expect(v).toMatchObject({
        name: 'Orange Business',
        categories: ['network-downtime', 'cloud-service-interruption'],
        email: 'support@operateur.example',
        phone: '+33 1 23 45 67 89',
        locale: 'fr',
        contractRef: 'GTR-2026-042',
        acknowledge: 'PT4H',
        resolve: 'P1DT12H',
        active: true,
      });
      expect((await t.api('GET', `/api/v1/vendors/${v.id}`, { as: l1 })).body).toEqual({ ...v, openEngagements: null });
      const list = await t.api('GET', '/api/v1/vendors?category=network-downtime', { as: manager });
      expect(list.body.items.map((x: Json) => x.id)).toContain(v.id);
      const other = await t.api('GET', '/api/v1/vendors?category=software-installation-failure', { as: manager });
      expect(other.body.items.map((x: Json) => x.id)).not.toContain(v.id);

      const changed = await t.api('PATCH', `/api/v1/vendors/${v.id}`, {
        as: admin,
        body: { phone: null, resolve: 'PT8H', active: false },
      });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({
        name: 'Orange Business',
        phone: null,
        resolve: 'PT8H',
        acknowledge: 'PT4H',
        active: false,
      });
      const active = await t.api('GET', '/api/v1/vendors?active=true', { as: admin });
      expect(active.body.items.map((x: Json) => x.id)).not.toContain(v.id);
    });

    it('refuses unknown categories, bad durations, unknown fields and a taken name, writing nothing', async () => {
      const taken = await vendor();
      const cases: Array<[unknown, number, string]> = [
        [newVendor({ categories: ['network-downtime', 'coffee-machine'] }), 400, 'invalid_vendor'],
        [newVendor({ acknowledge: 'P1M' }), 400, 'invalid_vendor'],
        [newVendor({ resolve: 'PT0S' }), 400, 'invalid_vendor'],
        [newVendor({ resolve: 'four hours' }), 400, 'invalid_vendor'],
        [newVendor({ email: 'not-an-address' }), 400, 'validation_failed'],
        [newVendor({ locale: 'de' }), 400, 'validation_failed'],
        [newVendor({ phone: '<script>' }), 400, 'validation_failed'],
        [newVendor({ systemUserId: 1 }), 400, 'validation_failed'],
        [newVendor({ name: taken.name }), 409, 'name_taken'],
      ];
      for (const [body, status, code] of cases) {
        const before = await t.count('users');
        const res = await t.api('POST', '/api/v1/vendors', { as: admin, body });
        const error = expectError(res, status, code);
        if (code === 'invalid_vendor') expect(error.details!.length).toBeGreaterThan(0);
        expect(await t.count('users')).toBe(before);
      }
      const categories = (await t.api('POST', '/api/v1/vendors', { as: admin, body: newVendor({ categories: ['nope'] }) })).body
        .error;
      expect(categories.details).toEqual([{ path: 'categories[0]', message: 'unknown category "nope"' }]);
      expectError(await t.api('PATCH', `/api/v1/vendors/${taken.id}`, { as: admin, body: {} }), 400, 'validation_failed');
      expectError(
        await t.api('PATCH', `/api/v1/vendors/${taken.id}`, { as: admin, body: { acknowledge: 'PT' } }),
        400,
        'invalid_vendor',
      );
      expectError(await t.api('PATCH', '/api/v1/vendors/999999', { as: admin, body: { phone: null } }), 404, 'not_found');
      expect((await t.api('GET', `/api/v1/vendors/${taken.id}`, { as: admin })).body.acknowledge).toBe('PT4H');
    });

    it('is for staff to read and administrators to change', async () => {
      const v = await vendor();
      expectError(await t.api('GET', '/api/v1/vendors', { as: requester }), 403, 'forbidden');
      expectError(await t.api('POST', '/api/v1/vendors', { as: manager, body: newVendor() }), 403, 'forbidden');
      expectError(await t.api('PATCH', `/api/v1/vendors/${v.id}`, { as: l1, body: { active: false } }), 403, 'forbidden');
    });
  });

  describe('editing a vendor', () => {
    it('changes every field at once, read back as stored; the updatedAt moves on', async () => {
      const v = await vendor();
      const change = {
        name: `Fibre & Co ${v.id}`,
        categories: ['software-installation-failure'],
        email: 'noc@fibre.example',
        phone: '+44 20 7946 0000',
        locale: 'en',
        contractRef: 'SLA-PLATINUM',
        acknowledge: 'PT30M',
        resolve: 'PT6H',
        active: false,
      };
      const res = await t.api('PATCH', `/api/v1/vendors/${v.id}`, { as: admin, body: { ...change, updatedAt: v.updatedAt } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject(change);
      expect(Date.parse(res.body.updatedAt)).toBeGreaterThan(Date.parse(v.updatedAt));
      const read = (await t.api('GET', `/api/v1/vendors/${v.id}`, { as: admin })).body;
      expect(read).toMatchObject({ ...change, createdAt: v.createdAt, updatedAt: res.body.updatedAt });
      // The account its answers are recorded as follows the name and language.
      const account = await t.palier.services.store.db
        .selectFrom('users')
        .select(['display_name', 'locale'])
        .where('vendor_id', '=', v.id)
        .where('role', '=', 'vendor')
        .executeTakeFirstOrThrow();
      expect(account).toEqual({ display_name: `Fibre & Co ${v.id} (vendor)`, locale: 'en' });
    });

    it('refuses a change made on an outdated read (409 vendor_changed), keeping the other change', async () => {
      const v = await vendor();
      const first = await t.api('PATCH', `/api/v1/vendors/${v.id}`, {
        as: admin,
        body: { contractRef: 'FIRST', updatedAt: v.updatedAt },
      });
      expect(first.status).toBe(200);
      // Two changes made on the same read: the second one is refused, even within the same millisecond.
      const stale = await t.api('PATCH', `/api/v1/vendors/${v.id}`, {
        as: admin,
        body: { contractRef: 'SECOND', updatedAt: v.updatedAt },
      });
      expectError(stale, 409, 'vendor_changed');
      expect((await t.api('GET', `/api/v1/vendors/${v.id}`, { as: admin })).body).toMatchObject({
        contractRef: 'FIRST',
        updatedAt: first.body.updatedAt,
      });
      // Without updatedAt, the last write wins.
      const blind = await t.api('PATCH', `/api/v1/vendors/${v.id}`, { as: admin, body: { contractRef: 'THIRD' } });
      expect(blind.body.contractRef).toBe('THIRD');
      expectError(
        await t.api('PATCH', `/api/v1/vendors/${v.id}`, { as: admin, body: { updatedAt: blind.body.updatedAt } }),
        400,
        'validation_failed',
      );
      expectError(
        await t.api('PATCH', `/api/v1/vendors/${v.id}`, { as: admin, body: { phone: null, updatedAt: 'yesterday' } }),
        400,
        'validation_failed',
      );
      expectError(
        await t.api('PATCH', '/api/v1/vendors/999999', { as: admin, body: { phone: null, updatedAt: v.updatedAt } }),
        404,
        'not_found',
      );
    });

    it('refuses a bad e-mail or duration saying which field, and changes nothing', async () => {
      const v = await vendor();
      const email = expectError(
        await t.api('PATCH', `/api/v1/vendors/${v.id}`, { as: admin, body: { email: 'noc@', name: 'Renamed' } }),
        400,
        'validation_failed',
      );
      expect(email.details!.map((d) => d.path)).toEqual(['body.email']);
      const duration = expectError(
        await t.api('PATCH', `/api/v1/vendors/${v.id}`, { as: admin, body: { resolve: '4 hours', name: 'Renamed' } }),
        400,
        'invalid_vendor',
      );
      expect(duration.details!.map((d) => d.path)).toEqual(['resolve']);
      expect((await t.api('GET', `/api/v1/vendors/${v.id}`, { as: admin })).body).toEqual({ ...v, openEngagements: 0 });
    });

    it('only administrators change a vendor: managers and agents get 403, requesters and vendor contacts too', async () => {
      const v = await vendor();
      const contact = await t.user('vendor', { vendorId: v.id });
      for (const who of [manager, l1, lx, requester, contact])
        expectError(await t.api('PATCH', `/api/v1/vendors/${v.id}`, { as: who, body: { name: 'Pirate' } }), 403, 'forbidden');
      expectError(await t.api('GET', `/api/v1/vendors/${v.id}`, { as: contact }), 403, 'forbidden');
      expect((await t.api('GET', `/api/v1/vendors/${v.id}`, { as: admin })).body.name).toBe(v.name);
    });

    it('counts the incidents in the vendor hands for those who read reports', async () => {
      const v = await vendor();
      const count = async (who: TestUser) => (await t.api('GET', `/api/v1/vendors/${v.id}`, { as: who })).body.openEngagements;
      expect(await count(admin)).toBe(0);
      const first = await incident({ tier: 'LX' });
      const second = await incident({ tier: 'LX' });
      for (const id of [first, second])
        expect(
          (await t.api('POST', `/api/v1/incidents/${id}/engage-vendor`, { as: lx, body: { vendorId: v.id } })).status,
        ).toBe(200);
      expect(await count(admin)).toBe(2);
      expect(await count(manager)).toBe(2);
      expect(await count(lx)).toBeNull();
      expect(
        (await t.api('POST', `/api/v1/incidents/${first}/vendor-done`, { as: lx, body: { note: 'Réparé' } })).status,
      ).toBe(200);
      expect(await count(manager)).toBe(1);
    });
  });

  describe('hand-off to a vendor', () => {
    it('engages a covering vendor: the incident waits on it and the contract targets appear in its deadlines', async () => {
      const v = await vendor({ acknowledge: 'PT4H', resolve: 'P2D' });
      const id = await incident({ tier: 'LX' });
      const res = await t.api('POST', `/api/v1/incidents/${id}/engage-vendor`, {
        as: lx,
        body: { vendorId: v.id, note: 'Ticket ouvert chez vous ?' },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({
        id,
        status: 'pending',
        pendingReason: 'vendor',
        vendorId: v.id,
        vendorStatus: 'engaged',
        vendorTicket: null,
      });

      const detail = (await t.api('GET', `/api/v1/incidents/${id}`, { as: lx })).body;
      const engaged = detail.timeline.find((e: Json) => e.kind === 'vendor_engaged');
      expect(engaged.data).toEqual({
        vendor: { id: v.id, name: v.name, acknowledge: 'PT4H', resolve: 'P2D', email: 'support@operateur.example', locale: 'fr' },
        note: 'Ticket ouvert chez vous ?',
      });
      const at = Date.parse(engaged.at);
      const vendorDeadlines = detail.deadlines.filter((d: Json) => d.kind === 'vendor');
      expect(vendorDeadlines).toEqual([
        {
          kind: 'vendor',
          tier: null,
          clock: `vendor:${v.id}@${engaged.seq}:acknowledge`,
          target: 'PT4H',
          due: new Date(at + 4 * 3_600_000).toISOString(),
          breached: false,
        },
        {
          kind: 'vendor',
          tier: null,
          clock: `vendor:${v.id}@${engaged.seq}:resolve`,
          target: 'P2D',
          due: new Date(at + 48 * 3_600_000).toISOString(),
          breached: false,
        },
      ]);
      // The tier's own clocks are paused while the vendor has the incident.
      expect(detail.deadlines.filter((d: Json) => d.kind !== 'vendor')).toEqual([]);
      // The hand-off is in the outbox, for the message that carries the link.
      const outbox = await t.palier.services.store.db
        .selectFrom('outbox')
        .select(['topic', 'incident_id'])
        .where('incident_id', '=', id)
        .execute();
      expect(outbox.map((o) => o.topic)).toContain('vendor_engaged');
    });

    it('refuses a vendor that does not cover the category, an inactive or unknown one, and the wrong tier, writing nothing', async () => {
      const software = await vendor({ categories: ['software-installation-failure'] });
      const retired = await vendor({ active: false });
      const id = await incident();
      const engage = (as: TestUser, vendorId: number) =>
        t.api('POST', `/api/v1/incidents/${id}/engage-vendor`, { as, body: { vendorId, note: '' } });
      await withoutWrites(t, async () => expectError(await engage(l1, software.id), 422, 'vendor_category'), id);
      await withoutWrites(t, async () => expectError(await engage(l1, retired.id), 422, 'vendor_inactive'), id);
      await withoutWrites(t, async () => expectError(await engage(l1, 999_999), 400, 'unknown_vendor'), id);
      const covering = await vendor();
      // The incident is at L1: an LX agent does not work it there, a requester never does.
      await withoutWrites(t, async () => expectError(await engage(lx, covering.id), 403, 'forbidden'), id);
      await withoutWrites(t, async () => expectError(await engage(requester, covering.id), 403, 'forbidden'), id);
      await withoutWrites(
        t,
        async () =>
          expectError(
            await t.api('POST', `/api/v1/incidents/${id}/engage-vendor`, {
              as: l1,
              body: { vendorId: covering.id, note: '', extra: 1 },
            }),
            400,
            'validation_failed',
          ),
        id,
      );
      // A new incident has not been picked up yet: nothing to hand over.
      const fresh = (
        await t.api('POST', '/api/v1/incidents', {
          as: requester,
          body: { title: 'x', category: 'network-downtime', impact: 3, urgency: 3 },
        })
      ).body.id;
      expectError(
        await t.api('POST', `/api/v1/incidents/${fresh}/engage-vendor`, { as: l1, body: { vendorId: covering.id } }),
        409,
        'invalid_transition',
      );
      expect((await engage(l1, covering.id)).status).toBe(200);
    });
  });

  describe('vendor page', () => {
    it('walks acknowledge with a ticket, updates and done, each an event by the vendor, with nothing internal shown', async () => {
      const v = await vendor({ acknowledge: 'PT2H', resolve: 'PT8H' });
      const id = await incident({ tier: 'LX', title: 'Fibre coupée à Lyon' });
      expect(
        (
          await t.api('POST', `/api/v1/incidents/${id}/comments`, {
            as: lx,
            body: { body: 'Note interne : contrat en renégociation' },
          })
        ).status,
      ).toBe(201);
      expect(
        (
          await t.api('POST', `/api/v1/incidents/${id}/engage-vendor`, {
            as: lx,
            body: { vendorId: v.id, note: 'Coupure depuis 8 h' },
          })
        ).status,
      ).toBe(200);
      const { url, token } = vendorLink(t.palier.services, { incidentId: id, vendorId: v.id });
      expect(url).toBe(`${t.palier.services.site.publicUrl}/vendor/${token}`);
      const base = `/api/v1/vendor-portal/${token}`;

      const page = await t.api('GET', base);
      expect(page.status).toBe(200);
      expect(page.body.incident).toMatchObject({
        id,
        title: 'Fibre coupée à Lyon',
        category: 'network-downtime',
        priority: 'P1',
        vendorStatus: 'engaged',
        vendorTicket: null,
      });
      expect(page.body.incident.categoryName.fr).toBe('Temps d’arrêt du réseau');
      expect(page.body.vendor).toEqual({ id: v.id, name: v.name, locale: 'fr' });
      expect(page.body.timeline).toEqual([
        expect.objectContaining({ kind: 'vendor_engaged', note: 'Coupure depuis 8 h', ticket: null }),
      ]);
      expect(JSON.stringify(page.body)).not.toContain('renégociation');

      const ack = await t.api('POST', `${base}/acknowledge`, { body: { ticket: 'INC-778812' } });
      expect(ack.status, JSON.stringify(ack.body)).toBe(200);
      expect(ack.body.incident).toMatchObject({ vendorStatus: 'acknowledged', vendorTicket: 'INC-778812' });
      expectError(await t.api('POST', `${base}/acknowledge`, { body: {} }), 409, 'already_acknowledged');

      let detail = (await t.api('GET', `/api/v1/incidents/${id}`, { as: lx })).body;
      expect(detail).toMatchObject({ vendorTicket: 'INC-778812', vendorStatus: 'acknowledged', status: 'pending' });
      // The contract's acknowledge target is met; the resolve one keeps running.
      expect(detail.deadlines.filter((d: Json) => d.kind === 'vendor').map((d: Json) => d.target)).toEqual(['PT8H']);

      const update = await t.api('POST', `${base}/updates`, { body: { note: 'Technicien en route', ticket: 'INC-778812-B' } });
      expect(update.status).toBe(200);
      expect(update.body.incident.vendorTicket).toBe('INC-778812-B');
      expectError(await t.api('POST', `${base}/updates`, { body: { note: '' } }), 400, 'validation_failed');
      expectError(await t.api('POST', `${base}/updates`, { body: { note: 'x', status: 'resolved' } }), 400, 'validation_failed');

      const done = await t.api('POST', `${base}/done`, { body: { note: 'Fibre ressoudée' } });
      expect(done.status).toBe(200);
      expect(done.body.incident).toMatchObject({ vendorStatus: 'done', status: 'in_progress' });
      expect(done.body.timeline.map((e: Json) => [e.kind, e.note, e.ticket])).toEqual([
        ['vendor_engaged', 'Coupure depuis 8 h', null],
        ['vendor_acknowledged', null, 'INC-778812'],
        ['vendor_updated', 'Technicien en route', 'INC-778812-B'],
        ['vendor_done', 'Fibre ressoudée', null],
      ]);
      // Once done, the link shows the record but takes nothing more.
      expectError(await t.api('POST', `${base}/updates`, { body: { note: 'encore' } }), 409, 'vendor_not_engaged');

      detail = (await t.api('GET', `/api/v1/incidents/${id}`, { as: lx })).body;
      const vendorEvents = detail.timeline.filter((e: Json) => e.kind.startsWith('vendor_') && e.kind !== 'vendor_engaged');
      expect(vendorEvents).toHaveLength(3);
      const systemUser = (await t.palier.services.vendors.byId(v.id))!.systemUserId;
      expect(vendorEvents.every((e: Json) => e.actorId === systemUser)).toBe(true);
      const actor = await t.palier.services.users.byId(systemUser);
      expect(actor).toMatchObject({ role: 'vendor', vendorId: v.id, disabled: true });
      expect(detail.deadlines.filter((d: Json) => d.kind === 'vendor')).toEqual([]);
    });

    it('answers a forged or malformed link 404, an expired one 410, a replaced vendor 410, and writes nothing', async () => {
      const v = await vendor();
      const id = await incident();
      expect((await t.api('POST', `/api/v1/incidents/${id}/engage-vendor`, { as: l1, body: { vendorId: v.id } })).status).toBe(
        200,
      );
      const { token } = vendorLink(t.palier.services, { incidentId: id, vendorId: v.id });
      const last = token.at(-1) === 'A' ? 'B' : 'A';
      const forged = token.slice(0, -1) + last;
      const otherIncident = token.replace(/^\d+\./, `${id + 1}.`);
      const expired = vendorToken(t.palier.services.signer, {
        incidentId: id,
        vendorId: v.id,
        expiresAt: t.palier.services.clock.now() - 1,
      });
      for (const [bad, status, code] of [
        [forged, 404, 'not_found'],
        [otherIncident, 404, 'not_found'],
        ['not-a-token', 404, 'not_found'],
        [expired, 410, 'link_expired'],
      ] as const) {
        await withoutWrites(
          t,
          async () => {
            expectError(await t.api('GET', `/api/v1/vendor-portal/${encodeURIComponent(bad)}`), status, code);
            expectError(
              await t.api('POST', `/api/v1/vendor-portal/${encodeURIComponent(bad)}/acknowledge`, { body: { ticket: 'X' } }),
              status,
              code,
            );
            expectError(
              await t.api('POST', `/api/v1/vendor-portal/${encodeURIComponent(bad)}/done`, { body: { note: 'x' } }),
              status,
              code,
            );
          },
          id,
        );
      }
      // Handed over to another vendor: the first one's link no longer acts.
      const second = await vendor();
      expect(
        (await t.api('POST', `/api/v1/incidents/${id}/vendor-done`, { as: l1, body: { note: 'Rappel : pas chez eux' } })).status,
      ).toBe(200);
      expect(
        (await t.api('POST', `/api/v1/incidents/${id}/engage-vendor`, { as: l1, body: { vendorId: second.id } })).status,
      ).toBe(200);
      await withoutWrites(
        t,
        async () => expectError(await t.api('POST', `/api/v1/vendor-portal/${token}/acknowledge`, {}), 410, 'vendor_replaced'),
        id,
      );
    });

    it('expires links after PALIER_VENDOR_LINK_DAYS', async () => {
      const s = t.palier.services;
      const before = s.clock.now();
      const { expiresAt } = vendorLink(s, { incidentId: 1, vendorId: 1 });
      expect(expiresAt).toBeGreaterThanOrEqual(before + 14 * 86_400_000);
      expect(expiresAt).toBeLessThanOrEqual(s.clock.now() + 14 * 86_400_000);
      expect(loadConfig({ PALIER_VENDOR_LINK_DAYS: '3' }).vendorLinkDays).toBe(3);
      expect(() => loadConfig({ PALIER_VENDOR_LINK_DAYS: 'soon' })).toThrow(/PALIER_VENDOR_LINK_DAYS/);
      const short = createServices(s.store, s.clock, { vendorLinkDays: 3 });
      const link = vendorLink(short, { incidentId: 1, vendorId: 1 });
      expect(link.expiresAt - short.clock.now()).toBeLessThanOrEqual(3 * 86_400_000);
      expect(link.expiresAt - short.clock.now()).toBeGreaterThan(3 * 86_400_000 - 1000);
    });
  });

  describe('vendor contacts', () => {
    let contact: TestUser;
    let v: Json;
    let mine: number, notMine: number, otherVendors: number;

    beforeAll(async () => {
      v = await vendor({ name: `Contact vendor ${engine}` });
      const other = await vendor();
      const email = `contact-${engine}@operateur.example`;
      const created = await addUser(t.palier.services, { email, password: PASSWORD, role: 'vendor', vendorId: v.id, tiers: [] });
      const token = (await t.api('POST', '/api/v1/auth/token', { body: { email, password: PASSWORD } })).body.token;
      contact = { id: created.id, email, token };
      mine = await incident({ title: 'Routeur du fournisseur' });
      expect(
        (await t.api('POST', `/api/v1/incidents/${mine}/engage-vendor`, { as: admin, body: { vendorId: v.id, note: 'À vous' } }))
          .status,
      ).toBe(200);
      notMine = await incident({ title: 'Routeur interne' });
      otherVendors = await incident({ title: 'Routeur concurrent' });
      expect(
        (await t.api('POST', `/api/v1/incidents/${otherVendors}/engage-vendor`, { as: admin, body: { vendorId: other.id } }))
          .status,
      ).toBe(200);
    });

    it('lists, searches and queues only the incidents handed to their vendor', async () => {
      for (const query of [
        '',
        '?text=Routeur',
        `?requester=${requester.id}`,
        '?status=open&tier=L1,L2,L3,LX',
        '?assignee=none',
      ]) {
        const res = await t.api('GET', `/api/v1/incidents${query}`, { as: contact });
        expect(res.status).toBe(200);
        expect(
          res.body.items.map((i: Json) => i.id),
          query,
        ).toEqual(query.includes('requester') || query.includes('assignee') ? expect.any(Array) : [mine]);
        expect(res.body.items.every((i: Json) => i.vendorId === v.id)).toBe(true);
      }
      const queue = await t.api('GET', '/api/v1/queue?tier=L1', { as: contact });
      expect(queue.status).toBe(200);
      expect(queue.body.items.map((i: Json) => i.id)).toEqual([mine]);
      expect((await t.api('GET', `/api/v1/incidents/${mine}`, { as: contact })).status).toBe(200);
      for (const id of [notMine, otherVendors]) {
        expectError(await t.api('GET', `/api/v1/incidents/${id}`, { as: contact }), 404, 'not_found');
        expectError(
          await t.api('POST', `/api/v1/incidents/${id}/comments`, { as: contact, body: { body: 'hello' } }),
          404,
          'not_found',
        );
      }
    });

    it('comments and answers for the vendor on its incidents, and nothing else', async () => {
      expect(
        (await t.api('POST', `/api/v1/incidents/${mine}/comments`, { as: contact, body: { body: 'Pris en charge' } })).status,
      ).toBe(201);
      const ack = await t.api('POST', `/api/v1/incidents/${mine}/vendor-acknowledge`, {
        as: contact,
        body: { ticket: 'CASE-9' },
      });
      expect(ack.status).toBe(200);
      expect(ack.body).toMatchObject({ vendorStatus: 'acknowledged', vendorTicket: 'CASE-9' });
      await withoutWrites(
        t,
        async () =>
          expectError(
            await t.api('POST', `/api/v1/incidents/${otherVendors}/vendor-update`, { as: contact, body: { note: 'x' } }),
            404,
            'not_found',
          ),
        otherVendors,
      );
      await withoutWrites(
        t,
        async () =>
          expectError(
            await t.api('POST', `/api/v1/incidents/${mine}/resolve`, { as: contact, body: { resolution: 'x' } }),
            403,
            'forbidden',
          ),
        mine,
      );
      await withoutWrites(t, async () =>
        expectError(
          await t.api('POST', '/api/v1/incidents', {
            as: contact,
            body: { title: 'x', category: 'network-downtime', impact: 3, urgency: 3 },
          }),
          403,
          'forbidden',
        ),
      );
      for (const path of [
        '/api/v1/matrix',
        '/api/v1/matrix/versions',
        '/api/v1/users',
        '/api/v1/vendors',
        '/api/v1/dashboard',
        '/api/v1/reports/volume?from=2020-01-01&to=2100-01-01',
        '/api/v1/escalations/upcoming',
        '/api/v1/incidents/export?format=csv&from=2020-01-01&to=2100-01-01',
      ])
        expectError(await t.api('GET', path, { as: contact }), 403, 'forbidden');
      expect(
        (await t.api('POST', `/api/v1/incidents/${mine}/vendor-done`, { as: contact, body: { note: 'Remplacé' } })).body
          .vendorStatus,
      ).toBe('done');
    });

    it('sees a confidential incident once it is handed to its vendor, and its link works', async () => {
      await t.api('PATCH', `/api/v1/vendors/${v.id}`, {
        as: admin,
        body: { categories: ['network-downtime', 'data-security-breach'] },
      });
      const breach = await incident({ category: 'data-security-breach', title: 'Fuite de données' });
      expectError(await t.api('GET', `/api/v1/incidents/${breach}`, { as: contact }), 404, 'not_found');
      expect(
        (await t.api('POST', `/api/v1/incidents/${breach}/engage-vendor`, { as: admin, body: { vendorId: v.id } })).status,
      ).toBe(200);
      expect((await t.api('GET', `/api/v1/incidents/${breach}`, { as: contact })).status).toBe(200);
      expect((await t.api('GET', '/api/v1/incidents?text=Fuite', { as: contact })).body.items.map((i: Json) => i.id)).toEqual([
        breach,
      ]);
      // Managers are not named for the category: they still do not see it.
      expectError(await t.api('GET', `/api/v1/incidents/${breach}`, { as: manager }), 404, 'not_found');
      const { token } = vendorLink(t.palier.services, { incidentId: breach, vendorId: v.id });
      expect((await t.api('POST', `/api/v1/vendor-portal/${token}/acknowledge`, { body: { ticket: 'SEC-1' } })).status).toBe(200);
    });

    it('needs a vendor: a vendor contact without one, or another role with one, is refused', async () => {
      const before = await t.count('users');
      expectError(
        await t.api('POST', '/api/v1/users', { as: admin, body: { email: 'nov@example.test', role: 'vendor' } }),
        400,
        'vendor_required',
      );
      expectError(
        await t.api('POST', '/api/v1/users', {
          as: admin,
          body: { email: 'nov@example.test', role: 'vendor', vendorId: 999_999 },
        }),
        400,
        'unknown_vendor',
      );
      expectError(
        await t.api('POST', '/api/v1/users', {
          as: admin,
          body: { email: 'nov@example.test', role: 'agent', tiers: ['L1'], vendorId: v.id },
        }),
        400,
        'vendor_for_vendor_contacts_only',
      );
      expect(await t.count('users')).toBe(before);
      const ok = await t.api('POST', '/api/v1/users', {
        as: admin,
        body: { email: `nov-${engine}@example.test`, role: 'vendor', vendorId: v.id },
      });
      expect(ok.status).toBe(201);
      expect(ok.body).toMatchObject({ role: 'vendor', vendorId: v.id });
      // Made a requester, the user leaves the vendor.
      const moved = await t.api('PATCH', `/api/v1/users/${ok.body.id}`, { as: admin, body: { role: 'requester' } });
      expect(moved.body).toMatchObject({ role: 'requester', vendorId: null });
      expectError(
        await t.api('PATCH', `/api/v1/users/${ok.body.id}`, { as: admin, body: { role: 'vendor' } }),
        400,
        'vendor_required',
      );
    });
  });
});

describe.each(ENGINES)('vendor page rate limit and logs on %s', (engine) => {
  let t: TestServer;
  const logs: string[] = [];
  beforeAll(async () => {
    t = await startServer(engine, {
      config: { vendorPortalRateLimit: 3, logLevel: 'info', logStream: { write: (line) => void logs.push(line) } },
    });
  });
  afterAll(() => t?.close());

  it('slows down one address trying links: 429 with Retry-After, logged as a security event', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await t.api('GET', `/api/v1/vendor-portal/1.1.zz.${'A'.repeat(43)}`)).status);
    expect(statuses).toEqual([404, 404, 404, 429, 429]);
    const res = await t.api('POST', '/api/v1/vendor-portal/x/done', { body: { note: 'x' } });
    expectError(res, 429, 'rate_limited');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const events = logs.map((l) => JSON.parse(l)).filter((l) => l.security?.event === 'vendor_portal_rate_limited');
    expect(events.length).toBeGreaterThan(0);
    expect(events[0].security.url).toBe('/api/v1/vendor-portal/[token]');
  });

  it('never writes a link token to the logs', async () => {
    const admin = await t.user('admin');
    const vendor = await t.api('POST', '/api/v1/vendors', { as: admin, body: newVendor() });
    const { token } = vendorLink(t.palier.services, { incidentId: 1, vendorId: vendor.body.id });
    logs.length = 0;
    await t.api('GET', `/api/v1/vendor-portal/${token}`);
    await fetch(`${t.url}/vendor/${token}`);
    expect(logs.length).toBeGreaterThan(0);
    const signature = token.split('.').at(-1)!;
    expect(logs.filter((l) => l.includes(signature))).toEqual([]);
    expect(logs.some((l) => l.includes('/api/v1/vendor-portal/[token]'))).toBe(true);
  });
});

describe.each(ENGINES)('vendor contract clocks on %s', (engine) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer(engine);
  });
  afterAll(() => t?.close());

  it('a missed contract target is noticed by the worker and stops when the vendor answers', async () => {
    const admin = await t.user('admin');
    const vendor = await t.api('POST', '/api/v1/vendors', {
      as: admin,
      body: newVendor({ acknowledge: 'PT1M', resolve: 'PT10M' }),
    });
    const created = await t.api('POST', '/api/v1/incidents', {
      as: admin,
      body: { title: 'Baie de stockage', category: 'cloud-service-interruption', impact: 3, urgency: 3 },
    });
    const id = created.body.id as number;
    await t.api('POST', `/api/v1/incidents/${id}/acknowledge`, { as: admin });
    expect(
      (await t.api('POST', `/api/v1/incidents/${id}/engage-vendor`, { as: admin, body: { vendorId: vendor.body.id } })).status,
    ).toBe(200);
    const engagedAt = Date.parse((await t.api('GET', `/api/v1/incidents/${id}`, { as: admin })).body.updatedAt);

    await t.palier.worker.drain(engagedAt + 2 * 60_000);
    const events = await t.palier.services.incidents.events(id);
    const missed = events.filter((e) => e.kind === 'deadline_missed');
    expect(missed.map((e) => e.data)).toEqual([
      expect.objectContaining({ kind: 'vendor', target: 'PT1M', dueAt: engagedAt + 60_000, action: 'notify' }),
    ]);
    // The tier stays where it is: a vendor's miss is for the managers to chase, not an escalation.
    expect(events.some((e) => e.kind === 'escalated')).toBe(false);

    // Once the vendor acknowledges, only its resolve target remains.
    const { token } = vendorLink(t.palier.services, { incidentId: id, vendorId: vendor.body.id });
    expect((await t.api('POST', `/api/v1/vendor-portal/${token}/acknowledge`, {})).status).toBe(200);
    const detail = (await t.api('GET', `/api/v1/incidents/${id}`, { as: admin })).body;
    expect(detail.deadlines).toEqual([expect.objectContaining({ kind: 'vendor', target: 'PT10M', breached: false })]);
  });
});
