import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../../services/context.js';
import {
  escalationReport,
  slaReport,
  tierTimeReport,
  timesReport,
  vendorReport,
  volumeReport,
} from '../../services/report.service.js';
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

const DESCRIPTION =
  'Over the incidents opened in [from, to), filtered by category, priority and tier (for incident figures the current tier, ' +
  'for per-tier figures the tier of each stay). Business time runs on the calendar of the incident’s first SLA target and ' +
  'excludes time pending on the requester or a vendor.';

export function reportRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    const config = { permission: 'report.read' as const };
    const schema = (summary: string) => ({
      tags: ['reports'],
      summary,
      description: DESCRIPTION,
      querystring: periodQuery.strict(),
    });
    const args = (request: { query: z.infer<typeof periodQuery> } & Parameters<typeof actorOf>[0]) =>
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
      async (request) => volumeReport(...args(request)),
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
      async (request) => timesReport(...args(request)),
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
      async (request) => slaReport(...args(request)),
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
      async (request) => escalationReport(...args(request)),
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
      async (request) => vendorReport(...args(request)),
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
      async (request) => tierTimeReport(...args(request)),
    );
  };
}
