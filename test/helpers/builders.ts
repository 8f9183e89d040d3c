import { DomainError } from '../../src/domain/errors.js';
import {
  apply,
  decide,
  decideCreate,
  numberEvents,
  type Incident,
  type IncidentCommand,
  type NewIncident,
} from '../../src/domain/incident.js';
import { validateMatrix, type MatrixDefinition } from '../../src/domain/matrix.js';
import type { PriorityTable } from '../../src/domain/priority.js';
import { SEED_MATRIX } from '../../src/domain/seed-matrix.js';

export type VersionedMatrix = MatrixDefinition & { priorityTable: PriorityTable; version: number };

/** A deep copy of the seed matrix, safe to edit. */
export function seedCopy(): MatrixDefinition {
  return structuredClone(SEED_MATRIX);
}

/** A validated matrix with a version number, as the incident use cases receive it. */
export function versioned(definition: MatrixDefinition = seedCopy(), version = 1): VersionedMatrix {
  return { ...validateMatrix(definition), version };
}

export function newIncident(overrides: Partial<NewIncident> = {}): NewIncident {
  return {
    title: 'VPN down',
    description: 'Since 9:00 nobody on floor 2 can connect',
    category: 'network-downtime',
    impact: 2,
    urgency: 1,
    requesterId: 7,
    ...overrides,
  };
}

/** A created incident (seq 1) and its creation event. */
export function created(matrix: VersionedMatrix, input: NewIncident = newIncident(), at = 1_000, id = 1) {
  const events = numberEvents({ id, seq: 0 }, [decideCreate(input, matrix)], at, input.requesterId);
  const incident = events.reduce<Incident | undefined>((s, e) => apply(s, e), undefined)!;
  return { incident, events };
}

/** decide + apply: the incident after a command and the events it produced. */
export function step(incident: Incident, command: IncidentCommand, matrix: MatrixDefinition, at: number, actorId = 42) {
  const events = numberEvents(incident, decide(incident, command, actorId, matrix), at, actorId);
  return { incident: events.reduce(apply, incident), events };
}

/** Runs `fn` and returns the DomainError it throws; fails if it throws anything else or nothing. */
export function domainErrorOf(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw new Error(`expected a DomainError, got ${String(error)}`);
  }
  throw new Error('expected a DomainError, but nothing was thrown');
}
