import { describe, expect, it } from 'vitest';
import type { Incident } from '../../src/domain/incident.js';
import { can, incidentScope, inScope, PERMISSIONS, type Actor } from '../../src/domain/policy.js';

const incident = (over: Partial<Incident> = {}): Incident =>
  ({ id: 1, requesterId: 10, tier: 'LX', status: 'pending', vendorId: 7, ...over }) as Incident;

const contact: Actor = { id: 20, role: 'vendor', tiers: [], vendorId: 7 };
const otherContact: Actor = { id: 21, role: 'vendor', tiers: [], vendorId: 8 };
const orphan: Actor = { id: 22, role: 'vendor', tiers: [], vendorId: null };

describe('vendor contacts in the access policy', () => {
  it('read, comment on and answer for only the incidents handed to their vendor', () => {
    const handed = incident();
    for (const permission of ['incident.read', 'incident.comment', 'incident.vendor_update'] as const) {
      expect(can(contact, permission, handed), permission).toBe(true);
      expect(can(otherContact, permission, handed), permission).toBe(false);
      expect(can(orphan, permission, handed), permission).toBe(false);
      expect(can(contact, permission, incident({ vendorId: null })), permission).toBe(false);
    }
  });

  it('never work incidents, and have no organisation-wide permission', () => {
    const allowed = PERMISSIONS.filter((p) => can(contact, p));
    expect(allowed.sort()).toEqual(
      [
        'incident.comment',
        'incident.list',
        'incident.read',
        'incident.reopen',
        'incident.close',
        'incident.vendor_update',
        'token.manage',
      ].sort(),
    );
    // Reopen and close are allowed up front only; on an incident they need its tier or its requester.
    for (const p of ['incident.work', 'incident.reopen', 'incident.close'] as const)
      expect(can(contact, p, incident()), p).toBe(false);
  });

  it('scope lists to their vendor, and to nothing without one', () => {
    expect(incidentScope(contact)).toEqual({ vendorId: 7 });
    expect(incidentScope(orphan)).toEqual({ vendorId: 0 });
    expect(inScope(incidentScope(contact), incident())).toBe(true);
    expect(inScope(incidentScope(otherContact), incident())).toBe(false);
    expect(inScope(incidentScope(orphan), incident({ vendorId: null }))).toBe(false);
    const requester: Actor = { id: 10, role: 'requester', tiers: [] };
    expect(inScope(incidentScope(requester), incident())).toBe(true);
    expect(inScope(incidentScope(requester), incident({ requesterId: 11 }))).toBe(false);
    expect(inScope(incidentScope({ id: 1, role: 'agent', tiers: ['L1'] }), incident({ requesterId: 11, vendorId: null }))).toBe(
      true,
    );
  });

  it('staff of the tier may record the vendor answers; other tiers and requesters may not', () => {
    expect(can({ id: 1, role: 'agent', tiers: ['LX'] }, 'incident.vendor_update', incident())).toBe(true);
    expect(can({ id: 1, role: 'agent', tiers: ['L1'] }, 'incident.vendor_update', incident())).toBe(false);
    expect(can({ id: 10, role: 'requester', tiers: [] }, 'incident.vendor_update', incident())).toBe(false);
    expect(can({ id: 1, role: 'admin', tiers: [] }, 'vendor.manage')).toBe(true);
    expect(can({ id: 1, role: 'manager', tiers: [] }, 'vendor.manage')).toBe(false);
    expect(can({ id: 1, role: 'agent', tiers: ['L1'] }, 'vendor.read')).toBe(true);
    expect(can({ id: 10, role: 'requester', tiers: [] }, 'vendor.read')).toBe(false);
  });
});
