import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { OPEN_STATUSES, type Incident } from '../../src/domain/incident.js';
import { can, confidentialRules, incidentScope, inScope, PERMISSIONS, type Actor } from '../../src/domain/policy.js';
import { SEED_MATRIX } from '../../src/domain/seed-matrix.js';
import { seedCopy } from '../helpers/builders.js';

const BREACH = 'data-security-breach';
const rules = confidentialRules(SEED_MATRIX);

function incident(over: Partial<Incident> = {}): Incident {
  return {
    id: 1,
    title: 'Fichier clients exposé',
    description: '',
    category: BREACH,
    impact: 1,
    urgency: 1,
    priority: 'P1',
    requesterId: 100,
    assigneeId: null,
    tier: 'L1',
    status: 'new',
    pendingReason: null,
    matrixVersion: 1,
    checklist: {},
    reopenCount: 0,
    escalationCount: 0,
    resolution: null,
    tierEnteredAt: 0,
    createdAt: 0,
    updatedAt: 0,
    acknowledgedAt: null,
    resolvedAt: null,
    closedAt: null,
    vendorId: null,
    vendorTicket: null,
    vendorStatus: null,
    seq: 1,
    ...over,
  };
}

const agent = (id: number, ...tiers: string[]): Actor => ({ id, role: 'agent', tiers });
const manager: Actor = { id: 50, role: 'manager', tiers: [] };
const admin: Actor = { id: 60, role: 'admin', tiers: [] };
const requester: Actor = { id: 100, role: 'requester', tiers: [] };

describe('confidential categories in the policy', () => {
  it('reads the seed: data security breaches are confidential to L2 and L3, nothing else is', () => {
    expect([...rules]).toEqual([[BREACH, { tiers: ['L2', 'L3'], users: [] }]]);
  });

  it('treats `true` from earlier matrices as confidential with nobody named', () => {
    const m = seedCopy();
    m.categories[0]!.confidential = true;
    m.categories[1]!.confidential = false;
    const r = confidentialRules(m);
    expect(r.get(m.categories[0]!.key)).toEqual({ tiers: [], users: [] });
    expect(r.has(m.categories[1]!.key)).toBe(false);
  });

  it('lets the helpdesk read a breach while it holds it, and not once it has moved up', () => {
    const l1 = agent(1, 'L1');
    expect(can(l1, 'incident.read', incident(), rules)).toBe(true);
    expect(can(l1, 'incident.work', incident(), rules)).toBe(true);
    expect(can(l1, 'incident.read', incident({ tier: 'L2' }), rules)).toBe(false);
    expect(can(l1, 'incident.comment', incident({ tier: 'L2' }), rules)).toBe(false);
  });

  it('lets named tiers see a breach wherever it is, but work it only where they are', () => {
    const l2 = agent(2, 'L2');
    expect(can(l2, 'incident.read', incident(), rules)).toBe(true);
    expect(can(l2, 'incident.work', incident(), rules)).toBe(false);
    expect(can(l2, 'incident.work', incident({ tier: 'L2' }), rules)).toBe(true);
  });

  it('hides a breach from a manager and from an agent of another tier unless the matrix names them', () => {
    const lx = agent(3, 'LX');
    expect(can(manager, 'incident.read', incident(), rules)).toBe(false);
    expect(can(lx, 'incident.read', incident(), rules)).toBe(false);
    const m = seedCopy();
    m.categories.find((c) => c.key === BREACH)!.confidential = { tiers: ['L2', 'L3'], users: [manager.id, lx.id] };
    const named = confidentialRules(m);
    expect(can(manager, 'incident.read', incident(), named)).toBe(true);
    expect(can(lx, 'incident.read', incident(), named)).toBe(true);
  });

  it('always lets administrators, the requester and the assignee see it', () => {
    expect(can(admin, 'incident.read', incident({ tier: 'L3' }), rules)).toBe(true);
    expect(can(requester, 'incident.read', incident({ tier: 'L3' }), rules)).toBe(true);
    expect(can(agent(4, 'L1'), 'incident.read', incident({ tier: 'L3', assigneeId: 4 }), rules)).toBe(true);
    expect(can({ ...requester, id: 101 }, 'incident.read', incident(), rules)).toBe(false);
  });

  it('leaves other categories as they were', () => {
    const other = incident({ category: 'network-downtime', tier: 'L3' });
    for (const actor of [agent(1, 'L1'), manager, agent(3, 'LX')]) expect(can(actor, 'incident.read', other, rules)).toBe(true);
    expect(incidentScope(admin, rules)).toEqual({});
    expect(incidentScope(requester, rules)).toEqual({ requesterId: requester.id });
    expect(incidentScope(agent(2, 'L2'), rules)).toEqual({});
    expect(incidentScope(agent(1, 'L1'), rules)).toEqual({
      hidden: { categories: [BREACH], exceptTiers: ['L1'], exceptUserId: 1 },
    });
  });

  const actorArb = fc.record({
    id: fc.integer({ min: 1, max: 6 }),
    role: fc.constantFrom('admin' as const, 'manager' as const, 'agent' as const, 'requester' as const),
    tiers: fc.subarray(['L1', 'L2', 'L3', 'LX']),
  });
  const incidentArb = fc.record({
    category: fc.constantFrom(...SEED_MATRIX.categories.map((c) => c.key)),
    tier: fc.constantFrom('L1', 'L2', 'L3', 'LX'),
    requesterId: fc.integer({ min: 1, max: 6 }),
    assigneeId: fc.option(fc.integer({ min: 1, max: 6 })),
    status: fc.constantFrom(...OPEN_STATUSES),
  });
  const rulesArb = fc.record({ tiers: fc.subarray(['L1', 'L2', 'L3', 'LX']), users: fc.subarray([1, 2, 3, 4, 5, 6]) });

  fcTest.prop([actorArb, incidentArb, rulesArb])(
    'lists show exactly the incidents a read by id would show (the scope and can agree)',
    (a, i, rule) => {
      const actor: Actor = { ...a, tiers: a.role === 'agent' ? a.tiers : [] };
      const m = seedCopy();
      m.categories.find((c) => c.key === BREACH)!.confidential = rule;
      const r = confidentialRules(m);
      const full = incident(i);
      expect(inScope(incidentScope(actor, r), full)).toBe(can(actor, 'incident.read', full, r));
    },
  );
});

