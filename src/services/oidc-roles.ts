/**
 * Roles and tiers from the identity provider's groups (PALIER_OIDC_ROLE_MAP): parsing the map, and
 * working out what a person's groups give them. Pure functions; the sign-in applies the result.
 */

/** Roles a group may give; vendor contacts are tied to a vendor and managed in Palier only. */
export const MAPPABLE_ROLES = ['admin', 'manager', 'agent', 'requester'] as const;
export type MappableRole = (typeof MAPPABLE_ROLES)[number];

/** When several groups match, the highest role wins. */
const RANK: Record<MappableRole, number> = { admin: 4, manager: 3, agent: 2, requester: 1 };

/** One entry of PALIER_OIDC_ROLE_MAP: `group=role` or, for agents, `group=agent:L1+L2`. */
export interface RoleMapping {
  group: string;
  role: MappableRole;
  /** Tiers an agent mapping gives; empty for other roles. */
  tiers: string[];
}

/**
 * Parses `palier-admins=admin,helpdesk=agent:L1,network=agent:L2+L3`. Group names are taken as
 * written (case and any leading `/` of Keycloak group paths included) and may not contain commas.
 * Returns the entries, or the problems found, each naming the entry.
 */
export function parseRoleMap(text: string): { map: RoleMapping[] } | { problems: string[] } {
  const map: RoleMapping[] = [];
  const problems: string[] = [];
  const entries = text.split(',').map((e) => e.trim());
  if (entries.length === 1 && entries[0] === '') return { map };
  entries.forEach((entry, i) => {
    const where = `entry ${i + 1} "${entry}"`;
    const eq = entry.lastIndexOf('=');
    if (eq < 0) return problems.push(`${where}: expected GROUP=ROLE, e.g. palier-admins=admin or helpdesk=agent:L1`);
    const group = entry.slice(0, eq).trim();
    const [roleText = '', tierText, ...extra] = entry
      .slice(eq + 1)
      .split(':')
      .map((p) => p.trim());
    if (!group) return problems.push(`${where}: the group name is empty`);
    if (!(MAPPABLE_ROLES as readonly string[]).includes(roleText))
      return problems.push(`${where}: unknown role "${roleText}", expected one of ${MAPPABLE_ROLES.join(', ')}`);
    const role = roleText as MappableRole;
    if (extra.length) return problems.push(`${where}: one ":" at most, then tiers joined by "+", e.g. agent:L2+L3`);
    const tiers = tierText === undefined ? [] : tierText.split('+').map((t) => t.trim());
    if (role !== 'agent' && tierText !== undefined) return problems.push(`${where}: only agents have tiers`);
    if (role === 'agent' && tiers.length === 0) return problems.push(`${where}: an agent needs tiers, e.g. ${group}=agent:L1`);
    if (tiers.some((t) => !/^\S+$/.test(t))) return problems.push(`${where}: empty or blank tier, e.g. agent:L2+L3`);
    if (map.some((m) => m.group === group)) return problems.push(`${where}: group "${group}" is mapped twice`);
    map.push({ group, role, tiers: [...new Set(tiers)] });
  });
  return problems.length ? { problems } : { map };
}

/** What the provider said about a person's groups. */
export type GroupsClaim =
  | { state: 'present' | 'missing'; groups: string[] }
  /** Entra ID leaves out the groups of someone in too many and points elsewhere ("overage"). */
  | { state: 'overage'; groups: [] };

/**
 * The person's groups from the claim named `claimName`: a list, or one group as a plain string
 * (some providers send a single value so). A claim name with dots that is not itself a claim is
 * followed as a path (`realm_access.roles`). Missing, or of another type: no groups.
 */
export function readGroups(claims: Record<string, unknown>, claimName: string): GroupsClaim {
  const names = claims._claim_names;
  if (names && typeof names === 'object' && claimName in names) return { state: 'overage', groups: [] };
  let value: unknown = claims[claimName];
  if (value === undefined && claimName.includes('.')) {
    value = claims;
    for (const part of claimName.split('.'))
      value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  }
  if (typeof value === 'string') return { state: 'present', groups: value.trim() ? [value.trim()] : [] };
  if (Array.isArray(value)) return { state: 'present', groups: value.filter((g): g is string => typeof g === 'string') };
  return { state: 'missing', groups: [] };
}

export interface MappedAccess {
  /** The highest role the groups give, or null when they give none. */
  role: MappableRole | null;
  /** An agent's tiers (union over its groups), in the matrix's order; empty otherwise. */
  tiers: string[];
  /** The person's groups that are in the map. */
  matched: string[];
  /** Tiers the map names that the current matrix does not have (ignored). */
  ignoredTiers: string[];
}

/**
 * What the groups give: the highest role, and for an agent the union of its groups' tiers.
 * `matrixTiers` are the current matrix's tier keys; an agent mapping whose tiers are all unknown
 * gives nothing.
 */
export function accessFromGroups(groups: string[], map: RoleMapping[], matrixTiers: string[]): MappedAccess {
  const member = new Set(groups);
  const known = new Set(matrixTiers);
  const ignored = new Set<string>();
  const agentTiers = new Set<string>();
  const matched: string[] = [];
  let role: MappableRole | null = null;
  for (const mapping of map) {
    if (!member.has(mapping.group)) continue;
    matched.push(mapping.group);
    let gives: MappableRole | null = mapping.role;
    if (mapping.role === 'agent') {
      for (const tier of mapping.tiers) (known.has(tier) ? agentTiers : ignored).add(tier);
      if (!mapping.tiers.some((t) => known.has(t))) gives = null;
    }
    if (gives && (!role || RANK[gives] > RANK[role])) role = gives;
  }
  return {
    role,
    tiers: role === 'agent' ? matrixTiers.filter((t) => agentTiers.has(t)) : [],
    matched,
    ignoredTiers: [...ignored],
  };
}

/** Tiers the map names that are not in the matrix, for a warning at startup. */
export function unknownMappedTiers(map: RoleMapping[], matrixTiers: string[]): string[] {
  const known = new Set(matrixTiers);
  return [...new Set(map.flatMap((m) => m.tiers).filter((t) => !known.has(t)))];
}
