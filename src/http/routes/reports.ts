import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MAX_TREND_BUCKETS, TREND_INTERVALS } from '../../domain/trend-buckets.js';
import { reportToCsv } from '../../exchange/report-csv.js';
import { reportToPdf } from '../../exchange/report-pdf.js';
import { recordsTable, volumeTable, type ReportTable } from '../../exchange/report-tables.js';
import { reportToXlsx } from '../../exchange/report-xlsx.js';
import type { Services } from '../../services/context.js';
import {
  escalationReport,
  slaReport,
  tierTimeReport,
  timesReport,
  trendReport,
  vendorReport,
  volumeReport,
} from '../../services/report.service.js';
import { currentMatrix } from '../../services/matrix.service.js';
import { actorOf } from '../auth.js';
import { errorResponses } from '../schemas.js';
import { periodFilter, periodQuery } from './period.js';

const ms = z.number().nullable();
const rate = z.number().nullable().describe('0 to 1; null when there is nothing to divide by');

const volume = z
  .object({
    opened: z.number().int(),
    acknowledged: z.number().int(),
    resolved: z.number().int().describe('Resolved or closed now'),
    reopened: z.number().int(),
    reopenRate: rate.describe('Reopened incidents among those resolved at least once'),
    topTier: z.object({
      tier: z.string(),
      reached: z.number().int(),
      share: rate,
      byVendor: z
        .array(
          z.object({
            vendorId: z.number().int(),
            name: z.string().describe('As the most recent hand-over to the vendor recorded it'),
            reached: z.number().int().describe('Incidents that reached the top tier and were handed to the vendor'),
            share: rate.describe('Of the incidents opened'),
          }),
        )
        .describe('An incident handed to two vendors counts for each'),
      withoutVendor: z.number().int().describe('Incidents that reached the top tier without a hand-over to a vendor'),
    }),
  })
  .meta({ id: 'VolumeReport' });

const times = z
  .object({
    acknowledged: z.number().int(),
    ackMeanMs: ms,
    ackMedianMs: ms,
    ackBusinessMeanMs: ms,
    ackBusinessMedianMs: ms,
    resolved: z.number().int(),
    resolveMeanMs: ms,
    resolveMedianMs: ms,
    resolveBusinessMeanMs: ms,
    resolveBusinessMedianMs: ms,
  })
  .meta({ id: 'TimesReport' });

const sla = z
  .array(
    z.object({
      tier: z.string(),
      priority: z.string(),
      stints: z.number().int(),
      ackMet: z.number().int(),
      ackMissed: z.number().int(),
      ackCompliance: rate,
      resolveMet: z.number().int(),
      resolveMissed: z.number().int(),
      resolveCompliance: rate,
    }),
  )
  .meta({ id: 'SlaReport' });

const escalations = z
  .array(
    z.object({
      category: z.string(),
      tier: z.string(),
      stints: z.number().int().describe('Stays of incidents of the category at the tier'),
      escalated: z.number().int(),
      byHand: z.number().int(),
      missedDeadline: z.number().int(),
      otherAutomatic: z.number().int().describe('Escalated automatically for another reason: reopened too often'),
      handedBack: z.number().int(),
      escalationRate: rate,
      byHandRate: rate,
      missedDeadlineRate: rate,
    }),
  )
  .meta({ id: 'EscalationReport' });

const tierTime = z
  .array(
    z.object({
      tier: z.string(),
      stints: z.number().int(),
      completed: z.number().int().describe('Stints that ended (left the tier, or resolved there)'),
      wallMeanMs: ms,
      wallTotalMs: z.number(),
      businessMeanMs: ms,
      businessTotalMs: z.number(),
    }),
  )
  .meta({ id: 'TierTimeReport' });

