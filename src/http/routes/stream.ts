import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Services } from '../../services/context.js';
import { currentConfidentialRules } from '../../services/matrix.service.js';
import { actorOf } from '../auth.js';
import { IncidentFeed } from '../live/incident-feed.js';
import { errorResponses } from '../schemas.js';

/**
 * Server-sent events for the browser app: `event: incidents` with the ids of visible incidents that
 * changed, so that open queues and pages refetch them, and `event: gone` with the ids of incidents
 * the caller saw until a change moved them out of sight (the id alone: nothing more is theirs to
 * know). Authenticated like any GET (cookie or token).
 */
export function streamRoutes(services: Services, opts: { intervalMs?: number } = {}): FastifyPluginAsyncZod {
  return async (app) => {
    const feed = new IncidentFeed(services.store.db, () => currentConfidentialRules(services), opts.intervalMs);
    const open = new Set<() => void>();
    // Long-lived responses would otherwise hold server.close() until they end.
    app.addHook('preClose', async () => {
      for (const end of [...open]) end();
      feed.stop();
    });

    app.get(
      '/api/v1/stream',
      {
        config: { permission: 'incident.list' },
        schema: {
          tags: ['incidents'],
          summary:
            'Server-sent events: ids of incidents visible to the caller that changed (event "incidents", data {"ids":[…]}), and of those a change moved out of their sight (event "gone", same data)',
          response: { ...errorResponses },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        const raw = reply.raw;
        reply.hijack();
        raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        raw.write('retry: 3000\n: connected\n\n');
        const unsubscribe = await feed.subscribe({
          actor,
          send: (ids) => raw.write(`event: incidents\ndata: ${JSON.stringify({ ids })}\n\n`),
          gone: (ids) => raw.write(`event: gone\ndata: ${JSON.stringify({ ids })}\n\n`),
        });
        const heartbeat = setInterval(() => raw.write(': ping\n\n'), 15_000);
        const end = () => {
          clearInterval(heartbeat);
          unsubscribe();
          open.delete(end);
          if (!raw.writableEnded) raw.end();
        };
        open.add(end);
        raw.on('close', end);
        if (raw.destroyed) end();
      },
    );
  };
}
