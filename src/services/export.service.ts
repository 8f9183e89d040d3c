import { forbidden } from '../domain/errors.js';
import type { Incident, IncidentEvent } from '../domain/incident.js';
import { can, type Actor } from '../domain/policy.js';
import { InsightRepository, type PeriodFilter } from '../store/insight.repository.js';
import type { Services } from './context.js';
import { withinScope } from './matrix.service.js';

const PAGE = 1000;

/** The incidents of a period that the actor may export, page by page (never the whole period in memory). */
export async function* exportedIncidents(s: Services, actor: Actor, filter: PeriodFilter): AsyncGenerator<Incident[]> {
  if (!can(actor, 'incident.export')) throw forbidden('Only staff can export incidents');
  const repo = new InsightRepository(s.store.db, s.store.engine);
  const scoped = await withinScope(s, actor, filter);
  for (let after = 0; ;) {
    const page = await repo.incidentsPage(scoped, after, PAGE);
    if (page.length === 0) return;
    yield page;
    after = page.at(-1)!.id;
    if (page.length < PAGE) return;
  }
}

/** The events of those incidents, in incident then sequence order. */
export async function* exportedEvents(s: Services, actor: Actor, filter: PeriodFilter): AsyncGenerator<IncidentEvent[]> {
  for await (const page of exportedIncidents(s, actor, filter)) {
    const events = await s.escalations.eventsOf(
      s.store.db,
      page.map((i) => i.id),
    );
    yield page.flatMap((i) => events.get(i.id) ?? []);
  }
}
