/**
 * Incidents and their events as CSV or XLSX, written as they are read so that a long period never
 * sits in memory. Every text cell goes through neutraliseFormula: titles, descriptions and comments
 * come from requesters and must never run as spreadsheet formulas.
 */
import { PassThrough, Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import ExcelJS from 'exceljs';
import type { Incident, IncidentEvent } from '../domain/incident.js';
import { safeCells as safe } from './spreadsheet-safety.js';

export type Cell = string | number | null;

export const INCIDENT_COLUMNS = [
  'id',
  'title',
  'description',
  'category',
  'priority',
  'impact',
  'urgency',
  'status',
  'pending_reason',
  'tier',
  'requester_id',
  'assignee_id',
  'matrix_version',
  'escalation_count',
  'reopen_count',
  'resolution',
  'created_at',
  'acknowledged_at',
  'resolved_at',
  'closed_at',
  'updated_at',
] as const;

export const EVENT_COLUMNS = ['incident_id', 'seq', 'at', 'kind', 'actor_id', 'from_tier', 'to_tier', 'data'] as const;

const time = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function incidentCells(i: Incident): Cell[] {
  return [
    i.id,
    i.title,
    i.description,
    i.category,
    i.priority,
    i.impact,
    i.urgency,
    i.status,
    i.pendingReason,
    i.tier,
    i.requesterId,
    i.assigneeId,
    i.matrixVersion,
    i.escalationCount,
    i.reopenCount,
    i.resolution,
    time(i.createdAt),
    time(i.acknowledgedAt),
    time(i.resolvedAt),
    time(i.closedAt),
    time(i.updatedAt),
  ];
}

export function eventCells(e: IncidentEvent): Cell[] {
  return [e.incidentId, e.seq, time(e.at), e.kind, e.actorId, e.fromTier, e.toTier, JSON.stringify(e.data)];
}

/** A CSV stream: the header, then every row of every batch. UTF-8 with a byte order mark. */
export function csvStream(columns: readonly string[], batches: AsyncIterable<Cell[][]>): Readable {
  const csv = stringify({ bom: true, record_delimiter: '\r\n', cast: { number: (n) => String(n) } });
  const source = Readable.from(
    (async function* () {
      yield [...columns];
      for await (const batch of batches) for (const row of batch) yield safe(row);
    })(),
  );
  source.on('error', (error) => csv.destroy(error));
  return source.pipe(csv);
}

export interface SheetSource {
  name: string;
  columns: readonly string[];
  /** Called once, when the sheet is written: sheets are written one after the other. */
  rows: () => AsyncIterable<Cell[][]>;
}

/** An XLSX stream of the sheets, each written whole before the next (the streaming writer's rule). */
export function xlsxStream(sheets: SheetSource[]): Readable {
  const out = new PassThrough();
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: false, useStyles: true });
  wb.creator = 'Palier';
  void (async () => {
    for (const sheet of sheets) {
      const ws = wb.addWorksheet(sheet.name, { views: [{ state: 'frozen', ySplit: 1 }] });
      ws.columns = sheet.columns.map((c) => ({
        header: c,
        key: c,
        width: /title|description|resolution|data/.test(c) ? 40 : 16,
      }));
      ws.getRow(1).font = { bold: true };
      ws.getRow(1).commit();
      for await (const batch of sheet.rows()) for (const row of batch) ws.addRow(safe(row)).commit();
      ws.commit();
    }
    await wb.commit();
  })().catch((error: unknown) => out.destroy(error as Error));
  return out;
}
