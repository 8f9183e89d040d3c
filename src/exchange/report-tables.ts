/**
 * Reports as typed tables, the one shape the XLSX and PDF files are drawn from: each column knows
 * its kind of figure (a count, a rate, a duration in milliseconds, a day, an instant) so that the
 * workbook stores numbers and dates as such and the printable file shows them in words.
 */
import type { Lang } from './matrix-xlsx.js';

export type { Lang };
export type ColumnKind = 'text' | 'count' | 'rate' | 'ms' | 'day' | 'instant' | 'target';
export type Cell = string | number | null;

export interface Column {
  key: string;
  kind: ColumnKind;
}

export interface ReportTable {
  /** The report's name in file names: volume, sla, trend-day... */
  name: string;
  title: Record<Lang, string>;
  columns: Column[];
  rows: Cell[][];
  /** A per-row kind for a column whose cells mix kinds (the volume report's value: counts and rates). */
  kindOf?: (row: Cell[], column: number) => ColumnKind;
}

type Labels = Record<string, Record<Lang, string>>;

export const REPORT_TITLES: Labels = {
  volume: {
    fr: 'Incidents ouverts, pris en compte, résolus et rouverts',
    en: 'Incidents opened, acknowledged, resolved and reopened',
  },
  times: { fr: 'Délai de prise en compte et de résolution', en: 'Time to acknowledge and to resolve' },
  sla: { fr: 'Respect des SLA par niveau et priorité', en: 'SLA compliance per tier and priority' },
  escalations: { fr: 'Taux d’escalade par case de la matrice', en: 'Escalation rate per matrix cell' },
  vendors: { fr: 'Bilan des prestataires', en: 'Vendor scorecard' },
  'tier-time': { fr: 'Temps passé à chaque niveau', en: 'Time spent at each tier' },
  'trend-day': { fr: 'Évolution par jour', en: 'Incidents per day' },
  'trend-week': { fr: 'Évolution par semaine', en: 'Incidents per week' },
};

/** Column headings of the printable reports (the workbook keeps the CSV's column names). */
export const COLUMN_LABELS: Labels = {
  figure: { fr: 'Indicateur', en: 'Figure' },
  value: { fr: 'Valeur', en: 'Value' },
  tier: { fr: 'Niveau', en: 'Tier' },
  priority: { fr: 'Priorité', en: 'Priority' },
  category: { fr: 'Catégorie', en: 'Category' },
  vendorId: { fr: 'N° prestataire', en: 'Vendor no.' },
  vendor: { fr: 'Prestataire', en: 'Vendor' },
  name: { fr: 'Prestataire', en: 'Vendor' },
  ackTarget: { fr: 'Délai contractuel de prise en compte', en: 'Contract time to acknowledge' },
  resolveTarget: { fr: 'Délai contractuel de résolution', en: 'Contract time to resolve' },
  engagements: { fr: 'Transferts', en: 'Hand-overs' },
  incidents: { fr: 'Incidents', en: 'Incidents' },
  reachedTop: { fr: 'Au dernier niveau', en: 'Reached the top tier' },
  topShare: { fr: 'Part au dernier niveau', en: 'Share at the top tier' },
  stints: { fr: 'Passages', en: 'Stays' },
  completed: { fr: 'Passages terminés', en: 'Stays ended' },
  opened: { fr: 'Ouverts', en: 'Opened' },
  acknowledged: { fr: 'Pris en compte', en: 'Acknowledged' },
  resolved: { fr: 'Résolus', en: 'Resolved' },
  reopened: { fr: 'Rouverts', en: 'Reopened' },
  escalated: { fr: 'Escaladés', en: 'Escalated' },
  byHand: { fr: 'À la main', en: 'By hand' },
  escalatedByHand: { fr: 'Escaladés à la main', en: 'Escalated by hand' },
  escalatedAutomatically: { fr: 'Escaladés automatiquement', en: 'Escalated automatically' },
  missedDeadline: { fr: 'Délai dépassé', en: 'Missed deadline' },
  otherAutomatic: { fr: 'Autre escalade automatique', en: 'Other automatic' },
  handedBack: { fr: 'Rendus', en: 'Handed back' },
  escalationRate: { fr: 'Taux d’escalade', en: 'Escalation rate' },
  byHandRate: { fr: 'Taux à la main', en: 'By-hand rate' },
  missedDeadlineRate: { fr: 'Taux délai dépassé', en: 'Missed-deadline rate' },
  ackMet: { fr: 'Prise en compte dans les délais', en: 'Acknowledge met' },
  ackMissed: { fr: 'Prise en compte hors délai', en: 'Acknowledge missed' },
  ackCompliance: { fr: 'Respect prise en compte', en: 'Acknowledge compliance' },
  resolveMet: { fr: 'Résolution dans les délais', en: 'Resolve met' },
  resolveMissed: { fr: 'Résolution hors délai', en: 'Resolve missed' },
  resolveCompliance: { fr: 'Respect résolution', en: 'Resolve compliance' },
  ackMeanMs: { fr: 'Prise en compte, moyenne', en: 'Acknowledge, mean' },
  ackMedianMs: { fr: 'Prise en compte, médiane', en: 'Acknowledge, median' },
  ackBusinessMeanMs: { fr: 'Prise en compte, moyenne ouvrée', en: 'Acknowledge, business mean' },
  ackBusinessMedianMs: { fr: 'Prise en compte, médiane ouvrée', en: 'Acknowledge, business median' },
  resolveMeanMs: { fr: 'Résolution, moyenne', en: 'Resolve, mean' },
  resolveMedianMs: { fr: 'Résolution, médiane', en: 'Resolve, median' },
  resolveBusinessMeanMs: { fr: 'Résolution, moyenne ouvrée', en: 'Resolve, business mean' },
  resolveBusinessMedianMs: { fr: 'Résolution, médiane ouvrée', en: 'Resolve, business median' },
  wallMeanMs: { fr: 'Moyenne (temps réel)', en: 'Mean (wall time)' },
  wallTotalMs: { fr: 'Total (temps réel)', en: 'Total (wall time)' },
  businessMeanMs: { fr: 'Moyenne (temps ouvré)', en: 'Mean (business time)' },
  businessTotalMs: { fr: 'Total (temps ouvré)', en: 'Total (business time)' },
  start: { fr: 'Début', en: 'Start' },
  from: { fr: 'Du', en: 'From' },
  to: { fr: 'Au (exclu)', en: 'To (excluded)' },
  // The volume report's figures, one per row.
  reopen_rate: { fr: 'Taux de réouverture', en: 'Reopen rate' },
  top_tier_reached: { fr: 'Au dernier niveau', en: 'Reached the top tier' },
  top_tier_share: { fr: 'Part au dernier niveau', en: 'Share at the top tier' },
  top_tier_without_vendor: { fr: 'Au dernier niveau sans prestataire', en: 'Top tier without a vendor' },
};

