/**
 * Reports as CSV files: a header row, then one row per line of the report. Every text cell goes
 * through neutraliseFormula: vendor names and keys are typed by people and must never run as
 * spreadsheet formulas. UTF-8 with a byte order mark and CRLF, like the incident export.
 */
import { stringify } from 'csv-stringify/sync';
import { safeCells } from './spreadsheet-safety.js';

type Cell = string | number | null;

/** `ackMeanMs` -> `ack_mean_ms`: the column names of Palier's other CSV files. */
const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export function csvFile(columns: readonly string[], rows: readonly Cell[][]): string {
  return stringify([columns.map(snake), ...rows.map(safeCells)], {
    bom: true,
    record_delimiter: '\r\n',
    cast: { number: (n) => String(n) },
  });
}

/** Flat records as CSV, one column per key (given by the response schema, so an empty report still has its header). */
export function recordsCsv(keys: readonly string[], records: readonly object[]): string {
  return csvFile(
    keys,
    records.map((r) => keys.map((k) => (r as Record<string, Cell | undefined>)[k] ?? null)),
  );
}

interface VolumeFigures {
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

/** The volume report is one set of figures, some per vendor: one row per figure (long format). */
export function volumeCsv(v: VolumeFigures): string {
  const top = v.topTier;
  const rows: Cell[][] = [
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
  return csvFile(['figure', 'tier', 'vendorId', 'vendor', 'value'], rows);
}
