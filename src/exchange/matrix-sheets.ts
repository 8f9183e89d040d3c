/**
 * The matrix as spreadsheet tables, one per kind of part: tiers, categories, cells, SLA targets and
 * settings. CSV puts them in one table with a `kind` column; XLSX gives each its own sheet. Every
 * column is plain text a person can edit; what has no column of its own (a category's clocks, a
 * cell's mandatory actions, the calendars and the escalation policy) is JSON in `extra`.
 *
 * Reading back names the row and column of every problem, so a spreadsheet user can find it.
 */
import { z } from 'zod';
import { invalid, issuePath, type ErrorDetail } from '../domain/errors.js';
import {
  categoryClockSchema,
  escalationPolicySchema,
  matrixDefinitionSchema,
  namedCalendarSchema,
  validateMatrix,
  type Category,
  type Localized,
  type MatrixDefinition,
} from '../domain/matrix.js';

export const SHEET_KINDS = ['tier', 'category', 'cell', 'sla', 'setting'] as const;
export type SheetKind = (typeof SHEET_KINDS)[number];

/** The columns of each kind, in the order people see them. */
export const SHEET_COLUMNS: Record<SheetKind, readonly string[]> = {
  tier: ['key', 'name_fr', 'name_en', 'description_fr', 'description_en'],
  category: ['key', 'name_fr', 'name_en', 'description_fr', 'description_en', 'confidential', 'extra'],
  cell: ['category', 'tier', 'actions_fr', 'actions_en', 'extra'],
  sla: ['tier', 'priority', 'category', 'acknowledge', 'resolve', 'calendar'],
  setting: ['key', 'extra'],
};

/** Sheet names of the XLSX workbook, by kind. */
export const SHEET_NAMES: Record<SheetKind, string> = {
  tier: 'Tiers',
  category: 'Categories',
  cell: 'Cells',
  sla: 'SLA',
  setting: 'Settings',
};

/** All columns of the single CSV table: the kind, then the union of the kinds' columns. */
export const CSV_COLUMNS: readonly string[] = ['kind', ...new Set(SHEET_KINDS.flatMap((k) => SHEET_COLUMNS[k]))];

export type SheetRow = Record<string, string>;

/** A row as read from a file, with where it came from: `row 7` or `sheet "Cells", row 3`. */
export interface SourceRow {
  kind: SheetKind;
  values: SheetRow;
  where: string;
}

/** One action per line in the actions columns; an action spanning lines goes to `extra` instead. */
const ACTION_SEPARATOR = '\n';

/**
 * A category's confidentiality in one cell: empty (not set), `no`, `yes` (nobody named beyond those
 * working the incident), or the tiers and users named, e.g. `L2, L3, user:7`.
 */
function confidentialText(c: Category['confidential']): string {
  if (c === undefined) return '';
  if (typeof c === 'boolean') return c ? 'yes' : 'no';
  const named = [...c.tiers, ...c.users.map((u) => `user:${u}`)];
  return named.length ? named.join(', ') : 'yes';
}

/** The cell read back; a string is what is wrong with it. */
function confidentialOf(cell: string): Category['confidential'] | string {
  const value = cell.trim();
  if (!value) return undefined;
  const flag = value.toLowerCase();
  if (['yes', 'true', '1'].includes(flag)) return true;
  if (['no', 'false', '0'].includes(flag)) return false;
  const tiers: string[] = [];
  const users: number[] = [];
  for (const item of value.split(/[\s,;]+/).filter(Boolean)) {
    const user = /^user:(\d{1,9})$/i.exec(item);
    if (user) users.push(Number(user[1]));
    else if (/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(item)) tiers.push(item);
    else return `"${item}" is neither a tier key nor user:ID; expected yes, no, or names such as "L2, L3, user:7"`;
  }
  return { tiers, users };
}

