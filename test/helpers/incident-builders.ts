/**
 * Builders for pure escalation tests: an incident is a timeline of events built by hand, at chosen
 * instants (epoch ms), with decideCreate + apply and then decide + apply per command. Nothing here
 * reads the system clock or touches a store.
 */
import { DomainError } from '../../src/domain/errors.js';
import { decideDue, explain, followUps, nextWakeUp, pendingThresholds } from '../../src/domain/escalation.js';
import {
  apply,
  decide,
  decideCreate,
  numberEvents,
  type Incident,
  type IncidentCommand,
  type IncidentEvent,
  type NewIncident,
  type PendingEvent,
} from '../../src/domain/incident.js';
import type { MatrixDefinition } from '../../src/domain/matrix.js';
import { seedCopy, versioned, type VersionedMatrix } from './builders.js';
import type { Level, Priority } from '../../src/domain/priority.js';

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

export { domainErrorOf, type VersionedMatrix } from './builders.js';

/** The seed matrix, deep-copied, edited by `edit`, validated and given a version number. */
export function matrixOf(edit: (m: MatrixDefinition) => void = () => {}, version = 1): VersionedMatrix {
  const definition = seedCopy();
  edit(definition);
  return versioned(definition, version);
}

/** Impact and urgency that give each priority with the default ITIL table. */
export const LEVELS_OF: Record<Priority, { impact: Level; urgency: Level }> = {
  P1: { impact: 1, urgency: 1 },
  P2: { impact: 1, urgency: 2 },
  P3: { impact: 2, urgency: 2 },
  P4: { impact: 2, urgency: 3 },
  P5: { impact: 3, urgency: 3 },
};

export function incidentInput(priority: Priority, category = 'network-downtime'): NewIncident {
  return { title: 'VPN down', description: 'Nobody on floor 2 can connect', category, requesterId: 7, ...LEVELS_OF[priority] };
}

/** Numbers decided events after the incident's last one, as the services do. */
export function numbered(
  incident: Incident,
  pending: readonly PendingEvent[],
  at: number,
  actorId: number | null,
): IncidentEvent[] {
  return numberEvents(incident, pending, at, actorId);
}

/**
 * One incident's timeline under one matrix version. `run` applies a hand command (and its
 * follow-ups, as the incident service does); `due` applies what the worker would at an instant.
 * Both return the events they appended. Time never goes backwards.
 */
export class Timeline {
  readonly events: IncidentEvent[] = [];
  incident: Incident;

  constructor(
    readonly matrix: VersionedMatrix,
    input: NewIncident,
    readonly createdAt: number,
    id = 1,
  ) {
    const created: IncidentEvent = {
      ...decideCreate(input, matrix),
      incidentId: id,
      seq: 1,
      at: createdAt,
      actorId: input.requesterId,
    };
    this.incident = apply(undefined, created);
    this.events.push(created);
  }

  static of(matrix: VersionedMatrix, priority: Priority, at: number, category = 'network-downtime'): Timeline {
    return new Timeline(matrix, incidentInput(priority, category), at);
  }

  get lastAt(): number {
    return this.events.at(-1)!.at;
  }

  private append(events: IncidentEvent[]): IncidentEvent[] {
    for (const e of events) {
      this.incident = apply(this.incident, e);
      this.events.push(e);
    }
    return events;
  }

  private checkTime(at: number) {
    if (at < this.lastAt)
      throw new Error(`time goes backwards: ${new Date(at).toISOString()} < ${new Date(this.lastAt).toISOString()}`);
  }

  /** decide + apply at `at`, then the follow-ups of the change (numbered after it, actor null). */
  run(command: IncidentCommand, at: number, actorId = 42): IncidentEvent[] {
    this.checkTime(at);
    const out = this.append(numbered(this.incident, decide(this.incident, command, actorId, this.matrix), at, actorId));
    out.push(...this.append(numbered(this.incident, followUps(this.incident, this.events, this.matrix), at, null)));
    return out;
  }

  /** Like `run`, but a refused command (DomainError) changes nothing and returns null. */
  tryRun(command: IncidentCommand, at: number, actorId = 42): IncidentEvent[] | null {
    try {
      return this.run(command, at, actorId);
    } catch (error) {
      if (error instanceof DomainError) return null;
      throw error;
    }
  }

  /** What the worker appends at `now`: decideDue + apply. */
  due(now: number, matrix: MatrixDefinition = this.matrix): IncidentEvent[] {
    this.checkTime(now);
    return this.append(decideDue(this.incident, this.events, matrix, now, 'test-worker'));
  }

  thresholds(now: number, matrix: MatrixDefinition = this.matrix) {
    return pendingThresholds(this.incident, this.events, matrix, now);
  }

  wakeUp(now: number, matrix: MatrixDefinition = this.matrix) {
    return nextWakeUp(this.incident, this.events, matrix, now);
  }

  explain(now: number, matrix: MatrixDefinition = this.matrix) {
    return explain(this.incident, this.events, matrix, now);
  }

  /** Events of one kind about one clock (timer events carry it in data.clock). */
  about(clock: string, kind?: IncidentEvent['kind']): IncidentEvent[] {
    return this.events.filter((e) => (kind === undefined || e.kind === kind) && (e.data as { clock?: string }).clock === clock);
  }

  ofKind(kind: IncidentEvent['kind']): IncidentEvent[] {
    return this.events.filter((e) => e.kind === kind);
  }
}

/** Runs `fn` and returns the DomainError it throws; fails if it throws anything else or nothing. */
