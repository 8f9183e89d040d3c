import { explain, type NextEscalation } from '../domain/escalation.js';
import type { Incident } from '../domain/incident.js';
import { can, type Actor } from '../domain/policy.js';
import type { Services } from './context.js';
import { currentConfidentialRules, matrixVersion } from './matrix.service.js';

export interface UpcomingEscalation {
  incident: Incident;
  next: NextEscalation;
}

/** Incidents that will escalate (or notify their managers) before `until`, soonest first. */
export async function upcomingEscalations(s: Services, actor: Actor, until: number, limit: number): Promise<UpcomingEscalation[]> {
  // A wake-up is never later than the escalation it precedes, so the schedule gives a superset.
  const ids = await s.escalations.upcoming(s.store.db, until, limit * 4);
  const [histories, incidents, rules] = await Promise.all([
    s.escalations.eventsOf(s.store.db, ids),
    s.incidents.getMany(ids),
    currentConfidentialRules(s),
  ]);
  const now = s.clock.now();
  const out: UpcomingEscalation[] = [];
  for (const id of ids) {
    const incident = incidents.get(id);
    if (!incident || !can(actor, 'incident.read', incident, rules)) continue;
    const next = explain(incident, histories.get(id)!, await matrixVersion(s, incident.matrixVersion), now).nextEscalation;
    if (next && next.at <= until) out.push({ incident, next });
  }
  return out.sort((a, b) => a.next.at - b.next.at).slice(0, limit);
}
