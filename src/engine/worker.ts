import { hostname } from 'node:os';
import { apply, type Incident, type IncidentEvent } from '../domain/incident.js';
import { decideDue, wakeUpOf } from '../domain/escalation.js';
import { incidentFigures, type IncidentFigures } from '../domain/incident-figures.js';
import { saveFigures } from '../store/figures.repository.js';
import type { Services } from '../services/context.js';
import { matrixVersion } from '../services/matrix.service.js';

export interface WorkerOptions {
  /** Incidents claimed per transaction. */
  batchSize?: number;
  /** Pause between polls when nothing is due. */
  pollMs?: number;
  /** Recorded in timer events, to tell which process applied them. */
  name?: string;
  log?: { error(obj: unknown, msg?: string): void };
}

/**
 * The escalation worker: claims incidents whose wake-up is due and applies, in one transaction per
 * batch, every threshold that fell due (warnings, missed targets, escalations, reminders) with its
 * events and outbox rows, then schedules the next wake-up. A crash rolls the batch back whole, so a
 * restarted worker applies it again; recorded thresholds are never applied twice.
 */
export class EscalationWorker {
  readonly name: string;
  private readonly batchSize: number;
  private readonly pollMs: number;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly s: Services,
    private readonly options: WorkerOptions = {},
  ) {
    this.name = options.name ?? `${hostname()}:${process.pid}`;
    this.batchSize = options.batchSize ?? 200;
    this.pollMs = options.pollMs ?? 250;
  }

  /** Applies one batch of due incidents as of `now`; returns how many incidents it looked at. */
  async runOnce(now: number = this.s.clock.now()): Promise<number> {
    // A plain read first: an idle poll must not take SQLite's write lock from the API.
    const next = await this.s.escalations.nextDue(this.s.store.db);
    if (next === undefined || next > now) return 0;
    return this.s.store.db.transaction().execute(async (trx) => {
      const claimed = await this.s.escalations.claimDue(trx, this.s.incidents, now, this.batchSize);
      if (claimed.length === 0) return 0;
      const histories = await this.s.escalations.eventsOf(
        trx,
        claimed.map((c) => c.incident.id),
      );
      const appended: IncidentEvent[] = [];
      const wakeUps: Array<{ incidentId: number; dueAt: number | null; orderAt?: number }> = [];
      const figures: IncidentFigures[] = [];
      for (const { incident } of claimed) {
        const matrix = await matrixVersion(this.s, incident.matrixVersion, trx);
        const history = histories.get(incident.id)!;
        const events = decideDue(incident, history, matrix, now, this.name);
        let next: Incident = incident;
        if (events.length > 0) {
          next = events.reduce<Incident>((state, e) => apply(state, e), incident);
          if (!(await this.s.incidents.update(trx, next, incident.seq, incident)))
            throw new Error(`incident ${incident.id} changed while claimed`);
          appended.push(...events);
          figures.push(incidentFigures(next, [...history, ...events], matrix, now));
        }
        const due = wakeUpOf(next, [...history, ...events], matrix, now);
        // Never reschedule into the past: a threshold the guard left over is retried a second later.
        wakeUps.push(
          due === null
            ? { incidentId: incident.id, dueAt: null }
            : { incidentId: incident.id, dueAt: Math.max(due.dueAt, now + (events.length ? 0 : 1000)), orderAt: due.orderAt },
        );
      }
      await this.s.incidents.appendEvents(trx, appended);
      await this.s.escalations.setWakeUps(trx, wakeUps);
      await this.s.escalations.enqueue(trx, appended, now);
      await saveFigures(trx, figures);
      return claimed.length;
    });
  }

  /** Runs batches until nothing is due as of `now`. */
  async drain(now: number = this.s.clock.now()): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.runOnce(now);
      total += n;
      if (n < this.batchSize) return total;
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        let n = 0;
        try {
          n = await this.runOnce();
        } catch (error) {
          this.options.log?.error({ err: error }, 'escalation worker batch failed; retrying');
          await this.sleep(1000);
          continue;
        }
        if (n < this.batchSize) await this.sleep(this.pollMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
