import { timingSafeEqual } from 'node:crypto';
import type { Signer } from '../services/secret.js';

/**
 * The link a vendor receives when an incident is handed to it: no account, just a token that names
 * the incident, the vendor and an expiry, signed with the instance secret. A token for another
 * incident or vendor, an altered one, or one past its expiry is refused.
 */
const PURPOSE = 'vendor-link';

export interface VendorGrant {
  incidentId: number;
  vendorId: number;
  /** Epoch milliseconds after which the link no longer opens. */
  expiresAt: number;
}

export function vendorToken(signer: Signer, grant: VendorGrant): string {
  const body = `${grant.incidentId}.${grant.vendorId}.${grant.expiresAt.toString(36)}`;
  return `${body}.${signer.sign(PURPOSE, body)}`;
}

export type VendorTokenCheck = { ok: true; grant: VendorGrant } | { ok: false; reason: 'malformed' | 'forged' | 'expired' };

export function checkVendorToken(signer: Signer, token: string, now: number): VendorTokenCheck {
  const m = /^(\d{1,15})\.(\d{1,15})\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return { ok: false, reason: 'malformed' };
  const body = `${m[1]}.${m[2]}.${m[3]}`;
  const expected = Buffer.from(signer.sign(PURPOSE, body));
  const given = Buffer.from(m[4]!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'forged' };
  const expiresAt = parseInt(m[3]!, 36);
  if (now >= expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, grant: { incidentId: Number(m[1]), vendorId: Number(m[2]), expiresAt } };
}

/** The vendor page's address, under the instance's public URL. */
export function vendorPortalUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/vendor/${token}`;
}
