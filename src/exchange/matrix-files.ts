/**
 * Matrix files in the formats people use: detection, export and import. Pure conversions; storing
 * the result as a new version is the matrix service's business.
 */
import { invalid, issuePath } from '../domain/errors.js';
import { matrixDefinitionSchema, type MatrixDefinition } from '../domain/matrix.js';
import { matrixFromCsv, matrixToCsv } from './matrix-csv.js';
import { matrixToPdf } from './matrix-pdf.js';
import { matrixFromXlsx, matrixToXlsx, type Lang } from './matrix-xlsx.js';

export const EXPORT_FORMATS = ['json', 'csv', 'xlsx', 'pdf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const IMPORT_FORMATS = ['json', 'csv', 'xlsx'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
export type { Lang };

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pdf: 'application/pdf',
};

export async function exportMatrix(
  m: MatrixDefinition & { version?: number },
  format: ExportFormat,
  lang: Lang = 'fr',
): Promise<Buffer> {
  switch (format) {
    case 'json':
      return Buffer.from(JSON.stringify(m, null, 2) + '\n');
    case 'csv':
      return Buffer.from(matrixToCsv(m));
    case 'xlsx':
      return matrixToXlsx(m, lang);
    case 'pdf':
      return matrixToPdf(m, lang);
  }
}

/** The format of a file, from its name when it says, else from its first bytes. */
export function detectFormat(data: Buffer, name?: string): ImportFormat {
  const ext = name?.toLowerCase().match(/\.(json|csv|xlsx)$/)?.[1];
  if (ext) return ext as ImportFormat;
  if (data.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) return 'xlsx'; // a ZIP archive
  const start = data
    .subarray(0, 64)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  return start.startsWith('{') ? 'json' : 'csv';
}

/** Reads a matrix file; every problem is reported at once, by row and column for CSV and XLSX. */
export async function importMatrix(data: Buffer, format: ImportFormat): Promise<MatrixDefinition> {
  switch (format) {
    case 'csv':
      return matrixFromCsv(data.toString('utf8'));
    case 'xlsx':
      return matrixFromXlsx(data);
    case 'json': {
      let json: unknown;
      try {
        json = JSON.parse(data.toString('utf8').replace(/^\uFEFF/, ''));
      } catch (error) {
        throw invalid('malformed_json', `The file is not valid JSON: ${(error as Error).message}`);
      }
      return matrixFromJson(json);
    }
  }
}

/** A matrix as JSON, e.g. an earlier export: its version metadata is dropped. */
export function matrixFromJson(json: unknown): MatrixDefinition {
  const parsed = matrixDefinitionSchema.strip().safeParse(json);
  if (!parsed.success)
    throw invalid(
      'invalid_matrix',
      'The file is not a valid matrix',
      parsed.error.issues.map((i) => ({ path: issuePath(i.path), message: i.message })),
    );
  return parsed.data;
}