const handed = (over: Partial<Incident> = {}): Incident =>
  incident({ id: 1, requesterId: 10, tier: 'LX', status: 'pending', category: 'network-downtime', vendorId: 7, ...over });
const noRules = confidentialRules({ categories: [] });

const contact: Actor = { id: 20, role: 'vendor', tiers: [], vendorId: 7 };
const otherContact: Actor = { id: 21, role: 'vendor', tiers: [], vendorId: 8 };
const orphan: Actor = { id: 22, role: 'vendor', tiers: [], vendorId: null };

describe('vendor contacts in the access policy', () => {
  it('see a confidential incident handed to their vendor, and no other of its category', () => {
    const breach = handed({ category: BREACH });
    expect(can(contact, 'incident.read', breach, rules)).toBe(true);
    expect(can(otherContact, 'incident.read', breach, rules)).toBe(false);
    expect(inScope(incidentScope(contact, rules), breach)).toBe(true);
    expect(inScope(incidentScope(contact, rules), handed({ category: BREACH, vendorId: null }))).toBe(false);
  });

  it('read, comment on and answer for only the incidents handed to their vendor', () => {
    const one = handed();
    for (const permission of ['incident.read', 'incident.comment', 'incident.vendor_update'] as const) {
      expect(can(contact, permission, one, noRules), permission).toBe(true);
      expect(can(otherContact, permission, one, noRules), permission).toBe(false);
      expect(can(orphan, permission, one, noRules), permission).toBe(false);
      expect(can(contact, permission, handed({ vendorId: null }), noRules), permission).toBe(false);
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
      expect(can(contact, p, handed(), noRules), p).toBe(false);
  });

  it('scope lists to their vendor, and to nothing without one', () => {
    expect(incidentScope(contact, noRules)).toEqual({ vendorId: 7 });
    expect(incidentScope(orphan, noRules)).toEqual({ vendorId: 0 });
    expect(inScope(incidentScope(contact, noRules), handed())).toBe(true);
    expect(inScope(incidentScope(otherContact, noRules), handed())).toBe(false);
    expect(inScope(incidentScope(orphan, noRules), handed({ vendorId: null }))).toBe(false);
    const requester: Actor = { id: 10, role: 'requester', tiers: [] };
    expect(inScope(incidentScope(requester, noRules), handed())).toBe(true);
    expect(inScope(incidentScope(requester, noRules), handed({ requesterId: 11 }))).toBe(false);
    expect(
      inScope(incidentScope({ id: 1, role: 'agent', tiers: ['L1'] }, noRules), handed({ requesterId: 11, vendorId: null })),
    ).toBe(true);
  });

  it('staff of the tier may record the vendor answers; other tiers and requesters may not', () => {
    expect(can({ id: 1, role: 'agent', tiers: ['LX'] }, 'incident.vendor_update', handed(), noRules)).toBe(true);
    expect(can({ id: 1, role: 'agent', tiers: ['L1'] }, 'incident.vendor_update', handed(), noRules)).toBe(false);
    expect(can({ id: 10, role: 'requester', tiers: [] }, 'incident.vendor_update', handed(), noRules)).toBe(false);
    expect(can({ id: 1, role: 'admin', tiers: [] }, 'vendor.manage')).toBe(true);
    expect(can({ id: 1, role: 'manager', tiers: [] }, 'vendor.manage')).toBe(false);
    expect(can({ id: 1, role: 'agent', tiers: ['L1'] }, 'vendor.read')).toBe(true);
    expect(can({ id: 10, role: 'requester', tiers: [] }, 'vendor.read')).toBe(false);
  });
});
