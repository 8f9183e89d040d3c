import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HANDOVER_TIME, isTimeZone, ROTATION_PERIODS } from '../../domain/oncall.js';
import type { Services } from '../../services/context.js';
import {
  addOverride,
  changeTeam,
  createTeam,
  deleteTeam,
  onCallByTier,
  removeOverride,
  roster,
  rosters,
  setTeamMembers,
  type Roster,
} from '../../services/team.service.js';
import { TEAM_ROLES, type OncallOverride } from '../../store/team.repository.js';
import type { User } from '../../store/user.repository.js';
import { actorOf } from '../auth.js';
import { errorResponses, idParams, iso } from '../schemas.js';

const instant = z.iso.datetime({ offset: true });

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
/** Chat webhooks carry incident details: https only, plain http for a loopback address (a local relay, tests). */
const webhookUrl = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .refine((u) => {
    const url = new URL(u);
    return url.protocol === 'https:' || LOOPBACK.has(url.hostname);
  }, 'expected an https URL');

const rotationInput = z
  .object({
    startsAt: instant.optional().describe('first shift starts here (default: when the team is created)'),
    period: z
      .enum(ROTATION_PERIODS)
      .optional()
      .describe('hand-over every day, or every week on the weekday of startsAt (default weekly)'),
    handoverTime: z
      .string()
      .regex(HANDOVER_TIME, 'expected HH:MM')
      .optional()
      .describe('local time of the hand-over (default 09:00)'),
    timeZone: z
      .string()
      .max(64)
      .refine(isTimeZone, 'expected an IANA time zone, e.g. Europe/Paris')
      .optional()
      .describe('default Europe/Paris'),
  })
  .strict();

const teamFields = {
  name: z.string().trim().min(1).max(200),
  tier: z.string().min(1).max(64).describe('tier key of the matrix'),
  email: z.email().max(320).nullable().optional().describe("the team's shared address"),
  chatWebhookUrl: webhookUrl.nullable().optional().describe('Slack or Microsoft Teams incoming webhook'),
  rotation: rotationInput.optional(),
};

const person = z.object({ userId: z.number().int(), name: z.string(), email: z.string() });
const personOf = (u: User) => ({ userId: u.id, name: u.displayName, email: u.email });

const onCallSchema = person
  .extend({
    source: z.enum(['rotation', 'override']),
    until: z.string().nullable().describe('when someone else takes over; null: nobody else is due'),
  })
  .meta({ id: 'OnCall' });

const overrideSchema = z
  .object({
    id: z.number().int(),
    userId: z.number().int(),
    name: z.string().nullable(),
    startsAt: z.string(),
    endsAt: z.string(),
    reason: z.string().nullable(),
  })
  .meta({ id: 'OncallOverride' });

const overrideOut = (o: OncallOverride, user: User | undefined): z.infer<typeof overrideSchema> => ({
  id: o.id,
  userId: o.userId,
  name: user?.displayName ?? null,
  startsAt: iso(o.startsAt)!,
  endsAt: iso(o.endsAt)!,
  reason: o.reason,
});

const teamSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    tier: z.string(),
    email: z.string().nullable(),
    chatWebhookUrl: z.string().nullable(),
    rotation: z.object({
      startsAt: z.string(),
      period: z.enum(ROTATION_PERIODS),
      handoverTime: z.string(),
      timeZone: z.string(),
    }),
    members: z.array(person.extend({ role: z.enum(TEAM_ROLES) })).describe('members in rotation order, then managers'),
    overrides: z.array(overrideSchema).describe('overrides not over yet'),
    onCall: onCallSchema.nullable(),
    nextHandover: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Team' });

function teamOut(r: Roster): z.infer<typeof teamSchema> {
  const { team } = r;
  return {
    id: team.id,
    name: team.name,
    tier: team.tier,
    email: team.email,
    chatWebhookUrl: team.chatWebhookUrl,
    rotation: { ...team.rotation, startsAt: iso(team.rotation.startsAt)! },
    members: r.members.map((m) => ({ ...personOf(m.user), role: m.role })),
    overrides: r.overrides.map((o) => overrideOut(o, o.user)),
    onCall: r.onCall && { ...personOf(r.onCall.user), source: r.onCall.source, until: iso(r.onCall.until) },
    nextHandover: iso(r.nextHandover),
    createdAt: iso(team.createdAt)!,
    updatedAt: iso(team.updatedAt)!,
  };
}

const rotationOf = (r: z.infer<typeof rotationInput> | undefined) =>
  r && { ...r, startsAt: r.startsAt === undefined ? undefined : Date.parse(r.startsAt) };

const overrideParams = z
  .object({
    id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    overrideId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  })
  .strict();

