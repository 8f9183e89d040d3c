import type { Kysely, Selectable } from 'kysely';
import type { RotationPeriod } from '../domain/oncall.js';
import type { Database, OncallOverridesTable, TeamsTable } from './schema.js';

export const TEAM_ROLES = ['member', 'manager'] as const;
export type TeamRole = (typeof TEAM_ROLES)[number];

export interface RotationSettings {
  startsAt: number;
  period: RotationPeriod;
  handoverTime: string;
  timeZone: string;
}

export interface Team {
  id: number;
  name: string;
  tier: string;
  email: string | null;
  chatWebhookUrl: string | null;
  rotation: RotationSettings;
  createdAt: number;
  updatedAt: number;
}

export interface TeamMember {
  userId: number;
  role: TeamRole;
}

export interface OncallOverride {
  id: number;
  teamId: number;
  userId: number;
  startsAt: number;
  endsAt: number;
  reason: string | null;
  createdBy: number | null;
  createdAt: number;
}

export type NewTeam = Omit<Team, 'id' | 'updatedAt'>;
export type TeamChange = Partial<Pick<Team, 'name' | 'tier' | 'email' | 'chatWebhookUrl' | 'rotation'>>;

/** Tier teams, their members in rotation order, and on-call overrides. Writes take the transaction. */
export class TeamRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(db: Kysely<Database>, team: NewTeam): Promise<Team> {
    const row = await db
      .insertInto('teams')
      .values({
        name: team.name,
        tier: team.tier,
        email: team.email,
        chat_webhook_url: team.chatWebhookUrl,
        rotation_starts_at: team.rotation.startsAt,
        rotation_period: team.rotation.period,
        rotation_handover_time: team.rotation.handoverTime,
        rotation_time_zone: team.rotation.timeZone,
        created_at: team.createdAt,
        updated_at: team.createdAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return teamOf(row);
  }

  async update(db: Kysely<Database>, id: number, change: TeamChange, at: number): Promise<Team | undefined> {
    const row = await db
      .updateTable('teams')
      .set({
        ...(change.name !== undefined ? { name: change.name } : {}),
        ...(change.tier !== undefined ? { tier: change.tier } : {}),
        ...(change.email !== undefined ? { email: change.email } : {}),
        ...(change.chatWebhookUrl !== undefined ? { chat_webhook_url: change.chatWebhookUrl } : {}),
        ...(change.rotation !== undefined
          ? {
              rotation_starts_at: change.rotation.startsAt,
              rotation_period: change.rotation.period,
              rotation_handover_time: change.rotation.handoverTime,
              rotation_time_zone: change.rotation.timeZone,
            }
          : {}),
        updated_at: at,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && teamOf(row);
  }

  /** Deletes the team with its members and overrides; false if there was no such team. */
  async delete(db: Kysely<Database>, id: number): Promise<boolean> {
    await db.deleteFrom('oncall_overrides').where('team_id', '=', id).execute();
    await db.deleteFrom('team_members').where('team_id', '=', id).execute();
    const result = await db.deleteFrom('teams').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async byId(id: number, db: Kysely<Database> = this.db): Promise<Team | undefined> {
    const row = await db.selectFrom('teams').selectAll().where('id', '=', id).executeTakeFirst();
    return row && teamOf(row);
  }

  async byName(name: string, db: Kysely<Database> = this.db): Promise<Team | undefined> {
    const row = await db.selectFrom('teams').selectAll().where('name', '=', name).executeTakeFirst();
    return row && teamOf(row);
  }

  /** Teams by name, all of them or those of one tier. */
  async list(tier?: string): Promise<Team[]> {
    let q = this.db.selectFrom('teams').selectAll().orderBy('name').orderBy('id');
    if (tier !== undefined) q = q.where('tier', '=', tier);
    return (await q.execute()).map(teamOf);
  }

  /** Members and managers of each team, in their order. */
  async members(teamIds: number[], db: Kysely<Database> = this.db): Promise<Map<number, TeamMember[]>> {
    const out = new Map<number, TeamMember[]>(teamIds.map((id) => [id, []]));
    if (teamIds.length === 0) return out;
    const rows = await db
      .selectFrom('team_members')
      .selectAll()
      .where('team_id', 'in', teamIds)
      .orderBy('team_id')
      .orderBy('position')
      .execute();
    for (const r of rows) out.get(Number(r.team_id))?.push({ userId: Number(r.user_id), role: r.role as TeamRole });
    return out;
  }

  /** Replaces the whole member list; its order is the rotation order. */
  async setMembers(db: Kysely<Database>, teamId: number, members: TeamMember[]): Promise<void> {
    await db.deleteFrom('team_members').where('team_id', '=', teamId).execute();
    if (members.length === 0) return;
    await db
      .insertInto('team_members')
      .values(members.map((m, position) => ({ team_id: teamId, user_id: m.userId, role: m.role, position })))
      .execute();
  }

  /** Overrides of these teams that have not ended at `from`, by start. */
  async overrides(teamIds: number[], from: number, db: Kysely<Database> = this.db): Promise<Map<number, OncallOverride[]>> {
    const out = new Map<number, OncallOverride[]>(teamIds.map((id) => [id, []]));
    if (teamIds.length === 0) return out;
    const rows = await db
      .selectFrom('oncall_overrides')
      .selectAll()
      .where('team_id', 'in', teamIds)
      .where('ends_at', '>', from)
      .orderBy('starts_at')
      .orderBy('id')
      .execute();
    for (const r of rows) out.get(Number(r.team_id))?.push(overrideOf(r));
    return out;
  }

  async insertOverride(db: Kysely<Database>, o: Omit<OncallOverride, 'id'>): Promise<OncallOverride> {
    const row = await db
      .insertInto('oncall_overrides')
      .values({
        team_id: o.teamId,
        user_id: o.userId,
        starts_at: o.startsAt,
        ends_at: o.endsAt,
        reason: o.reason,
        created_by: o.createdBy,
        created_at: o.createdAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return overrideOf(row);
  }

  async deleteOverride(db: Kysely<Database>, teamId: number, id: number): Promise<boolean> {
    const result = await db.deleteFrom('oncall_overrides').where('id', '=', id).where('team_id', '=', teamId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

function teamOf(r: Selectable<TeamsTable>): Team {
  return {
    id: Number(r.id),
    name: r.name,
    tier: r.tier,
    email: r.email,
    chatWebhookUrl: r.chat_webhook_url,
    rotation: {
      startsAt: Number(r.rotation_starts_at),
      period: r.rotation_period as RotationPeriod,
      handoverTime: r.rotation_handover_time,
      timeZone: r.rotation_time_zone,
    },
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

function overrideOf(r: Selectable<OncallOverridesTable>): OncallOverride {
  return {
    id: Number(r.id),
    teamId: Number(r.team_id),
    userId: Number(r.user_id),
    startsAt: Number(r.starts_at),
    endsAt: Number(r.ends_at),
    reason: r.reason,
    createdBy: r.created_by == null ? null : Number(r.created_by),
    createdAt: Number(r.created_at),
  };
}
