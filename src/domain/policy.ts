import type { Incident } from './incident.js';
import type { Confidentiality, MatrixDefinition } from './matrix.js';

/** vendor: a contact of an outside vendor, who sees only the incidents handed to that vendor. */
export const ROLES = ['admin', 'manager', 'agent', 'requester', 'vendor'] as const;
export type Role = (typeof ROLES)[number];

export interface Actor {
  id: number;
  role: Role;
  /** Tiers an agent works at; empty for other roles. */
  tiers: string[];
  /** The vendor a vendor contact speaks for; absent or null for other roles. */
  vendorId?: number | null | undefined;
}

/**
 * Every permission Palier checks. Each route names exactly one; the authorization tests walk this
 * list, so a new permission without a rule fails them.
 */
export const PERMISSIONS = [
  'matrix.read',
  'matrix.write',
  'incident.create',
  'incident.create_on_behalf',
  'incident.list',
  'incident.read',
  'incident.comment',
  'incident.work',
  'incident.reopen',
  'incident.close',
  'escalation.read',
  'incident.export',
  'report.read',
  'simulation.run',
  'user.read',
  'user.manage',
  'token.manage',
  'integration.manage',
  'dashboard.read',
  'team.read',
  'team.manage',
  'vendor.read',
  'vendor.manage',
  'incident.vendor_update',
  'notification.manage',
  'delivery.read',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const isStaff = (a: Actor) => a.role === 'admin' || a.role === 'manager' || a.role === 'agent';
const isOwn = (a: Actor, i: Incident) => i.requesterId === a.id;
/** A vendor contact's incidents: those handed to their vendor (the latest hand-off counts). */
const isVendorOf = (a: Actor, i: Incident) => a.role === 'vendor' && a.vendorId != null && i.vendorId === a.vendorId;
const worksAt = (a: Actor, i: Incident) =>
  a.role === 'admin' || a.role === 'manager' || (a.role === 'agent' && a.tiers.includes(i.tier));

/**
 * The whole access policy: who may do what, to which incident. Without an incident, a rule
 * answers whether the actor may ever do it (the check made before a route runs).
 */
const RULES: Record<Permission, (actor: Actor, incident?: Incident) => boolean> = {
  // The matrix and its history are the organisation's: vendor contacts see their incidents only.
  'matrix.read': (a) => a.role !== 'vendor',
  'matrix.write': (a) => a.role === 'admin',
  'incident.create': (a) => a.role !== 'vendor',
  'incident.create_on_behalf': isStaff,
  'incident.list': () => true, // narrowed by incidentScope
  'incident.read': (a, i) => isStaff(a) || !i || isOwn(a, i) || isVendorOf(a, i),
  'incident.comment': (a, i) => isStaff(a) || !i || isOwn(a, i) || isVendorOf(a, i),
  'incident.work': (a, i) => (i ? worksAt(a, i) : isStaff(a)),
  // A requester may reopen or close their own resolved incident: they are the judge of the fix.
  'incident.reopen': (a, i) => !i || worksAt(a, i) || isOwn(a, i),
  'incident.close': (a, i) => !i || worksAt(a, i) || isOwn(a, i),
  'escalation.read': isStaff,
  'incident.export': isStaff,
  'report.read': (a) => a.role === 'admin' || a.role === 'manager',
  'simulation.run': (a) => a.role === 'admin' || a.role === 'manager',
  'user.read': (a) => a.role === 'admin' || a.role === 'manager',
  'user.manage': (a) => a.role === 'admin',
  // Everyone signed in lists, creates and revokes their own API tokens (never another's).
  'token.manage': () => true,
  // Integration keys let outside systems open incidents: only administrators hand them out.
  'integration.manage': (a) => a.role === 'admin',
  // Counts over every incident: for those who run the desk.
  'dashboard.read': (a) => a.role === 'admin' || a.role === 'manager',
  // Staff need to know who to call at each tier; who is in a team is decided by administrators.
  'team.read': isStaff,
  'team.manage': (a) => a.role === 'admin',
  'vendor.read': isStaff,
  'vendor.manage': (a) => a.role === 'admin',
  // What the vendor says (acknowledged, its ticket, an update, done): the vendor's contacts, or staff
  // of the incident's tier recording it from a phone call.
  'incident.vendor_update': (a, i) => (i ? worksAt(a, i) || isVendorOf(a, i) : isStaff(a) || a.role === 'vendor'),
  // Channels hold webhook secrets and decide where incident details leave Palier.
  'notification.manage': (a) => a.role === 'admin',
  // What was sent, to whom, and what failed: for those who run the desk.
  'delivery.read': (a) => a.role === 'admin' || a.role === 'manager',
};

/** The confidential categories of the current matrix, by key: who may see their incidents. */
export type ConfidentialRules = ReadonlyMap<string, Confidentiality>;

/** Confidentiality is read from the current matrix, so a change applies to past incidents too. */
export function confidentialRules(matrix: Pick<MatrixDefinition, 'categories'>): ConfidentialRules {
  const rules = new Map<string, Confidentiality>();
  for (const c of matrix.categories)
    if (c.confidential === true) rules.set(c.key, { tiers: [], users: [] });
    else if (c.confidential) rules.set(c.key, c.confidential);
  return rules;
}

/** The fields of an incident its visibility depends on. */
export type Visible = Pick<Incident, 'category' | 'tier' | 'requesterId' | 'assigneeId' | 'vendorId'>;

/** Whether the actor is named for every incident of a confidential category. */
const named = (a: Actor, rule: Confidentiality) =>
  a.role === 'admin' || rule.users.includes(a.id) || (a.role === 'agent' && rule.tiers.some((t) => a.tiers.includes(t)));

/**
 * An incident of a confidential category is seen by administrators, the people and tiers the matrix
 * names, its requester, its assignee, the agents of the tier holding it (the helpdesk must be
 * able to take a breach report in; once it moves up, the helpdesk no longer sees it), and the
 * contacts of the vendor it is handed to (handing it over is the decision to share it).
 */
function sees(a: Actor, i: Visible, rules: ConfidentialRules): boolean {
  const rule = rules.get(i.category);
  if (!rule || named(a, rule)) return true;
  return (
    i.requesterId === a.id ||
    i.assigneeId === a.id ||
    (a.role === 'agent' && a.tiers.includes(i.tier)) ||
    (a.role === 'vendor' && a.vendorId != null && i.vendorId === a.vendorId)
  );
}

/**
 * Without an incident, whether the actor may ever do it; with one, whether they may do it to that
 * incident, which they must first be able to see under the matrix's confidential categories.
 */
export function can(actor: Actor, permission: Permission): boolean;
export function can(actor: Actor, permission: Permission, incident: Incident, rules: ConfidentialRules): boolean;
export function can(actor: Actor, permission: Permission, incident?: Incident, rules?: ConfidentialRules): boolean {
  if (incident && !sees(actor, incident, rules ?? new Map())) return false;
  return RULES[permission](actor, incident);
}

/**
 * The restriction every incident list, count, search, export and feed applies for this actor: a
 * requester's own incidents only; a vendor contact's, those handed to their vendor; for staff, the
 * confidential categories they are not named for are hidden, except the incidents they still see
 * (their own, assigned to them, held by their tier).
 */
export interface IncidentScope {
  requesterId?: number;
  vendorId?: number;
  hidden?: { categories: string[]; exceptTiers: string[]; exceptUserId: number };
}

export function incidentScope(actor: Actor, rules: ConfidentialRules): IncidentScope {
  // A vendor contact without a vendor sees nothing: no incident has vendor 0.
  if (actor.role === 'vendor') return { vendorId: actor.vendorId ?? 0 };
  if (!isStaff(actor)) return { requesterId: actor.id };
  const categories = [...rules].filter(([, rule]) => !named(actor, rule)).map(([key]) => key);
  if (categories.length === 0) return {};
  return { hidden: { categories, exceptTiers: actor.role === 'agent' ? actor.tiers : [], exceptUserId: actor.id } };
}

/** The scope applied to one incident in memory: the same answer the query gives. */
export function inScope(scope: IncidentScope, i: Visible): boolean {
  if (scope.requesterId !== undefined && i.requesterId !== scope.requesterId) return false;
  if (scope.vendorId !== undefined && i.vendorId !== scope.vendorId) return false;
  const h = scope.hidden;
  if (!h || !h.categories.includes(i.category)) return true;
  return h.exceptTiers.includes(i.tier) || i.requesterId === h.exceptUserId || i.assigneeId === h.exceptUserId;
}
