import { expect } from 'vitest';
import type { ApiResponse, TestServer } from './server.js';

/** Text that only a leaked stack trace or internal path would put in a response. */
const LEAK = /(\.(ts|js|mjs|cjs):\d+|node_modules|\/src\/|\bstack\b|\n\s+at\s|\bat\s+\S+\s+\([^)]*:\d+:\d+\))/i;

/**
 * Asserts an error response: the status, a JSON body `{error: {code, message, details?}}` and
 * nothing that looks like a stack trace or a server path.
 */
export function expectError(
  res: ApiResponse,
  status: number,
  code: string,
): { code: string; message: string; details?: Array<{ path: string; message: string }> } {
  const summary = `${res.status} ${typeof res.body === 'string' ? res.body : JSON.stringify(res.body)}`;
  expect(res.status, summary).toBe(status);
  expect(res.headers.get('content-type') ?? '', summary).toMatch(/^application\/json/);
  expect(res.body, summary).toBeTypeOf('object');
  expect(Object.keys(res.body), summary).toEqual(['error']);
  const error = res.body.error;
  expect(error.code, summary).toBe(code);
  expect(error.message, summary).toBeTypeOf('string');
  expect(error.message.length, summary).toBeGreaterThan(0);
  for (const key of Object.keys(error)) expect(['code', 'message', 'details'], summary).toContain(key);
  if (error.details !== undefined) {
    expect(Array.isArray(error.details), summary).toBe(true);
    for (const d of error.details) {
      expect(d.path, summary).toBeTypeOf('string');
      expect(d.message, summary).toBeTypeOf('string');
    }
  }
  expect(JSON.stringify(res.body), summary).not.toMatch(LEAK);
  expect(error.message, summary).not.toMatch(LEAK);
  expect(error.message, summary).not.toMatch(/\n\s*at\s/);
  return error;
}

export interface Snapshot {
  counts: Record<string, number>;
  incident?: unknown;
  timeline?: unknown;
}

const TABLES = ['incidents', 'incident_events', 'matrix_versions', 'users'] as const;

/** Row counts of the tables a request could write to, plus one incident's row and events. */
export async function snapshot(t: TestServer, incidentId?: number): Promise<Snapshot> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) counts[table] = await t.count(table);
  if (incidentId === undefined) return { counts };
  return {
    counts,
    incident: await t.palier.services.incidents.get(incidentId),
    timeline: await t.palier.services.incidents.events(incidentId),
  };
}

/** Runs a refused request and asserts it wrote nothing: same row counts, same incident, same timeline. */
export async function withoutWrites<T>(t: TestServer, run: () => Promise<T>, incidentId?: number): Promise<T> {
  const before = await snapshot(t, incidentId);
  const result = await run();
  expect(await snapshot(t, incidentId)).toEqual(before);
  return result;
}
