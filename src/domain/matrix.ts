import { z } from 'zod';
import { ALWAYS, calendarSchema, defaultBusinessCalendar } from './calendar.js';
import { parseDuration } from './duration.js';
import { invalid, type ErrorDetail } from './errors.js';
import { DEFAULT_PRIORITY_TABLE, PRIORITIES, type Priority, type PriorityTable } from './priority.js';

/** Text in both languages Palier speaks. */
export const localizedSchema = z
  .object({ fr: z.string().trim().min(1).max(2000), en: z.string().trim().min(1).max(2000) })
  .strict();
export type Localized = z.infer<typeof localizedSchema>;

const keySchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'letters, digits, "-" and "_" only');

const prioritySchema = z.enum(PRIORITIES);
const priorityRow = z.tuple([prioritySchema, prioritySchema, prioritySchema]);

export const tierSchema = z
  .object({ key: keySchema, name: localizedSchema, description: localizedSchema })
  .strict();
const fraction = z.number().gt(0).lt(1);

/** A clock that runs beside the tier clocks for every incident of a category, e.g. a legal deadline. */
export const categoryClockSchema = z
  .object({
    key: keySchema,
    name: localizedSchema,
    duration: z.string(),
    calendar: z.string().optional().describe('Calendar key; default 24x7'),
    warnAt: fraction.optional(),
  })
  .strict();

/**
 * Who sees the incidents of a confidential category besides administrators, the requester, the
 * assignee and the agents of the tier holding the incident (src/domain/policy.ts).
 */
export const confidentialitySchema = z
  .object({
    tiers: z.array(z.string().max(64)).max(10).default([]).describe('Agents of these tiers see every incident of the category'),
    users: z.array(z.number().int().positive()).max(200).default([]).describe('Staff members (user ids) who see every incident of the category'),
  })
  .strict();
export type Confidentiality = z.infer<typeof confidentialitySchema>;

export const categorySchema = z
  .object({
    key: keySchema,
    name: localizedSchema,
    description: localizedSchema.optional(),
    /** `true` (from earlier matrices) is stored as `{ tiers: [], users: [] }`: only those working the incident see it. */
    confidential: z.union([z.boolean(), confidentialitySchema]).optional(),
    clocks: z.array(categoryClockSchema).max(10).optional(),
  })
  .strict();
export const cellSchema = z
  .object({
    category: z.string(),
    tier: z.string(),
    actions: z.array(localizedSchema).max(50),
    /** Indexes of actions that must be done, or skipped with a reason, before a hand escalation. */
    mandatory: z.array(z.number().int().min(0)).max(50).optional(),
    /** Escalate automatically when an incident of this cell is reopened more than this many times. */
    reopenLimit: z.number().int().min(0).max(100).optional(),
  })
  .strict();
export const slaTargetSchema = z
  .object({
    tier: z.string(),
    priority: prioritySchema,
    /** A category-specific target overrides the general one of its tier and priority. */
    category: z.string().optional(),
    acknowledge: z.string(),
    resolve: z.string(),
    calendar: z.string().optional().describe('Calendar key; default 24x7 for P1, business otherwise'),
  })
  .strict();

export const namedCalendarSchema = z
  .object({ key: keySchema, name: localizedSchema.optional(), calendar: calendarSchema })
  .strict();

export const MISSED_ACTIONS = ['escalate', 'notify', 'both'] as const;
export type MissedAction = (typeof MISSED_ACTIONS)[number];

/**
 * What happens when a tier misses a target: functional escalation to the next tier, hierarchical
 * escalation (the tier's managers are notified), or both. The top tier can only notify, and repeats
 * the notification at an interval, a bounded number of times.
 */
export const escalationPolicySchema = z
  .object({
    warnAt: fraction.optional(),
    rules: z
      .array(
        z
          .object({
            tier: z.string(),
            priority: prioritySchema.optional(),
            acknowledge: z.enum(MISSED_ACTIONS).optional(),
            resolve: z.enum(MISSED_ACTIONS).optional(),
          })
          .strict(),
      )
      .max(200)
      .optional(),
    repeatEvery: z.string().optional(),
    maxRepeats: z.number().int().min(0).max(20).optional(),
    /** Hand-backs between the same two tiers after which the manager is told. */
    pingPongLimit: z.number().int().min(1).max(20).optional(),
  })
  .strict();
export type EscalationPolicy = z.infer<typeof escalationPolicySchema>;

/** The editable content of a matrix, without its version metadata. */
export const matrixDefinitionSchema = z
  .object({
    tiers: z.array(tierSchema).min(1).max(10),
    categories: z.array(categorySchema).min(1).max(100),
    cells: z.array(cellSchema).max(1000),
    sla: z.array(slaTargetSchema).max(1000),
    priorityTable: z.tuple([priorityRow, priorityRow, priorityRow]).optional(),
    calendars: z.array(namedCalendarSchema).max(20).optional(),
    escalation: escalationPolicySchema.optional(),
  })
  .strict();

