import type { Kysely } from 'kysely';
import { conflict, invalid, notFound, type ErrorDetail } from '../domain/errors.js';
import { HANDOVER_TIME, isTimeZone, nextHandover, onCallAt, type OnCall } from '../domain/oncall.js';
import type { Actor } from '../domain/policy.js';
import type { Database } from '../store/schema.js';
import type { OncallOverride, RotationSettings, Team, TeamChange, TeamMember, TeamRole } from '../store/team.repository.js';
import type { User } from '../store/user.repository.js';
import type { Services } from './context.js';

export const DEFAULT_ROTATION = { period: 'weekly', handoverTime: '09:00', timeZone: 'Europe/Paris' } as const;

export interface TeamInput {
  name: string;
  tier: string;
  email?: string | null | undefined;
  chatWebhookUrl?: string | null | undefined;
  rotation?: Partial<RotationSettings> | undefined;
}

export interface TeamPatch {
  name?: string | undefined;
  tier?: string | undefined;
  email?: string | null | undefined;
  chatWebhookUrl?: string | null | undefined;
  rotation?: Partial<RotationSettings> | undefined;
}

/** A team as read at one instant: who is in it, who covers, who is on call. */
export interface Roster {
  team: Team;
  /** Members in rotation order, then managers; people who no longer fit the tier (disabled, moved) are left out. */
  members: Array<{ user: User; role: TeamRole }>;
  /** Overrides not ended at the instant read, by start. */
  overrides: Array<OncallOverride & { user: User | undefined }>;
  onCall: (OnCall & { user: User }) | null;
  nextHandover: number | null;
}

