import { forbidden, invalid } from '../domain/errors.js';
import { validateMatrix, type MatrixDefinition } from '../domain/matrix.js';
import { can, type Actor } from '../domain/policy.js';
import { emptyOutcome, replayUnder, tallyByCell, type CellOutcome } from '../domain/simulation.js';
import { InsightRepository, type PeriodFilter } from '../store/insight.repository.js';
import type { Services } from './context.js';
import { withinScope } from './matrix.service.js';

/** Replaying is CPU work in the request: larger periods are refused rather than left to run for minutes. */
export const MAX_SIMULATED_INCIDENTS = 100_000;
const PAGE = 500;

export interface SimulationCell {
  category: string;
  tier: string;
  actual: CellOutcome;
  simulated: CellOutcome;
  difference: CellOutcome;
}

/**
 * Replays the incidents opened in the period under a draft matrix and compares, cell by cell, the
 * escalations and missed targets it would have produced with those recorded. Reads only.
 */
export async function simulate(s: Services, actor: Actor, draft: MatrixDefinition, filter: PeriodFilter) {
  if (!can(actor, 'simulation.run')) throw forbidden('Only managers and administrators can run simulations');
  const matrix = validateMatrix(draft);
  const until = s.clock.now();
  const repo = new InsightRepository(s.store.db, s.store.engine);
  // Replays only the incidents the actor may see: confidential categories they are not named for stay out.
  const scoped = await withinScope(s, actor, filter);
  const actual = new Map<string, CellOutcome>();
  const simulated = new Map<string, CellOutcome>();
  let incidents = 0;
  let notReplayable = 0;
  let skippedCommands = 0;
  for (let after = 0; ;) {
    const page = await repo.incidentsPage(scoped, after, PAGE);
    if (page.length === 0) break;
    incidents += page.length;
    if (incidents > MAX_SIMULATED_INCIDENTS)
      throw invalid(
        'period_too_large',
        `More than ${MAX_SIMULATED_INCIDENTS} incidents in the period: narrow it, or filter by category or priority`,
      );
    const histories = await s.escalations.eventsOf(
      s.store.db,
      page.map((i) => i.id),
    );
    for (const incident of page) {
      const recorded = histories.get(incident.id) ?? [];
      tallyByCell(incident.category, recorded, actual);
      const replay = replayUnder(recorded, matrix, until);
      if (!replay) {
        notReplayable++;
        continue;
      }
      skippedCommands += replay.skipped;
      tallyByCell(incident.category, replay.events, simulated);
    }
    after = page.at(-1)!.id;
    if (page.length < PAGE) break;
  }

  const tiers = matrix.tiers.map((t) => t.key);
  const categories = matrix.categories.map((c) => c.key);
  const rank = (keys: string[], key: string) => (keys.includes(key) ? keys.indexOf(key) : keys.length);
  const cells: SimulationCell[] = [...new Set([...actual.keys(), ...simulated.keys()])]
    .map((key) => {
      const [category, tier] = key.split('\u0000') as [string, string];
      const a = actual.get(key) ?? emptyOutcome();
      const b = simulated.get(key) ?? emptyOutcome();
      return { category, tier, actual: a, simulated: b, difference: minus(b, a) };
    })
    .sort((x, y) => rank(categories, x.category) - rank(categories, y.category) || rank(tiers, x.tier) - rank(tiers, y.tier));
  const total = (pick: (c: SimulationCell) => CellOutcome) => cells.map(pick).reduce(plus, emptyOutcome());
  return {
    until: new Date(until).toISOString(),
    incidents,
    replayed: incidents - notReplayable,
    notReplayable,
    skippedCommands,
    cells,
    totals: { actual: total((c) => c.actual), simulated: total((c) => c.simulated), difference: total((c) => c.difference) },
  };
}

const combine =
  (f: (x: number, y: number) => number) =>
  (a: CellOutcome, b: CellOutcome): CellOutcome => ({
    byHand: f(a.byHand, b.byHand),
    missedDeadline: f(a.missedDeadline, b.missedDeadline),
    otherAutomatic: f(a.otherAutomatic, b.otherAutomatic),
    acknowledgeBreaches: f(a.acknowledgeBreaches, b.acknowledgeBreaches),
    resolveBreaches: f(a.resolveBreaches, b.resolveBreaches),
    categoryClockBreaches: f(a.categoryClockBreaches, b.categoryClockBreaches),
  });
const plus = combine((x, y) => x + y);
const minus = combine((x, y) => x - y);