export type Tier = z.infer<typeof tierSchema>;
export type Category = z.infer<typeof categorySchema>;
export type Cell = z.infer<typeof cellSchema>;
export type SlaTarget = z.infer<typeof slaTargetSchema>;
export type CategoryClock = z.infer<typeof categoryClockSchema>;
export type NamedCalendar = z.infer<typeof namedCalendarSchema>;

/** Calendars every matrix has unless it redefines them. */
export const DEFAULT_CALENDARS: NamedCalendar[] = [
  { key: '24x7', name: { fr: '24 h/24, 7 j/7', en: '24x7' }, calendar: ALWAYS },
  { key: 'business', name: { fr: 'Heures ouvrées (Paris)', en: 'Business hours (Paris)' }, calendar: defaultBusinessCalendar() },
];
export type MatrixDefinition = z.infer<typeof matrixDefinitionSchema>;

/** A stored, immutable version of the matrix. */
export interface Matrix extends MatrixDefinition {
  version: number;
  priorityTable: PriorityTable;
  createdAt: string;
  createdBy: number | null;
  comment?: string | null;
}

/**
 * Checks what a schema cannot: references between parts and completeness. A matrix must name
 * every category x tier cell and every tier x priority SLA target exactly once, so that any incident
 * always has a checklist and deadlines.
 */
export function validateMatrix(input: MatrixDefinition): MatrixDefinition & { priorityTable: PriorityTable } {
  const problems: ErrorDetail[] = [];
  const tierKeys = uniqueKeys(input.tiers, 'tiers', problems);
  const categoryKeys = uniqueKeys(input.categories, 'categories', problems);

  const seenCells = new Set<string>();
  input.cells.forEach((cell, i) => {
    if (!categoryKeys.has(cell.category))
      problems.push({ path: `cells[${i}].category`, message: `unknown category "${cell.category}"` });
    if (!tierKeys.has(cell.tier)) problems.push({ path: `cells[${i}].tier`, message: `unknown tier "${cell.tier}"` });
    const id = `${cell.category}/${cell.tier}`;
    if (seenCells.has(id)) problems.push({ path: `cells[${i}]`, message: `duplicate cell for ${cell.category} x ${cell.tier}` });
    seenCells.add(id);
  });
  for (const category of categoryKeys)
    for (const tier of tierKeys)
      if (!seenCells.has(`${category}/${tier}`))
        problems.push({ path: 'cells', message: `missing cell for category "${category}" at tier "${tier}"` });

  const calendarKeys = new Set([...DEFAULT_CALENDARS, ...(input.calendars ?? [])].map((c) => c.key));
  uniqueKeys(input.calendars ?? [], 'calendars', problems);
  const checkCalendar = (key: string | undefined, path: string) => {
    if (key !== undefined && !calendarKeys.has(key)) problems.push({ path, message: `unknown calendar "${key}"` });
  };
  const checkDuration = (text: string | undefined, path: string) => {
    if (text === undefined) return;
    const ms = parseDuration(text);
    if (ms === undefined || ms <= 0)
      problems.push({ path, message: `"${text}" is not a positive ISO 8601 duration such as PT15M or P1DT4H` });
  };

  input.cells.forEach((cell, i) => {
    (cell.mandatory ?? []).forEach((index, j) => {
      if (index >= cell.actions.length)
        problems.push({ path: `cells[${i}].mandatory[${j}]`, message: `the cell has no action #${index}` });
    });
  });
  input.categories.forEach((category, i) => {
    const confidential = category.confidential;
    if (typeof confidential === 'object') {
      const seenTiers = new Set<string>();
      confidential.tiers.forEach((tier, j) => {
        const path = `categories[${i}].confidential.tiers[${j}]`;
        if (!tierKeys.has(tier)) problems.push({ path, message: `unknown tier "${tier}"` });
        else if (seenTiers.has(tier)) problems.push({ path, message: `tier "${tier}" is named twice` });
        seenTiers.add(tier);
      });
      const seenUsers = new Set<number>();
      confidential.users.forEach((user, j) => {
        if (seenUsers.has(user)) problems.push({ path: `categories[${i}].confidential.users[${j}]`, message: `user ${user} is named twice` });
        seenUsers.add(user);
      });
    }
    uniqueKeys(category.clocks ?? [], `categories[${i}].clocks`, problems);
    (category.clocks ?? []).forEach((clock, j) => {
      checkDuration(clock.duration, `categories[${i}].clocks[${j}].duration`);
      checkCalendar(clock.calendar, `categories[${i}].clocks[${j}].calendar`);
    });
  });
  (input.escalation?.rules ?? []).forEach((rule, i) => {
    if (!tierKeys.has(rule.tier)) problems.push({ path: `escalation.rules[${i}].tier`, message: `unknown tier "${rule.tier}"` });
  });
  checkDuration(input.escalation?.repeatEvery, 'escalation.repeatEvery');

  const seenSla = new Set<string>();
  input.sla.forEach((target, i) => {
    if (!tierKeys.has(target.tier)) problems.push({ path: `sla[${i}].tier`, message: `unknown tier "${target.tier}"` });
    if (target.category !== undefined && !categoryKeys.has(target.category))
      problems.push({ path: `sla[${i}].category`, message: `unknown category "${target.category}"` });
    checkCalendar(target.calendar, `sla[${i}].calendar`);
    const id = `${target.tier}/${target.priority}${target.category ? `/${target.category}` : ''}`;
    if (seenSla.has(id)) problems.push({ path: `sla[${i}]`, message: `duplicate SLA target for ${id.replaceAll('/', ' ')}` });
    seenSla.add(id);
    checkDuration(target.acknowledge, `sla[${i}].acknowledge`);
    checkDuration(target.resolve, `sla[${i}].resolve`);
  });
  for (const tier of tierKeys)
    for (const priority of PRIORITIES)
      if (!seenSla.has(`${tier}/${priority}`))
        problems.push({ path: 'sla', message: `missing SLA target for tier "${tier}" priority ${priority}` });

  if (problems.length > 0) throw invalid('invalid_matrix', `The matrix has ${problems.length} problem(s)`, problems);
  // Only the definition's own fields are kept: a stored version never carries another's metadata.
  const { tiers, cells, sla, calendars, escalation } = input;
  const categories = input.categories.map((c) => (c.confidential === true ? { ...c, confidential: { tiers: [], users: [] } } : c));
  return {
    tiers,
    categories,
    cells,
    sla,
    priorityTable: input.priorityTable ?? DEFAULT_PRIORITY_TABLE,
    ...(calendars ? { calendars } : {}),
    ...(escalation ? { escalation } : {}),
  };
}