const isUniqueViolation = (e: unknown) => {
  const code = (e as { code?: string }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
};

const nameTaken = (name: string) => conflict('team_name_taken', `A team named "${name}" already exists`);

async function checkTier(s: Services, tier: string): Promise<void> {
  const matrix = await s.matrices.current();
  const known = matrix?.tiers.map((t) => t.key) ?? [];
  if (!known.includes(tier))
    throw invalid('unknown_tier', `Unknown tier ${tier}`, [{ path: 'tier', message: `expected one of: ${known.join(', ')}` }]);
}

function checkRotation(r: RotationSettings): void {
  const details: ErrorDetail[] = [];
  if (!HANDOVER_TIME.test(r.handoverTime))
    details.push({ path: 'rotation.handoverTime', message: 'expected HH:MM, 00:00 to 23:59' });
  if (!isTimeZone(r.timeZone))
    details.push({ path: 'rotation.timeZone', message: 'expected an IANA time zone, e.g. Europe/Paris' });
  if (details.length) throw invalid('invalid_rotation', 'The on-call rotation is not valid', details);
}

/**
 * Who may stand in a tier team: members (the rotation) are agents of that tier, managers or
 * administrators; team managers are managers or administrators. Disabled accounts reach nobody.
 */
function refusal(user: User | undefined, role: TeamRole, tier: string): string | undefined {
  if (!user) return 'no such user';
  if (user.disabled) return 'this user is disabled';
  const leads = user.role === 'manager' || user.role === 'admin';
  if (role === 'manager') return leads ? undefined : 'a team manager must have the manager or admin role';
  if (leads || (user.role === 'agent' && user.tiers.includes(tier))) return undefined;
  return `must be an agent of tier ${tier}, a manager or an administrator`;
}

async function checkMembers(s: Services, tier: string, members: TeamMember[], path = 'members'): Promise<void> {
  const users = new Map((await s.users.byIds(members.map((m) => m.userId))).map((u) => [u.id, u]));
  const seen = new Set<number>();
  const details: ErrorDetail[] = [];
  members.forEach((m, i) => {
    if (seen.has(m.userId)) details.push({ path: `${path}[${i}].userId`, message: 'listed twice' });
    seen.add(m.userId);
    const why = refusal(users.get(m.userId), m.role, tier);
    if (why) details.push({ path: `${path}[${i}].userId`, message: `user ${m.userId}: ${why}` });
  });
  if (details.length) throw invalid('invalid_team_member', `Some people cannot be in a team of tier ${tier}`, details);
}

export async function createTeam(s: Services, input: TeamInput): Promise<Team> {
  await checkTier(s, input.tier);
  const now = s.clock.now();
  const rotation: RotationSettings = { ...DEFAULT_ROTATION, startsAt: now, ...stripUndefined(input.rotation ?? {}) };
  checkRotation(rotation);
  try {
    return await s.store.db.transaction().execute(async (trx) => {
      if (await s.teams.byName(input.name, trx)) throw nameTaken(input.name);
      return s.teams.insert(trx, {
        name: input.name,
        tier: input.tier,
        email: input.email ?? null,
        chatWebhookUrl: input.chatWebhookUrl ?? null,
        rotation,
        createdAt: now,
      });
    });
  } catch (e) {
    throw isUniqueViolation(e) ? nameTaken(input.name) : e;
  }
}

export async function getTeam(s: Services, id: number, db?: Kysely<Database>): Promise<Team> {
  const team = await s.teams.byId(id, db);
  if (!team) throw notFound(`Team ${id}`);
  return team;
}

/** Changes a team; moving it to another tier checks its members against that tier. */
export async function changeTeam(s: Services, id: number, patch: TeamPatch): Promise<Team> {
  const before = await getTeam(s, id);
  if (patch.tier !== undefined && patch.tier !== before.tier) {
    await checkTier(s, patch.tier);
    const members = (await s.teams.members([id])).get(id) ?? [];
    await checkMembers(s, patch.tier, members);
  }
  const change: TeamChange = stripUndefined({
    name: patch.name,
    tier: patch.tier,
    email: patch.email,
    chatWebhookUrl: patch.chatWebhookUrl,
  });
  if (patch.rotation) {
    change.rotation = { ...before.rotation, ...stripUndefined(patch.rotation) };
    checkRotation(change.rotation);
  }
  try {
    return await s.store.db.transaction().execute(async (trx) => {
      if (patch.name !== undefined && patch.name !== before.name && (await s.teams.byName(patch.name, trx)))
        throw nameTaken(patch.name);
      const after = await s.teams.update(trx, id, change, s.clock.now());
      if (!after) throw notFound(`Team ${id}`);
      return after;
    });
  } catch (e) {
    throw isUniqueViolation(e) ? nameTaken(patch.name ?? before.name) : e;
  }
}

export async function deleteTeam(s: Services, id: number): Promise<void> {
  const gone = await s.store.db.transaction().execute((trx) => s.teams.delete(trx, id));
  if (!gone) throw notFound(`Team ${id}`);
}

/** Replaces the members; the order of role `member` entries is the rotation order. */
export async function setTeamMembers(s: Services, id: number, members: TeamMember[]): Promise<void> {
  const team = await getTeam(s, id);
  await checkMembers(s, team.tier, members);
  await s.store.db.transaction().execute(async (trx) => {
    await getTeam(s, id, trx);
    await s.teams.setMembers(trx, id, members);
  });
}

export interface OverrideInput {
  userId: number;
  startsAt: number;
  endsAt: number;
  reason?: string | null | undefined;
}

/** Puts someone on call for a window in place of the rotation. */
export async function addOverride(s: Services, actor: Actor, teamId: number, input: OverrideInput): Promise<OncallOverride> {
  const team = await getTeam(s, teamId);
  const now = s.clock.now();
  if (!(input.endsAt > input.startsAt))
    throw invalid('invalid_window', 'An override must end after it starts', [
      { path: 'endsAt', message: 'must be after startsAt' },
    ]);
  if (input.endsAt <= now)
    throw invalid('invalid_window', 'This override would already be over', [
      { path: 'endsAt', message: 'must be in the future' },
    ]);
  const [user] = await s.users.byIds([input.userId]);
  const why = refusal(user, 'member', team.tier);
  if (why)
    throw invalid('invalid_team_member', `User ${input.userId} cannot be on call for tier ${team.tier}`, [
      { path: 'userId', message: why },
    ]);
  return s.store.db.transaction().execute(async (trx) => {
    await getTeam(s, teamId, trx);
    return s.teams.insertOverride(trx, {
      teamId,
      userId: input.userId,
      startsAt: input.startsAt,
      endsAt: input.endsAt,
      reason: input.reason ?? null,
      createdBy: actor.id,
      createdAt: now,
    });
  });
}

export async function removeOverride(s: Services, teamId: number, overrideId: number): Promise<void> {
  await getTeam(s, teamId);
  const gone = await s.store.db.transaction().execute((trx) => s.teams.deleteOverride(trx, teamId, overrideId));
  if (!gone) throw notFound(`Override ${overrideId} of team ${teamId}`);
}

/** The teams (all, or those of one tier) as they stand at `at`, with who is on call. */
export async function rosters(s: Services, at: number, filter: { tier?: string; ids?: number[] } = {}): Promise<Roster[]> {
  const teams = filter.ids
    ? (await Promise.all(filter.ids.map((id) => s.teams.byId(id)))).filter((t): t is Team => t !== undefined)
    : await s.teams.list(filter.tier);
  const ids = teams.map((t) => t.id);
  const [members, overrides] = await Promise.all([s.teams.members(ids), s.teams.overrides(ids, at)]);
  const userIds = new Set<number>();
  for (const list of members.values()) for (const m of list) userIds.add(m.userId);
  for (const list of overrides.values()) for (const o of list) userIds.add(o.userId);
  const users = new Map((await s.users.byIds([...userIds])).map((u) => [u.id, u]));
  // Someone disabled, or moved off the tier since they were listed, is skipped rather than called.
  const fit = (id: number, role: TeamRole, tier: string) => {
    const u = users.get(id);
    return u && refusal(u, role, tier) === undefined ? u : undefined;
  };

  return teams.map((team) => {
    const people = (members.get(team.id) ?? []).flatMap((m) => {
      const user = fit(m.userId, m.role, team.tier);
      return user ? [{ user, role: m.role }] : [];
    });
    // Members first, in rotation order, then managers.
    people.sort((a, b) => (a.role === b.role ? 0 : a.role === 'member' ? -1 : 1));
    const teamOverrides = overrides.get(team.id) ?? [];
    const rotation = { ...team.rotation, members: people.filter((p) => p.role === 'member').map((p) => p.user.id) };
    const onCall = onCallAt(
      rotation,
      teamOverrides.filter((o) => fit(o.userId, 'member', team.tier)),
      at,
    );
    return {
      team,
      members: people,
      overrides: teamOverrides.map((o) => ({ ...o, user: users.get(o.userId) })),
      onCall: onCall && { ...onCall, user: users.get(onCall.userId)! },
      nextHandover: rotation.members.length ? nextHandover(rotation, at) : null,
    };
  });
}

export async function roster(s: Services, id: number, at: number): Promise<Roster> {
  const [found] = await rosters(s, at, { ids: [id] });
  if (!found) throw notFound(`Team ${id}`);
  return found;
}

/** Per tier of the current matrix, lowest first, its teams and who is on call in each. */
export async function onCallByTier(s: Services, at: number): Promise<Array<{ tier: string; teams: Roster[] }>> {
  const [matrix, all] = await Promise.all([s.matrices.current(), rosters(s, at)]);
  const tiers = matrix?.tiers.map((t) => t.key) ?? [];
  // A team left on a tier the matrix no longer has is still shown, after the matrix's tiers.
  for (const r of all) if (!tiers.includes(r.team.tier)) tiers.push(r.team.tier);
  return tiers.map((tier) => ({ tier, teams: all.filter((r) => r.team.tier === tier) }));
}

function stripUndefined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}
