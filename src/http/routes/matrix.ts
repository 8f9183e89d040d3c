import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { invalid, issuePath } from '../../domain/errors.js';
import { CONTENT_TYPES, detectFormat, EXPORT_FORMATS, exportMatrix, importMatrix, matrixFromJson, type ImportFormat } from '../../exchange/matrix-files.js';
import { listPublicHolidays } from '../../domain/calendar.js';
import { matrixDefinitionSchema, type Matrix } from '../../domain/matrix.js';
import type { Services } from '../../services/context.js';
import { currentMatrix, diffVersions, matrixVersion, saveMatrix } from '../../services/matrix.service.js';
import { actorOf } from '../auth.js';
import { errorResponses } from '../schemas.js';

const matrixSchema = matrixDefinitionSchema
  .extend({
    version: z.number().int(),
    createdAt: z.string(),
    createdBy: z.number().int().nullable(),
    comment: z.string().nullable().optional(),
  })
  .meta({ id: 'Matrix' });

const putBody = matrixDefinitionSchema
  .extend({
    version: z.number().int().min(0).optional().describe('The version this edit was made on; refused with 409 if the matrix has moved on'),
    comment: z.string().trim().max(500).nullish(),
    createdAt: z.string().optional().describe('Ignored: accepted so that a GET result can be sent back as is'),
    createdBy: z.number().int().nullable().optional().describe('Ignored, as createdAt'),
  })
  .strict();

function matrixShapeError(body: unknown) {
  const result = putBody.safeParse(body);
  const details = result.success ? [] : result.error.issues.map((i) => ({ path: issuePath(i.path), message: i.message }));
  return invalid('invalid_matrix', `The matrix has ${details.length} problem(s)`, details);
}

const versionParams = z.object({ version: z.coerce.number().int().positive() }).strict();

const out = (m: Matrix) => m;

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

function formatOf(contentType: string | undefined, body: Buffer): ImportFormat {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type === 'text/csv') return 'csv';
  if (type === XLSX) return 'xlsx';
  return detectFormat(body);
}

export function matrixRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/matrix',
      {
        config: { permission: 'matrix.read' },
        schema: { tags: ['matrix'], summary: 'The current escalation matrix', response: { 200: matrixSchema, ...errorResponses } },
      },
      async () => out(await currentMatrix(services)),
    );

    app.put(
      '/api/v1/matrix',
      {
        config: { permission: 'matrix.write' },
        schema: {
          tags: ['matrix'],
          summary: 'Store a new version of the matrix (administrators)',
          body: putBody,
          response: { 200: matrixSchema, ...errorResponses },
        },
        // Shape problems are reported like reference problems: one code, paths such as cells[3].tier.
        attachValidation: true,
      },
      async (request) => {
        if (request.validationError) throw matrixShapeError(request.body);
        const { version, comment, createdAt: _a, createdBy: _b, ...definition } = request.body;
        return out(await saveMatrix(services, actorOf(request), definition, { baseVersion: version, comment }));
      },
    );

    app.get(
      '/api/v1/matrix/export',
      {
        config: { permission: 'matrix.read' },
        schema: {
          tags: ['matrix'],
          summary: 'The matrix as a file: JSON, CSV, XLSX or a printable PDF (A4 landscape)',
          querystring: z
            .object({
              format: z.enum(EXPORT_FORMATS).default('json'),
              lang: z.enum(['fr', 'en']).default('fr').describe('Language of the PDF and of the XLSX overview sheet'),
              version: z.coerce.number().int().positive().optional().describe('An earlier version instead of the current one'),
            })
            .strict(),
          response: { 200: z.any().describe('The file, in the content type of its format'), ...errorResponses },
        },
      },
      async (request, reply) => {
        const { format, lang, version } = request.query;
        const m = version ? await matrixVersion(services, version) : await currentMatrix(services);
        const data = await exportMatrix(m, format, lang);
        return reply
          .type(CONTENT_TYPES[format])
          .header('content-disposition', `attachment; filename="palier-matrix-v${m.version}${format === 'pdf' || format === 'xlsx' ? `-${lang}` : ''}.${format}"`)
          .send(data);
      },
    );

    // Matrix files arrive as they are; each format has its content type (or octet-stream, detected).
    for (const type of ['text/csv', XLSX, 'application/octet-stream'])
      app.addContentTypeParser(type, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    app.post(
      '/api/v1/matrix/import',
      {
        config: { permission: 'matrix.write' },
        schema: {
          tags: ['matrix'],
          summary: 'Store a matrix file (JSON, CSV or XLSX) as a new version, only if all of it is valid (administrators)',
          description:
            'Send the file as the body, with Content-Type application/json, text/csv, ' +
            'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, or application/octet-stream (the format is then told from the content). ' +
            'Problems are listed in error.details, by row and column for CSV and XLSX (e.g. `row 7, column "actions_fr"`).',
          querystring: z.object({ comment: z.string().trim().max(500).optional() }).strict(),
          body: z.any(),
          response: { 201: matrixSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const body: unknown = request.body;
        const definition = Buffer.isBuffer(body)
          ? await importMatrix(body, formatOf(request.headers['content-type'], body))
          : matrixFromJson(body);
        const saved = await saveMatrix(services, actorOf(request), definition, { comment: request.query.comment ?? 'Imported from a file' });
        return reply.status(201).send(out(saved));
      },
    );

    app.get(
      '/api/v1/matrix/holidays',
      {
        config: { permission: 'matrix.read' },
        schema: {
          tags: ['matrix'],
          summary: "The public holidays a calendar's `holidays` (country, region) closes in a year",
          querystring: z
            .object({
              country: z.string().max(3),
              region: z.string().max(10).optional(),
              year: z.coerce.number().int().min(1970).max(2200),
              lang: z.enum(['fr', 'en']).default('fr').describe('Language of the names'),
            })
            .strict(),
          response: {
            200: z.object({ holidays: z.array(z.object({ date: z.string().describe('YYYY-MM-DD, local'), name: z.string() })) }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const { country, region, year, lang } = request.query;
        return { holidays: listPublicHolidays({ country, ...(region ? { region } : {}) }, year, lang) };
      },
    );

    app.get(
      '/api/v1/matrix/versions',
      {
        config: { permission: 'matrix.read' },
        schema: {
          tags: ['matrix'],
          summary: 'Every stored version, newest first',
          response: {
            200: z.array(z.object({ version: z.number(), createdAt: z.string(), createdBy: z.number().nullable(), comment: z.string().nullable() })),
            ...errorResponses,
          },
        },
      },
      async () => services.matrices.list(),
    );

    app.get(
      '/api/v1/matrix/versions/:version',
      {
        config: { permission: 'matrix.read' },
        schema: { tags: ['matrix'], summary: 'One stored version', params: versionParams, response: { 200: matrixSchema, ...errorResponses } },
      },
      async (request) => out(await matrixVersion(services, request.params.version)),
    );

    app.get(
      '/api/v1/matrix/diff',
      {
        config: { permission: 'matrix.read' },
        schema: {
          tags: ['matrix'],
          summary: 'What changed between two versions',
          querystring: z.object({ from: z.coerce.number().int().positive(), to: z.coerce.number().int().positive() }).strict(),
          response: {
            200: z.object({
              from: z.number(),
              to: z.number(),
              changes: z.array(z.object({ kind: z.enum(['added', 'removed', 'changed']), path: z.string(), before: z.unknown().optional(), after: z.unknown().optional() })),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const { from, to } = request.query;
        return { from, to, changes: await diffVersions(services, from, to) };
      },
    );
  };
}
