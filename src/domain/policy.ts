import type { Incident } from './incident.js';

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
  'vendor.read',
  'vendor.manage',
  'incident.vendor_update',
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
  'vendor.read': isStaff,
  'vendor.manage': (a) => a.role === 'admin',
  // What the vendor says (acknowledged, its ticket, an update, done): the vendor's contacts, or staff
  // of the incident's tier recording it from a phone call.
  'incident.vendor_update': (a, i) => (i ? worksAt(a, i) || isVendorOf(a, i) : isStaff(a) || a.role === 'vendor'),
};

export function can(actor: Actor, permission: Permission, incident?: Incident): boolean {
  return RULES[permission](actor, incident);
}

/** The restriction every incident list, count and search applies for this actor. */
export function incidentScope(actor: Actor): IncidentScope {
  if (isStaff(actor)) return {};
  // A vendor contact without a vendor sees nothing: no incident has vendor 0.
  if (actor.role === 'vendor') return { vendorId: actor.vendorId ?? 0 };
  return { requesterId: actor.id };
}

export interface IncidentScope {
  requesterId?: number;
  vendorId?: number;
}

/** Whether an incident falls within a scope (for pushes that do not go through a query). */
export function inScope(scope: IncidentScope, incident: { requesterId: number; vendorId: number | null }): boolean {
  if (scope.requesterId !== undefined && incident.requesterId !== scope.requesterId) return false;
  if (scope.vendorId !== undefined && incident.vendorId !== scope.vendorId) return false;
  return true;
}
