import { z } from 'zod';
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
export const categorySchema = z
  .object({
    key: keySchema,
    name: localizedSchema,
    description: localizedSchema.optional(),
    /** Visible only to staff, never to other requesters; issue-level access is refined by the policy. */
    confidential: z.boolean().optional(),
  })
  .strict();
export const cellSchema = z
  .object({ category: z.string(), tier: z.string(), actions: z.array(localizedSchema).max(50) })
  .strict();
export const slaTargetSchema = z
  .object({ tier: z.string(), priority: prioritySchema, acknowledge: z.string(), resolve: z.string() })
  .strict();

/** The editable content of a matrix, without its version metadata. */
export const matrixDefinitionSchema = z
  .object({
    tiers: z.array(tierSchema).min(1).max(10),
    categories: z.array(categorySchema).min(1).max(100),
    cells: z.array(cellSchema).max(1000),
    sla: z.array(slaTargetSchema).max(1000),
    priorityTable: z.tuple([priorityRow, priorityRow, priorityRow]).optional(),
  })
  .strict();

export type Tier = z.infer<typeof tierSchema>;
export type Category = z.infer<typeof categorySchema>;
export type Cell = z.infer<typeof cellSchema>;
export type SlaTarget = z.infer<typeof slaTargetSchema>;
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

  const seenSla = new Set<string>();
  input.sla.forEach((target, i) => {
    if (!tierKeys.has(target.tier)) problems.push({ path: `sla[${i}].tier`, message: `unknown tier "${target.tier}"` });
    const id = `${target.tier}/${target.priority}`;
    if (seenSla.has(id)) problems.push({ path: `sla[${i}]`, message: `duplicate SLA target for ${target.tier} ${target.priority}` });
    seenSla.add(id);
    for (const field of ['acknowledge', 'resolve'] as const) {
      const ms = parseDuration(target[field]);
      if (ms === undefined || ms <= 0)
        problems.push({
          path: `sla[${i}].${field}`,
          message: `"${target[field]}" is not a positive ISO 8601 duration such as PT15M or P1DT4H`,
        });
    }
  });
  for (const tier of tierKeys)
    for (const priority of PRIORITIES)
      if (!seenSla.has(`${tier}/${priority}`))
        problems.push({ path: 'sla', message: `missing SLA target for tier "${tier}" priority ${priority}` });

  if (problems.length > 0) throw invalid('invalid_matrix', `The matrix has ${problems.length} problem(s)`, problems);
  return { ...input, priorityTable: input.priorityTable ?? DEFAULT_PRIORITY_TABLE };
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

export function slaFor(matrix: MatrixDefinition, tier: string, priority: Priority) {
  const target = matrix.sla.find((s) => s.tier === tier && s.priority === priority);
  if (!target) return undefined;
  return { acknowledgeMs: parseDuration(target.acknowledge)!, resolveMs: parseDuration(target.resolve)! };
}

export function hasCategory(matrix: MatrixDefinition, category: string): boolean {
  return matrix.categories.some((c) => c.key === category);
}