const vendors = z
  .array(
    z.object({
      vendorId: z.number().int(),
      name: z.string().describe('As the most recent hand-over to the vendor recorded it'),
      ackTarget: z.string().nullable().describe('Contract time to acknowledge of the most recent hand-over (ISO 8601)'),
      resolveTarget: z.string().nullable().describe('Contract time to resolve of the most recent hand-over (ISO 8601)'),
      engagements: z.number().int().describe('Hand-overs to the vendor'),
      incidents: z.number().int().describe('Incidents handed to the vendor'),
      reachedTop: z.number().int().describe('Of those incidents, how many reached the top tier'),
      topShare: rate,
      acknowledged: z.number().int(),
      ackMeanMs: ms,
      ackMedianMs: ms,
      ackMet: z.number().int(),
      ackMissed: z.number().int(),
      ackCompliance: rate,
      resolved: z.number().int().describe('Hand-overs ended by the vendor being done or the incident resolved'),
      resolveMeanMs: ms,
      resolveMedianMs: ms,
      resolveMet: z.number().int(),
      resolveMissed: z.number().int(),
      resolveCompliance: rate,
    }),
  )
  .meta({ id: 'VendorReport' });

const trendBucket = z.object({
  start: z.string().describe('The UTC day (YYYY-MM-DD), or the Monday of the ISO week'),
  from: z.string().describe('Start of the part of the period in the bucket (the first bucket may start later than its day)'),
  to: z.string().describe('End of that part, excluded (the last bucket may end earlier)'),
  opened: z.number().int().describe('Incidents opened in the bucket'),
  acknowledged: z.number().int().describe('Of those, acknowledged'),
  resolved: z.number().int().describe('Of those, resolved or closed now'),
  escalated: z
    .number()
    .int()
    .describe('Stays of those incidents at a tier that ended in an escalation (an incident escalated twice counts twice)'),
  escalatedByHand: z.number().int(),
  escalatedAutomatically: z.number().int().describe('On a missed deadline, or reopened too often'),
  ackMet: z.number().int().describe('Stays of those incidents that met their acknowledge target'),
  ackMissed: z.number().int(),
  resolveMet: z.number().int(),
  resolveMissed: z.number().int(),
});

const trend = z.object({ interval: z.enum(TREND_INTERVALS), buckets: z.array(trendBucket) }).meta({ id: 'TrendReport' });

const format = z
  .enum(['json', 'csv', 'xlsx', 'pdf'])
  .default('json')
  .describe(
    'csv: the same figures as a CSV file to download (header row, then one row per line of the report; ' +
      'text starting with =, +, -, @, a tab or a carriage return is prefixed with a single quote); ' +
      'xlsx: the same as a workbook of one sheet (numbers and dates typed, text neutralised the same way); ' +
      'pdf: a printable A4 document with the period, the filters and the figures (and a chart for the trend)',
  );
const lang = z.enum(['fr', 'en']).optional().describe('Language of the PDF (default: the language of the signed-in user)');
const reportQuery = periodQuery.extend({ format, lang });
type ReportQuery = z.infer<typeof reportQuery>;

const FILE_TYPES = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pdf: 'application/pdf',
} as const;

const columns = (schema: z.ZodObject) => Object.keys(schema.shape);

/**
 * The report itself, or the same figures as a file to download: CSV, XLSX or PDF, named after the
 * report and its period.
 */
function answerWith(services: Services) {
  return async <T>(
    request: FastifyRequest & { query: ReportQuery },
    reply: FastifyReply,
    name: string,
    data: T,
    table: (data: T) => ReportTable,
  ) => {
    const { query } = request;
    if (query.format === 'json') return data;
    const file = `palier-${name}-${query.from.slice(0, 10)}-${query.to.slice(0, 10)}.${query.format}`;
    reply.type(FILE_TYPES[query.format]).header('content-disposition', `attachment; filename="${file}"`);
    if (query.format === 'csv') return reply.send(reportToCsv(table(data)));
    const language = query.lang ?? (await services.users.byId(actorOf(request).id))?.locale ?? 'fr';
    if (query.format === 'xlsx') return reply.send(await reportToXlsx(table(data), language));
    const categoryNames = Object.fromEntries((await currentMatrix(services)).categories.map((c) => [c.key, c.name[language]]));
    return reply.send(await reportToPdf(table(data), { ...query, generatedAt: services.clock.now(), categoryNames }, language));
  };
}

const DESCRIPTION =
  'Over the incidents opened in [from, to), filtered by category, priority and tier (for incident figures the current tier, ' +
  'for per-tier figures the tier of each stay). Business time runs on the calendar of the incident’s first SLA target and ' +
  'excludes time pending on the requester or a vendor.';

