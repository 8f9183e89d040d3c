import { z } from 'zod';
import { invalid } from '../../domain/errors.js';
import { PRIORITIES } from '../../domain/priority.js';
import type { PeriodFilter } from '../../store/insight.repository.js';

const instant = z.iso.datetime({ offset: true }).or(z.iso.date());
const list = z
  .string()
  .max(2000)
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

/** The period and filters shared by exports, reports and simulations: incidents opened in [from, to). */
export const periodQuery = z.object({
  from: instant.describe('Start of the period (ISO 8601 date or instant), included'),
  to: instant.describe('End of the period, excluded'),
  category: list.optional().describe('Comma-separated category keys'),
  tier: list
    .optional()
    .describe("Comma-separated tier keys: the incidents' current tier, and the tiers shown in per-tier figures"),
  priority: list
    .refine((ps) => ps.every((p) => (PRIORITIES as readonly string[]).includes(p)), {
      message: `expected ${PRIORITIES.join(', ')}`,
    })
    .optional()
    .describe('Comma-separated priorities'),
});

export function periodFilter(q: {
  from: string;
  to: string;
  category?: string[] | undefined;
  tier?: string[] | undefined;
  priority?: string[] | undefined;
}): PeriodFilter {
  const from = Date.parse(q.from);
  const to = Date.parse(q.to);
  if (!(to > from))
    throw invalid('invalid_period', 'The period must end after it starts', [
      { path: 'querystring.to', message: 'must be after from' },
    ]);
  return { from, to, category: q.category, tier: q.tier, priority: q.priority as PeriodFilter['priority'] };
}
