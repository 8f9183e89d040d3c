import { randomBytes } from 'node:crypto';
import { conflict, forbidden, gone, invalid, notFound, unprocessable, type ErrorDetail } from '../domain/errors.js';
import { parseDuration } from '../domain/duration.js';
import type { Incident, IncidentCommand, IncidentEvent } from '../domain/incident.js';
import { can, type Actor } from '../domain/policy.js';
import { checkVendorToken, vendorPortalUrl, vendorToken } from '../notify/vendor-link.js';
import type { Vendor, VendorFields } from '../store/vendor.repository.js';
import type { Services } from './context.js';
import { actOnIncidentIn, actOnIncident } from './incident.service.js';
import { currentConfidentialRules } from './matrix.service.js';

export type VendorInput = Omit<VendorFields, 'active'> & { active?: boolean | undefined };

/** Category keys must be the current matrix's; durations exact and positive. Every problem is listed. */
async function checkVendorFields(s: Services, v: VendorFields): Promise<void> {
  const problems: ErrorDetail[] = [];
  const matrix = await s.matrices.current();
  const known = new Set(matrix?.categories.map((c) => c.key));
  v.categories.forEach((key, i) => {
    if (!known.has(key)) problems.push({ path: `categories[${i}]`, message: `unknown category "${key}"` });
  });
  for (const field of ['acknowledge', 'resolve'] as const) {
    const text = v[field];
    if (text === null) continue;
    const ms = parseDuration(text);
    if (ms === undefined || ms <= 0)
      problems.push({ path: field, message: 'an ISO 8601 duration longer than zero, e.g. PT4H or P1DT12H (no years or months)' });
  }
  if (problems.length) throw invalid('invalid_vendor', problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);
}

