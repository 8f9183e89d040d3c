import type { Incident } from '../domain/incident.js';
import type { RenderingCache } from '../services/incident.service.js';
import { incidentOut } from './schemas.js';

/**
 * The JSON of recently listed incidents, by id and seq (a row never changes under the same seq), so
 * a polled queue page re-reads and re-serializes only the incidents that changed. Bounded: the
 * entries stored longest ago go first. Only what every reader of the incident may see is kept: the
 * incident's own fields, never anything that depends on who asks.
 */
export class IncidentJsonCache implements RenderingCache<string> {
  private readonly entries = new Map<number, { seq: number; json: string }>();

  constructor(private readonly capacity = 20_000) {}

  get(id: number, seq: number): string | undefined {
    const entry = this.entries.get(id);
    return entry?.seq === seq ? entry.json : undefined;
  }

  render(incident: Incident): string {
    const json = JSON.stringify(incidentOut(incident));
    const current = this.entries.get(incident.id);
    // Two readers racing can fetch different versions; the newer one stays.
    if (!current || current.seq <= incident.seq) {
      this.entries.delete(incident.id);
      if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(incident.id, { seq: incident.seq, json });
    }
    return json;
  }

  get size(): number {
    return this.entries.size;
  }
}