function uniqueKeys(items: Array<{ key: string }>, path: string, problems: ErrorDetail[]): Set<string> {
  const keys = new Set<string>();
  items.forEach((item, i) => {
    if (keys.has(item.key)) problems.push({ path: `${path}[${i}].key`, message: `duplicate key "${item.key}"` });
    keys.add(item.key);
  });
  return keys;
}

export function tierIndex(matrix: MatrixDefinition, tier: string): number {
  return matrix.tiers.findIndex((t) => t.key === tier);
}

export function lowestTier(matrix: MatrixDefinition): string {
  return matrix.tiers[0]!.key;
}

export function nextTier(matrix: MatrixDefinition, tier: string): string | undefined {
  const i = tierIndex(matrix, tier);
  return i < 0 ? undefined : matrix.tiers[i + 1]?.key;
}

export function previousTier(matrix: MatrixDefinition, tier: string): string | undefined {
  const i = tierIndex(matrix, tier);
  return i <= 0 ? undefined : matrix.tiers[i - 1]?.key;
}

export function actionsFor(matrix: MatrixDefinition, category: string, tier: string): Localized[] {
  return matrix.cells.find((c) => c.category === category && c.tier === tier)?.actions ?? [];
}

/** The SLA target of a tier for a priority, a category-specific one first. */
export function slaTargetFor(matrix: MatrixDefinition, tier: string, priority: Priority, category?: string): SlaTarget | undefined {
  return (
    matrix.sla.find((s) => s.tier === tier && s.priority === priority && s.category === category && category !== undefined) ??
    matrix.sla.find((s) => s.tier === tier && s.priority === priority && s.category === undefined)
  );
}

export function calendarFor(matrix: MatrixDefinition, key: string | undefined, priority?: Priority) {
  const wanted = key ?? (priority === 'P1' ? '24x7' : 'business');
  const all = [...(matrix.calendars ?? []), ...DEFAULT_CALENDARS];
  return (all.find((c) => c.key === wanted) ?? DEFAULT_CALENDARS[0]!).calendar;
}

export function cellOf(matrix: MatrixDefinition, category: string, tier: string): Cell | undefined {
  return matrix.cells.find((c) => c.category === category && c.tier === tier);
}

/** The ids of the users a matrix names in its confidential categories (their existence is checked on save). */
export function namedUsers(matrix: MatrixDefinition): Array<{ path: string; user: number }> {
  return matrix.categories.flatMap((c, i) =>
    typeof c.confidential === 'object' ? c.confidential.users.map((user, j) => ({ path: `categories[${i}].confidential.users[${j}]`, user })) : [],
  );
}

export function hasCategory(matrix: MatrixDefinition, category: string): boolean {
  return matrix.categories.some((c) => c.key === category);
}