const isUniqueViolation = (e: unknown) => {
  const code = (e as { code?: string }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
};
const nameTaken = (name: string) => conflict('name_taken', `A vendor named "${name}" already exists`);

/**
 * Adds a vendor to the directory, with the account its answers through the signed link are
 * recorded as (disabled: nobody signs in with it).
 */
export async function createVendor(s: Services, input: VendorInput): Promise<Vendor> {
  const fields: VendorFields = { ...input, active: input.active ?? true };
  await checkVendorFields(s, fields);
  const now = s.clock.now();
  try {
    return await s.store.db.transaction().execute(async (trx) => {
      if (await s.vendors.byName(fields.name, trx)) throw nameTaken(fields.name);
      const user = await trx
        .insertInto('users')
        .values({
          email: `vendor.${randomBytes(6).toString('hex')}@vendors.invalid`,
          password_hash: null,
          role: 'vendor',
          display_name: `${fields.name} (vendor)`,
          locale: fields.locale,
          tiers: '[]',
          disabled_at: now,
          created_at: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const vendor = await s.vendors.insert(trx, fields, Number(user.id), now);
      await trx.updateTable('users').set({ vendor_id: vendor.id }).where('id', '=', vendor.systemUserId).execute();
      return vendor;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(fields.name);
    throw error;
  }
}

const vendorChanged = (name: string) =>
  conflict('vendor_changed', `Vendor ${name} has been changed by someone else since it was read; read it again`);

/**
 * Changes some fields of a vendor; the rest are kept. With `seenUpdatedAt` (the updatedAt the
 * change was made on), a vendor changed since is refused rather than overwritten.
 */
export async function updateVendor(
  s: Services,
  id: number,
  change: Partial<VendorFields>,
  seenUpdatedAt?: number,
): Promise<Vendor> {
  const before = await getVendor(s, id);
  const fields: VendorFields = {
    name: change.name ?? before.name,
    categories: change.categories ?? before.categories,
    email: change.email ?? before.email,
    phone: change.phone !== undefined ? change.phone : before.phone,
    locale: change.locale ?? before.locale,
    contractRef: change.contractRef !== undefined ? change.contractRef : before.contractRef,
    acknowledge: change.acknowledge !== undefined ? change.acknowledge : before.acknowledge,
    resolve: change.resolve !== undefined ? change.resolve : before.resolve,
    active: change.active ?? before.active,
  };
  if (seenUpdatedAt !== undefined && seenUpdatedAt !== before.updatedAt) throw vendorChanged(before.name);
  await checkVendorFields(s, fields);
  // Always later than the last change, so two changes within one millisecond still differ.
  const at = Math.max(s.clock.now(), before.updatedAt + 1);
  try {
    return await s.store.db.transaction().execute(async (trx) => {
      const other = await s.vendors.byName(fields.name, trx);
      if (other && other.id !== id) throw nameTaken(fields.name);
      // The check again, in the write itself: a change committed since `before` was read is not overwritten.
      const after = await s.vendors.update(trx, id, fields, at, seenUpdatedAt);
      if (!after) throw seenUpdatedAt === undefined ? notFound(`Vendor ${id}`) : vendorChanged(before.name);
      if (after.name !== before.name || after.locale !== before.locale)
        await trx
          .updateTable('users')
          .set({ display_name: `${after.name} (vendor)`, locale: after.locale })
          .where('id', '=', after.systemUserId)
          .execute();
      return after;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(fields.name);
    throw error;
  }
}

export async function getVendor(s: Services, id: number): Promise<Vendor> {
  const vendor = await s.vendors.byId(id);
  if (!vendor) throw notFound(`Vendor ${id}`);
  return vendor;
}

/**
 * A vendor and how many incidents are in its hands now. The count takes in confidential
 * incidents, so only those who read the reports (where the vendor scorecard counts them too) get it.
 */
export async function vendorDetail(
  s: Services,
  actor: Actor,
  id: number,
): Promise<{ vendor: Vendor; openEngagements: number | null }> {
  const vendor = await getVendor(s, id);
  const openEngagements = can(actor, 'report.read') ? await s.vendors.openEngagements(id) : null;
  return { vendor, openEngagements };
}

/**
 * Hands an incident to a vendor (level X): the vendor must be active and cover the incident's
 * category. The contract's targets travel with the event and start the vendor's clocks.
 */
export async function engageVendor(
  s: Services,
  actor: Actor,
  incidentId: number,
  input: { vendorId: number; note: string },
): Promise<Incident> {
  return s.store.db.transaction().execute(async (trx) => {
    const incident = await s.incidents.get(incidentId, trx);
    const rules = await currentConfidentialRules(s, trx);
    if (!incident || !can(actor, 'incident.read', incident, rules)) throw notFound(`Incident ${incidentId}`);
    if (!can(actor, 'incident.work', incident, rules))
      throw forbidden(`Only staff of tier ${incident.tier} can hand this incident to a vendor`);
    const vendor = await s.vendors.byId(input.vendorId, trx);
    if (!vendor)
      throw invalid('unknown_vendor', `Vendor ${input.vendorId} does not exist`, [
        { path: 'vendorId', message: 'no such vendor' },
      ]);
    if (!vendor.active)
      throw unprocessable('vendor_inactive', `Vendor ${vendor.name} is inactive`, [
        { path: 'vendorId', message: 'inactive vendor' },
      ]);
    if (!vendor.categories.includes(incident.category))
      throw unprocessable('vendor_category', `Vendor ${vendor.name} does not cover the category ${incident.category}`, [
        { path: 'vendorId', message: `covers: ${vendor.categories.join(', ') || 'no category'}` },
      ]);
    return actOnIncidentIn(s, trx, actor, incidentId, {
      type: 'engage_vendor',
      vendor: {
        id: vendor.id,
        name: vendor.name,
        ...(vendor.acknowledge ? { acknowledge: vendor.acknowledge } : {}),
        ...(vendor.resolve ? { resolve: vendor.resolve } : {}),
        // Where the hand-off message goes, in the vendor's language (src/notify/dispatcher.ts).
        email: vendor.email,
        locale: vendor.locale,
      },
      note: input.note,
    });
  });
}

/** The signed, expiring address of the vendor's page for one incident (what outbound e-mail sends it). */
export function vendorLink(
  s: Services,
  grant: { incidentId: number; vendorId: number },
): { url: string; token: string; expiresAt: number } {
  const expiresAt = s.clock.now() + s.vendorLinkMs;
  const token = vendorToken(s.signer, { ...grant, expiresAt });
  return { url: vendorPortalUrl(s.site.publicUrl, token), token, expiresAt };
}

export interface PortalView {
  incident: Incident;
  vendor: Vendor;
  /** What the vendor may see of the timeline: the hand-off (with its note) and its own answers. */
  timeline: IncidentEvent[];
  expiresAt: number;
}

/**
 * Opens a vendor link: a malformed or altered token is answered as unknown, an expired one as
 * gone, and so is a link whose incident has since been handed to another vendor.
 */
async function grantOf(
  s: Services,
  token: string,
): Promise<{ incident: Incident; vendor: Vendor; actor: Actor; expiresAt: number }> {
  const check = checkVendorToken(s.signer, token, s.clock.now());
  if (!check.ok) {
    if (check.reason === 'expired') throw gone('link_expired', 'This link has expired; ask the service desk for a new one');
    throw notFound('Link');
  }
  const { incidentId, vendorId, expiresAt } = check.grant;
  const [incident, vendor] = await Promise.all([s.incidents.get(incidentId), s.vendors.byId(vendorId)]);
  if (!incident || !vendor) throw notFound('Link');
  if (incident.vendorId !== vendorId) throw gone('vendor_replaced', 'This incident is no longer in the hands of your company');
  return { incident, vendor, expiresAt, actor: { id: vendor.systemUserId, role: 'vendor', tiers: [], vendorId: vendor.id } };
}

export function vendorTimeline(events: IncidentEvent[], vendorId: number): IncidentEvent[] {
  return events.filter((e) => {
    const d = e.data as { vendorId?: number; vendor?: { id: number } };
    if (e.kind === 'vendor_engaged') return d.vendor?.id === vendorId;
    if (e.kind === 'vendor_acknowledged' || e.kind === 'vendor_updated' || e.kind === 'vendor_done')
      return d.vendorId === vendorId;
    return false;
  });
}

export async function openPortal(s: Services, token: string): Promise<PortalView> {
  const { incident, vendor, expiresAt } = await grantOf(s, token);
  const events = await s.incidents.events(incident.id);
  return { incident, vendor, expiresAt, timeline: vendorTimeline(events, vendor.id) };
}

/** A vendor's answer through its link, recorded as an event by the vendor's account. */
export async function portalAct(
  s: Services,
  token: string,
  command: Extract<IncidentCommand, { type: 'vendor_acknowledge' | 'vendor_update' | 'vendor_done' }>,
): Promise<PortalView> {
  const { actor, incident } = await grantOf(s, token);
  await actOnIncident(s, actor, incident.id, command);
  return openPortal(s, token);
}
