import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { TestServer, TestUser } from '../helpers/server.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

/** A fixture file as text, and as a fresh object to edit. */
export const fixtureText = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const fixture = (name: string): any => JSON.parse(fixtureText(name));

const WRITTEN = [
  'incidents',
  'incident_events',
  'outbox',
  'escalation_schedule',
  'users',
  'inbound_messages',
  'intake_correlations',
] as const;

/** Row counts of every table an inbound message can write to. */
export async function counts(t: TestServer): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of WRITTEN) out[table] = await t.count(table);
  return out;
}

/** Runs a refused delivery and asserts it stored nothing, not even half-way. */
export async function storesNothing<T>(t: TestServer, run: () => Promise<T>): Promise<T> {
  const before = await counts(t);
  const result = await run();
  expect(await counts(t)).toEqual(before);
  return result;
}

export interface CreatedIntegration {
  id: number;
  key: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export async function newIntegration(t: TestServer, admin: TestUser, body: Record<string, unknown>): Promise<CreatedIntegration> {
  const res = await t.api('POST', '/api/v1/integrations', { as: admin, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id: res.body.id as number, key: res.body.key as string, body: res.body };
}

/** Incidents opened by an integration's own account, oldest first. */
export async function incidentsOf(t: TestServer, integrationId: number) {
  const row = await t.palier.services.intake.integration(integrationId);
  const rows = await t.palier.services.store.db
    .selectFrom('incidents')
    .select('id')
    .where('requester_id', '=', row!.system_user_id)
    .orderBy('id')
    .execute();
  return Promise.all(rows.map(async (r) => (await t.palier.services.incidents.get(Number(r.id)))!));
}

export const timeline = (t: TestServer, id: number) => t.palier.services.incidents.events(id);

/** The text of a comment event. */
export const commentOf = (event: { data: unknown }) => String((event.data as { body?: unknown }).body);