export function reportRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    const config = { permission: 'report.read' as const };
    const answer = answerWith(services);
    const schema = (summary: string) => ({
      tags: ['reports'],
      summary,
      description: DESCRIPTION,
      querystring: reportQuery.strict(),
    });
    const args = (request: { query: z.infer<typeof reportQuery> } & Parameters<typeof actorOf>[0]) =>
      [services, actorOf(request), periodFilter(request.query)] as const;

    app.get(
      '/api/v1/reports/volume',
      {
        config,
        schema: {
          ...schema('Incidents opened, acknowledged, resolved and reopened; share reaching the top tier'),
          response: { 200: volume, ...errorResponses },
        },
      },
      async (request, reply) => answer(request, reply, 'volume', await volumeReport(...args(request)), volumeTable),
    );
    app.get(
      '/api/v1/reports/times',
      {
        config,
        schema: {
          ...schema('Mean and median time to acknowledge and to resolve, in wall and business time'),
          response: { 200: times, ...errorResponses },
        },
      },
      async (request, reply) =>
        answer(request, reply, 'times', await timesReport(...args(request)), (d) => recordsTable('times', columns(times), [d])),
    );
    app.get(
      '/api/v1/reports/sla',
      {
        config,
        schema: {
          ...schema('SLA compliance per tier and priority (acknowledge and resolve targets)'),
          response: { 200: sla, ...errorResponses },
        },
      },
      async (request, reply) =>
        answer(request, reply, 'sla', await slaReport(...args(request)), (d) => recordsTable('sla', columns(sla.element), d)),
    );
    app.get(
      '/api/v1/reports/escalations',
      {
        config,
        schema: {
          ...schema('Escalation rate per matrix cell (category x tier), by hand or by missed deadline'),
          response: { 200: escalations, ...errorResponses },
        },
      },
      async (request, reply) =>
        answer(request, reply, 'escalations', await escalationReport(...args(request)), (d) =>
          recordsTable('escalations', columns(escalations.element), d),
        ),
    );
    app.get(
      '/api/v1/reports/vendors',
      {
        config,
        schema: {
          ...schema(
            'Vendor scorecard: hand-overs per vendor, share reaching the top tier, acknowledge and resolve times against the contract ' +
              '(the tier filter is the tier that handed over; each hand-over is judged against the targets it carried)',
          ),
          response: { 200: vendors, ...errorResponses },
        },
      },
      async (request, reply) =>
        answer(request, reply, 'vendors', await vendorReport(...args(request)), (d) =>
          recordsTable('vendors', columns(vendors.element), d),
        ),
    );
    app.get(
      '/api/v1/reports/tier-time',
      {
        config,
        schema: {
          ...schema('Time spent at each tier, in wall and business time'),
          response: { 200: tierTime, ...errorResponses },
        },
      },
      async (request, reply) =>
        answer(request, reply, 'tier-time', await tierTimeReport(...args(request)), (d) =>
          recordsTable('tier-time', columns(tierTime.element), d),
        ),
    );
    app.get(
      '/api/v1/reports/trend',
      {
        config,
        schema: {
          tags: ['reports'],
          summary:
            'Figures per day or per week: incidents opened, acknowledged, resolved, escalations and SLA targets met and missed',
          description:
            'Each bucket counts the incidents opened in it (by UTC day of creation, or ISO week starting on Monday, cut to [from, to)) ' +
            'and what has become of them so far: acknowledged and resolved now, the escalations of their stays at each tier and the ' +
            `targets those stays met or missed. Empty buckets are given with zeros. At most ${MAX_TREND_BUCKETS} buckets ` +
            '(400 too_many_buckets beyond). Filters as in the other reports (the tier filter is the current tier for incident ' +
            'counts, the tier of each stay for escalations and targets).',
          querystring: reportQuery
            .extend({
              interval: z.enum(TREND_INTERVALS).default('day').describe('day: UTC days; week: ISO weeks (Monday to Sunday, UTC)'),
            })
            .strict(),
          response: { 200: trend, ...errorResponses },
        },
      },
      async (request, reply) =>
        answer(
          request,
          reply,
          `trend-${request.query.interval}`,
          await trendReport(...args(request), request.query.interval),
          (d) => recordsTable(`trend-${d.interval}`, columns(trendBucket), d.buckets),
        ),
    );
  };
}