/** Tier teams, their members and on-call rotation (administrators), and who is on call (staff). */
export function teamRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    const manage = { permission: 'team.manage' as const };
    const read = { permission: 'team.read' as const };
    const now = () => services.clock.now();

    app.get(
      '/api/v1/teams',
      {
        config: read,
        schema: {
          tags: ['teams'],
          summary: 'Tier teams, with their members and who is on call now',
          querystring: z.object({ tier: z.string().min(1).max(64).optional() }).strict(),
          response: { 200: z.object({ items: z.array(teamSchema) }), ...errorResponses },
        },
      },
      async (request) => ({ items: (await rosters(services, now(), { tier: request.query.tier })).map(teamOut) }),
    );

    app.post(
      '/api/v1/teams',
      {
        config: manage,
        schema: {
          tags: ['teams'],
          summary: 'Create a tier team (members are set with PUT /teams/{id}/members)',
          body: z.object(teamFields).strict(),
          response: { 201: teamSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const { rotation, ...rest } = request.body;
        const team = await createTeam(services, { ...rest, rotation: rotationOf(rotation) });
        return reply.status(201).send(teamOut(await roster(services, team.id, now())));
      },
    );

    app.get(
      '/api/v1/teams/:id',
      {
        config: read,
        schema: { tags: ['teams'], summary: 'One tier team', params: idParams, response: { 200: teamSchema, ...errorResponses } },
      },
      async (request) => teamOut(await roster(services, request.params.id, now())),
    );

    app.patch(
      '/api/v1/teams/:id',
      {
        config: manage,
        schema: {
          tags: ['teams'],
          summary: 'Change a tier team; moving it to another tier checks its members against that tier',
          params: idParams,
          body: z
            .object({ ...teamFields, name: teamFields.name.optional(), tier: teamFields.tier.optional() })
            .strict()
            .refine((b) => Object.keys(b).length > 0, 'nothing to change'),
          response: { 200: teamSchema, ...errorResponses },
        },
      },
      async (request) => {
        const { rotation, ...rest } = request.body;
        await changeTeam(services, request.params.id, { ...rest, rotation: rotationOf(rotation) });
        return teamOut(await roster(services, request.params.id, now()));
      },
    );

    app.delete(
      '/api/v1/teams/:id',
      {
        config: manage,
        schema: {
          tags: ['teams'],
          summary: 'Delete a tier team with its members and overrides',
          params: idParams,
          response: { 204: z.null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await deleteTeam(services, request.params.id);
        return reply.status(204).send(null);
      },
    );

    app.put(
      '/api/v1/teams/:id/members',
      {
        config: manage,
        schema: {
          tags: ['teams'],
          summary: 'Set the members and managers; the order of members is the rotation order',
          description:
            'Members are agents of the tier, managers or administrators; team managers have the manager or admin role. The list replaces the previous one.',
          params: idParams,
          body: z
            .array(
              z
                .object({
                  userId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
                  role: z.enum(TEAM_ROLES).default('member'),
                })
                .strict(),
            )
            .max(200),
          response: { 200: teamSchema, ...errorResponses },
        },
      },
      async (request) => {
        await setTeamMembers(services, request.params.id, request.body);
        return teamOut(await roster(services, request.params.id, now()));
      },
    );

    app.post(
      '/api/v1/teams/:id/overrides',
      {
        config: manage,
        schema: {
          tags: ['teams'],
          summary: 'Put someone on call in place of the rotation during [startsAt, endsAt)',
          description: 'Where overrides overlap, the one that starts last wins.',
          params: idParams,
          body: z
            .object({
              userId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
              startsAt: instant,
              endsAt: instant,
              reason: z.string().trim().max(500).nullable().optional(),
            })
            .strict(),
          response: { 201: overrideSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const b = request.body;
        const created = await addOverride(services, actorOf(request), request.params.id, {
          userId: b.userId,
          startsAt: Date.parse(b.startsAt),
          endsAt: Date.parse(b.endsAt),
          reason: b.reason,
        });
        const [user] = await services.users.byIds([created.userId]);
        return reply.status(201).send(overrideOut(created, user));
      },
    );

    app.delete(
      '/api/v1/teams/:id/overrides/:overrideId',
      {
        config: manage,
        schema: {
          tags: ['teams'],
          summary: 'Remove an override',
          params: overrideParams,
          response: { 204: z.null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await removeOverride(services, request.params.id, request.params.overrideId);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/api/v1/oncall',
      {
        config: read,
        schema: {
          tags: ['teams'],
          summary: 'Who is on call at each tier, now or at an instant',
          querystring: z.object({ at: instant.optional().describe('default: now') }).strict(),
          response: {
            200: z.object({
              at: z.string(),
              tiers: z.array(
                z.object({
                  tier: z.string(),
                  teams: z.array(
                    z.object({
                      id: z.number().int(),
                      name: z.string(),
                      onCall: onCallSchema.omit({ until: true }).nullable(),
                      until: z.string().nullable(),
                    }),
                  ),
                }),
              ),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const at = request.query.at === undefined ? now() : Date.parse(request.query.at);
        const tiers = await onCallByTier(services, at);
        return {
          at: iso(at)!,
          tiers: tiers.map(({ tier, teams }) => ({
            tier,
            teams: teams.map((r) => ({
              id: r.team.id,
              name: r.team.name,
              onCall: r.onCall && { ...personOf(r.onCall.user), source: r.onCall.source },
              until: iso(r.onCall?.until ?? null),
            })),
          })),
        };
      },
    );
  };
}