export function matrixToRows(m: MatrixDefinition): Array<{ kind: SheetKind; values: SheetRow }> {
  const out: Array<{ kind: SheetKind; values: SheetRow }> = [];
  const json = (value: Record<string, unknown>) => {
    const kept = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
    return Object.keys(kept).length ? JSON.stringify(kept) : '';
  };
  for (const t of m.tiers)
    out.push({
      kind: 'tier',
      values: {
        key: t.key,
        name_fr: t.name.fr,
        name_en: t.name.en,
        description_fr: t.description.fr,
        description_en: t.description.en,
      },
    });
  for (const c of m.categories)
    out.push({
      kind: 'category',
      values: {
        key: c.key,
        name_fr: c.name.fr,
        name_en: c.name.en,
        description_fr: c.description?.fr ?? '',
        description_en: c.description?.en ?? '',
        confidential: confidentialText(c.confidential),
        extra: json({ clocks: c.clocks }),
      },
    });
  for (const cell of m.cells) {
    const multiLine = cell.actions.some((a) => a.fr.includes('\n') || a.en.includes('\n'));
    out.push({
      kind: 'cell',
      values: {
        category: cell.category,
        tier: cell.tier,
        actions_fr: multiLine ? '' : cell.actions.map((a) => a.fr).join(ACTION_SEPARATOR),
        actions_en: multiLine ? '' : cell.actions.map((a) => a.en).join(ACTION_SEPARATOR),
        extra: json({ mandatory: cell.mandatory, reopenLimit: cell.reopenLimit, actions: multiLine ? cell.actions : undefined }),
      },
    });
  }
  for (const s of m.sla)
    out.push({
      kind: 'sla',
      values: {
        tier: s.tier,
        priority: s.priority,
        category: s.category ?? '',
        acknowledge: s.acknowledge,
        resolve: s.resolve,
        calendar: s.calendar ?? '',
      },
    });
  const settings: Array<[string, unknown]> = [
    ['priorityTable', m.priorityTable],
    ['calendars', m.calendars],
    ['escalation', m.escalation],
  ];
  for (const [key, value] of settings)
    if (value !== undefined) out.push({ kind: 'setting', values: { key, extra: JSON.stringify(value) } });
  return out;
}

const categoryExtra = z.object({ clocks: z.array(categoryClockSchema).optional() }).strict();
const cellExtra = z
  .object({
    mandatory: z.array(z.number().int().min(0)).optional(),
    reopenLimit: z.number().int().min(0).optional(),
    actions: z.array(z.object({ fr: z.string(), en: z.string() }).strict()).optional(),
  })
  .strict();
const SETTINGS = {
  priorityTable: matrixDefinitionSchema.shape.priorityTable,
  calendars: z.array(namedCalendarSchema),
  escalation: escalationPolicySchema,
} as const;

/**
 * Builds a matrix definition from rows read from a CSV or XLSX file and validates it whole.
 * Throws one `invalid_matrix` error listing every problem, each located by row and column.
 */