const KINDS: Record<string, ColumnKind> = {
  tier: 'text',
  priority: 'text',
  category: 'text',
  name: 'text',
  vendor: 'text',
  figure: 'text',
  ackTarget: 'target',
  resolveTarget: 'target',
  start: 'day',
  from: 'instant',
  to: 'instant',
};
const kindOf = (key: string): ColumnKind =>
  KINDS[key] ?? (/Ms$/.test(key) ? 'ms' : /(Rate|Share|Compliance)$/.test(key) ? 'rate' : 'count');

/** Flat records, one row each, the columns in the order of the response schema. */
export function recordsTable(name: string, keys: readonly string[], records: readonly object[]): ReportTable {
  return {
    name,
    title: REPORT_TITLES[name] ?? { fr: name, en: name },
    columns: keys.map((key) => ({ key, kind: kindOf(key) })),
    rows: records.map((r) => keys.map((k) => (r as Record<string, Cell | undefined>)[k] ?? null)),
  };
}

/** The rows of the volume report, one per figure (long format, as its CSV file). */
export interface VolumeFigures {
  opened: number;
  acknowledged: number;
  resolved: number;
  reopened: number;
  reopenRate: number | null;
  topTier: {
    tier: string;
    reached: number;
    share: number | null;
    byVendor: ReadonlyArray<{ vendorId: number; name: string; reached: number; share: number | null }>;
    withoutVendor: number;
  };
}

export const VOLUME_COLUMNS = ['figure', 'tier', 'vendorId', 'vendor', 'value'] as const;

export function volumeRows(v: VolumeFigures): Cell[][] {
  const top = v.topTier;
  return [
    ['opened', null, null, null, v.opened],
    ['acknowledged', null, null, null, v.acknowledged],
    ['resolved', null, null, null, v.resolved],
    ['reopened', null, null, null, v.reopened],
    ['reopen_rate', null, null, null, v.reopenRate],
    ['top_tier_reached', top.tier, null, null, top.reached],
    ['top_tier_share', top.tier, null, null, top.share],
    ['top_tier_without_vendor', top.tier, null, null, top.withoutVendor],
    ...top.byVendor.flatMap((b): Cell[][] => [
      ['top_tier_reached', top.tier, b.vendorId, b.name, b.reached],
      ['top_tier_share', top.tier, b.vendorId, b.name, b.share],
    ]),
  ];
}

export function volumeTable(v: VolumeFigures): ReportTable {
  return {
    ...recordsTable('volume', VOLUME_COLUMNS, []),
    rows: volumeRows(v),
    kindOf: (row, column) => (column === 4 && /_(rate|share)$/.test(String(row[0])) ? 'rate' : kindOf(VOLUME_COLUMNS[column]!)),
  };
}

export const cellKind = (table: ReportTable, row: Cell[], column: number): ColumnKind =>
  table.kindOf ? table.kindOf(row, column) : table.columns[column]!.kind;
