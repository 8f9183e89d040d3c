import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { conflict, invalid, notFound } from '../domain/errors.js';
import type { IncidentEventKind } from '../domain/incident.js';
import type { Services } from '../services/context.js';
import { NOTIFIED_EVENTS } from '../store/escalation.repository.js';
import type { Database } from '../store/schema.js';
import type { Selectable } from 'kysely';
import type { WebhookGuard } from './ssrf-guard.js';

export const CHANNEL_KINDS = ['email', 'webhook', 'slack', 'teams'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];
export const CHANNEL_EVENTS = [...NOTIFIED_EVENTS] as [IncidentEventKind, ...IncidentEventKind[]];

export interface Channel {
  id: number;
  name: string;
  kind: ChannelKind;
  target: string;
  events: IncidentEventKind[];
  categories: string[] | null;
  tiers: string[] | null;
  locale: 'fr' | 'en';
  enabled: boolean;
  hasSecret: boolean;
  createdAt: number;
}

export type ChannelRow = Selectable<Database['notification_channels']>;

export function channelOf(r: ChannelRow): Channel {
  return {
    id: Number(r.id),
    name: r.name,
    kind: r.kind as ChannelKind,
    target: r.target,
    events: JSON.parse(r.events) as IncidentEventKind[],
    categories: r.categories ? (JSON.parse(r.categories) as string[]) : null,
    tiers: r.tiers ? (JSON.parse(r.tiers) as string[]) : null,
    locale: r.locale === 'en' ? 'en' : 'fr',
    enabled: r.enabled === 1,
    hasSecret: r.secret !== null,
    createdAt: Number(r.created_at),
  };
}

export interface ChannelInput {
  name: string;
  kind: ChannelKind;
  target: string;
  events: IncidentEventKind[];
  categories?: string[] | null | undefined;
  tiers?: string[] | null | undefined;
  locale?: 'fr' | 'en' | undefined;
  enabled?: boolean | undefined;
}

const addresses = z.array(z.email().max(320)).min(1).max(50);

/** Checks a target for its kind: addresses for e-mail, a reachable public URL for the others. */
async function checkedTarget(guard: WebhookGuard, kind: ChannelKind, target: string): Promise<string> {
  if (kind === 'email') {
    const list = target
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean);
    const parsed = addresses.safeParse(list);
    if (!parsed.success)
      throw invalid('invalid_target', 'target must be a comma-separated list of e-mail addresses', [
        { path: 'target', message: 'not an address list' },
      ]);
    return parsed.data.map((a) => a.toLowerCase()).join(', ');
  }
  await guard.check(target);
  return target;
}

const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;
const json = (v: string[] | null | undefined) => (v && v.length ? JSON.stringify(v) : null);

export async function listChannels(s: Services): Promise<Channel[]> {
  const rows = await s.store.db
    .selectFrom('notification_channels')
    .selectAll()
    .where('deleted_at', 'is', null)
    .orderBy('id')
    .execute();
  return rows.map(channelOf);
}

export async function getChannel(s: Services, id: number): Promise<ChannelRow> {
  const row = await s.store.db
    .selectFrom('notification_channels')
    .selectAll()
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!row) throw notFound(`Notification channel ${id}`);
  return row;
}

/** Creates a channel; a generic webhook's signing secret is returned here only. */
export async function createChannel(
  s: Services,
  guard: WebhookGuard,
  input: ChannelInput,
): Promise<{ channel: Channel; secret: string | null }> {
  const target = await checkedTarget(guard, input.kind, input.target);
  const secret = input.kind === 'webhook' ? newSecret() : null;
  const row = await s.store.db
    .insertInto('notification_channels')
    .values({
      name: input.name,
      kind: input.kind,
      target,
      events: JSON.stringify([...new Set(input.events)]),
      categories: json(input.categories),
      tiers: json(input.tiers),
      locale: input.locale ?? 'fr',
      secret,
      enabled: input.enabled === false ? 0 : 1,
      created_at: s.clock.now(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { channel: channelOf(row), secret };
}

export async function updateChannel(
  s: Services,
  guard: WebhookGuard,
  id: number,
  change: Partial<Omit<ChannelInput, 'kind'>>,
): Promise<Channel> {
  const current = channelOf(await getChannel(s, id));
  const target = change.target !== undefined ? await checkedTarget(guard, current.kind, change.target) : undefined;
  const row = await s.store.db
    .updateTable('notification_channels')
    .set({
      ...(change.name !== undefined ? { name: change.name } : {}),
      ...(target !== undefined ? { target } : {}),
      ...(change.events !== undefined ? { events: JSON.stringify([...new Set(change.events)]) } : {}),
      ...(change.categories !== undefined ? { categories: json(change.categories) } : {}),
      ...(change.tiers !== undefined ? { tiers: json(change.tiers) } : {}),
      ...(change.locale !== undefined ? { locale: change.locale } : {}),
      ...(change.enabled !== undefined ? { enabled: change.enabled ? 1 : 0 } : {}),
    })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw notFound(`Notification channel ${id}`);
  return channelOf(row);
}

/** Removes a channel from routing; its past deliveries stay, pending ones are dropped at send time. */
export async function deleteChannel(s: Services, id: number): Promise<void> {
  await getChannel(s, id);
  await s.store.db
    .updateTable('notification_channels')
    .set({ deleted_at: s.clock.now(), enabled: 0 })
    .where('id', '=', id)
    .execute();
}

export async function rotateChannelSecret(s: Services, id: number): Promise<{ channel: Channel; secret: string }> {
  const row = await getChannel(s, id);
  if (row.kind !== 'webhook') throw conflict('no_secret', 'Only generic webhooks are signed with a secret');
  const secret = newSecret();
  const updated = await s.store.db
    .updateTable('notification_channels')
    .set({ secret })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { channel: channelOf(updated), secret };
}
