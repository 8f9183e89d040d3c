import type { Incident } from './incident.js';

export const ROLES = ['admin', 'manager', 'agent', 'requester'] as const;
export type Role = (typeof ROLES)[number];

export interface Actor {
  id: number;
  role: Role;
  /** Tiers an agent works at; empty for other roles. */
  tiers: string[];
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
  'notification.manage',
  'delivery.read',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const isStaff = (a: Actor) => a.role === 'admin' || a.role === 'manager' || a.role === 'agent';
const isOwn = (a: Actor, i: Incident) => i.requesterId === a.id;
const worksAt = (a: Actor, i: Incident) =>
  a.role === 'admin' || a.role === 'manager' || (a.role === 'agent' && a.tiers.includes(i.tier));

/**
 * The whole access policy: who may do what, to which incident. Without an incident, a rule
 * answers whether the actor may ever do it (the check made before a route runs).
 */
const RULES: Record<Permission, (actor: Actor, incident?: Incident) => boolean> = {
  'matrix.read': () => true,
  'matrix.write': (a) => a.role === 'admin',
  'incident.create': () => true,
  'incident.create_on_behalf': isStaff,
  'incident.list': () => true, // narrowed by incidentScope
  'incident.read': (a, i) => isStaff(a) || !i || isOwn(a, i),
  'incident.comment': (a, i) => isStaff(a) || !i || isOwn(a, i),
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
  // Channels hold webhook secrets and decide where incident details leave Palier.
  'notification.manage': (a) => a.role === 'admin',
  // What was sent, to whom, and what failed: for those who run the desk.
  'delivery.read': (a) => a.role === 'admin' || a.role === 'manager',
};

export function can(actor: Actor, permission: Permission, incident?: Incident): boolean {
  return RULES[permission](actor, incident);
}

/** The restriction every incident list, count and search applies for this actor. */
export function incidentScope(actor: Actor): { requesterId?: number } {
  return isStaff(actor) ? {} : { requesterId: actor.id };
}