export function matrixFromRows(rows: readonly SourceRow[]): MatrixDefinition {
  const problems: ErrorDetail[] = [];
  const at = (row: SourceRow, column: string | undefined, message: string) =>
    problems.push({ path: column ? `${row.where}, column "${column}"` : row.where, message });
  // Where each part of the definition came from, to locate the problems found by the schema.
  const origin = new Map<string, SourceRow>();

  const text = (row: SourceRow, column: string) => (row.values[column] ?? '').trim();
  const required = (row: SourceRow, column: string) => {
    const v = text(row, column);
    if (!v) at(row, column, 'required');
    return v;
  };
  const localized = (row: SourceRow, base: string): Localized => ({
    fr: required(row, `${base}_fr`),
    en: required(row, `${base}_en`),
  });
  const extraOf = <T>(row: SourceRow, schema: z.ZodType<T>): T | undefined => {
    const raw = text(row, 'extra');
    if (!raw) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      at(row, 'extra', `not valid JSON: ${(error as Error).message}`);
      return undefined;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) at(row, 'extra', `${issuePath(issue.path) || 'value'}: ${issue.message}`);
      return undefined;
    }
    return parsed.data;
  };

  const definition: MatrixDefinition = { tiers: [], categories: [], cells: [], sla: [] };
  for (const row of rows) {
    switch (row.kind) {
      case 'tier':
        origin.set(`tiers[${definition.tiers.length}]`, row);
        definition.tiers.push({
          key: required(row, 'key'),
          name: localized(row, 'name'),
          description: localized(row, 'description'),
        });
        break;
      case 'category': {
        origin.set(`categories[${definition.categories.length}]`, row);
        const [dfr, den] = [text(row, 'description_fr'), text(row, 'description_en')];
        if (Boolean(dfr) !== Boolean(den))
          at(row, dfr ? 'description_en' : 'description_fr', 'give the description in both languages, or in neither');
        const confidential = confidentialOf(text(row, 'confidential'));
        if (typeof confidential === 'string') at(row, 'confidential', confidential);
        const extra = extraOf(row, categoryExtra);
        definition.categories.push({
          key: required(row, 'key'),
          name: localized(row, 'name'),
          ...(dfr && den ? { description: { fr: dfr, en: den } } : {}),
          ...(confidential !== undefined && typeof confidential !== 'string' ? { confidential } : {}),
          ...(extra?.clocks ? { clocks: extra.clocks } : {}),
        });
        break;
      }
      case 'cell': {
        origin.set(`cells[${definition.cells.length}]`, row);
        const extra = extraOf(row, cellExtra);
        const split = (column: string) =>
          (row.values[column] ?? '')
            .split(/\r?\n/)
            .map((l) => l.trim())
            .filter(Boolean);
        const fr = split('actions_fr');
        const en = split('actions_en');
        let actions: Localized[];
        if (extra?.actions) {
          if (fr.length || en.length) at(row, 'extra', 'actions are given both in the actions columns and in extra');
          actions = extra.actions;
        } else {
          if (fr.length !== en.length)
            at(
              row,
              fr.length < en.length ? 'actions_fr' : 'actions_en',
              `${fr.length} action(s) in French but ${en.length} in English: one line per action, in both languages`,
            );
          actions = fr.map((f, i) => ({ fr: f, en: en[i] ?? '' }));
        }
        definition.cells.push({
          category: required(row, 'category'),
          tier: required(row, 'tier'),
          actions,
          ...(extra?.mandatory ? { mandatory: extra.mandatory } : {}),
          ...(extra?.reopenLimit !== undefined ? { reopenLimit: extra.reopenLimit } : {}),
        });
        break;
      }
      case 'sla': {
        origin.set(`sla[${definition.sla.length}]`, row);
        const category = text(row, 'category');
        const calendar = text(row, 'calendar');
        definition.sla.push({
          tier: required(row, 'tier'),
          priority: required(row, 'priority') as MatrixDefinition['sla'][number]['priority'],
          ...(category ? { category } : {}),
          acknowledge: required(row, 'acknowledge'),
          resolve: required(row, 'resolve'),
          ...(calendar ? { calendar } : {}),
        });
        break;
      }
      case 'setting': {
        const key = required(row, 'key');
        if (!key) break;
        if (!(key in SETTINGS)) {
          at(row, 'key', `unknown setting "${key}"; expected one of ${Object.keys(SETTINGS).join(', ')}`);
          break;
        }
        const name = key as keyof typeof SETTINGS;
        if (definition[name] !== undefined) {
          at(row, 'key', `setting "${key}" is given twice`);
          break;
        }
        origin.set(name, row);
        const value = extraOf(row, SETTINGS[name] as z.ZodType<unknown>);
        if (value !== undefined) (definition as Record<string, unknown>)[name] = value;
        break;
      }
    }
  }
  if (problems.length) throw invalid('invalid_matrix', `The matrix has ${problems.length} problem(s)`, problems);

  // The columns each definition field comes from, so schema and reference problems name a column.
  const locate = (path: string): string => {
    const m = /^(tiers|categories|cells|sla)\[(\d+)\]\.?([A-Za-z]*)(?:\[(\d+)\])?\.?(\w*)/.exec(path);
    if (m) {
      const row = origin.get(`${m[1]}[${m[2]}]`);
      if (row) {
        const [, , , field = '', , sub = ''] = m;
        const column =
          field === 'name' || field === 'description'
            ? `${field}_${sub === 'en' ? 'en' : 'fr'}`
            : field === 'actions'
              ? `actions_${sub === 'en' ? 'en' : 'fr'}`
              : field === 'clocks' || field === 'mandatory' || field === 'reopenLimit'
                ? 'extra'
                : field;
        return column ? `${row.where}, column "${column}"` : row.where;
      }
    }
    const setting = /^(priorityTable|calendars|escalation)/.exec(path)?.[1];
    const row = setting ? origin.get(setting) : undefined;
    if (row) return `${row.where}, column "extra"`;
    return path;
  };

  const parsed = matrixDefinitionSchema.safeParse(definition);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => {
      const path = issuePath(i.path);
      return { path: locate(path), message: path && locate(path) !== path ? `${i.message} (${path})` : i.message };
    });
    throw invalid('invalid_matrix', `The matrix has ${details.length} problem(s)`, details);
  }
  try {
    validateMatrix(parsed.data);
  } catch (error) {
    const e = error as { details?: ErrorDetail[] };
    if (e.details)
      e.details = e.details.map((d) => ({
        path: locate(d.path),
        message: locate(d.path) !== d.path ? `${d.message} (${d.path})` : d.message,
      }));
    throw error;
  }
  return parsed.data;
}
