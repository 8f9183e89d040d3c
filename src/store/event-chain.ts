import { createHash } from 'node:crypto';
import type { IncidentEvent } from '../domain/incident.js';

/** The "previous hash" of an incident's first event. */
export const GENESIS = '';

/**
 * JSON with object keys sorted at every level, so the same data always serialises to the same
 * bytes whatever order its keys were built in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/**
 * The hash of one event, chained to the hash of the event before it in the same incident: changing,
 * removing or inserting any event breaks every link from there on. Hex SHA-256 over the canonical
 * serialisation of [incident, seq, kind, actor, at, data, from tier, to tier, previous hash].
 */
export function eventHash(e: IncidentEvent, previous: string): string {
  const canonical = `[${e.incidentId},${e.seq},${JSON.stringify(e.kind)},${e.actorId ?? 'null'},${e.at},${canonicalJson(e.data)},${JSON.stringify(e.fromTier)},${JSON.stringify(e.toTier)},${JSON.stringify(previous)}]`;
  return createHash('sha256').update(canonical).digest('hex');
}
