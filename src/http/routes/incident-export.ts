import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  csvStream,
  EVENT_COLUMNS,
  eventCells,
  INCIDENT_COLUMNS,
  incidentCells,
  xlsxStream,
} from '../../exchange/incident-export.js';
import type { Services } from '../../services/context.js';
import { exportedEvents, exportedIncidents } from '../../services/export.service.js';
import { actorOf } from '../auth.js';
import { errorResponses } from '../schemas.js';
import { periodQuery, periodFilter } from './period.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export function incidentExportRoutes(services: Services): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v1/incidents/export',
      {
        config: { permission: 'incident.export' },
        schema: {
          tags: ['incidents'],
          summary: 'Incidents opened in a period, and their events, as CSV or XLSX (staff)',
          description:
            'XLSX has two sheets, Incidents and Events; CSV gives one of them (`part`). Text starting with =, +, -, @, a tab or a ' +
            'carriage return is prefixed with a single quote, so that no spreadsheet runs it as a formula. Streamed: any period size.',
          querystring: periodQuery
            .extend({
              format: z.enum(['csv', 'xlsx']).default('csv'),
              part: z.enum(['incidents', 'events']).default('incidents').describe('CSV only: which table'),
            })
            .strict(),
          response: { 200: z.any().describe('The file'), ...errorResponses },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        const filter = periodFilter(request.query);
        const incidents = async function* () {
          for await (const page of exportedIncidents(services, actor, filter)) yield page.map(incidentCells);
        };
        const events = async function* () {
          for await (const page of exportedEvents(services, actor, filter)) yield page.map(eventCells);
        };
        const { format, part } = request.query;
        const name = `palier-incidents-${request.query.from.slice(0, 10)}-${request.query.to.slice(0, 10)}`;
        if (format === 'xlsx')
          return reply
            .type(XLSX)
            .header('content-disposition', `attachment; filename="${name}.xlsx"`)
            .send(
              xlsxStream([
                { name: 'Incidents', columns: INCIDENT_COLUMNS, rows: incidents },
                { name: 'Events', columns: EVENT_COLUMNS, rows: events },
              ]),
            );
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${name}-${part}.csv"`)
          .send(part === 'events' ? csvStream(EVENT_COLUMNS, events()) : csvStream(INCIDENT_COLUMNS, incidents()));
      },
    );
  };
}
