import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Services } from '../services/context.js';
import { registerAuth } from './auth.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { registerInputGuards } from './input-guards.js';
import { GroupedRateLimitStore } from './rate-limit-store.js';
import { registerSecurityHeaders } from './security-headers.js';
import { withoutLinkToken } from './security-log.js';
import { attachmentRoutes } from './routes/attachments.js';
import { authRoutes } from './routes/auth.js';
import { escalationRoutes } from './routes/escalations.js';
import { incidentExportRoutes } from './routes/incident-export.js';
import { IncidentJsonCache } from './incident-json-cache.js';
import { incidentRoutes } from './routes/incidents.js';
import { intakeRoutes } from './routes/intake.js';
import { integrationRoutes } from './routes/integrations.js';
import { matrixRoutes } from './routes/matrix.js';
import { notificationRoutes } from './routes/notifications.js';
import { OIDC_CALLBACK_PATH, oidcRoutes } from './routes/oidc.js';
import { OidcSignIn } from '../services/oidc.service.js';
import { reportRoutes } from './routes/reports.js';
import { simulationRoutes } from './routes/simulations.js';
import { userRoutes } from './routes/users.js';
import { vendorRoutes } from './routes/vendors.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { profileRoutes } from './routes/profile.js';
import { queueRoutes } from './routes/queue.js';
import { streamRoutes } from './routes/stream.js';
import { teamRoutes } from './routes/teams.js';
import { registerWebApp } from './static.js';

export async function buildServer(services: Services, config: Config): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      // Fastify's own request serializer, with vendor link tokens taken out of the URL.
      serializers: {
        req: (req: FastifyRequest) => ({
          method: req.method,
          url: withoutLinkToken(req.url),
          version: req.headers['accept-version']?.toString(),
          host: req.host,
          remoteAddress: req.ip,
          remotePort: req.socket?.remotePort,
        }),
      },
      ...(config.logStream ? { stream: config.logStream } : {}),
    },
    bodyLimit: config.bodyLimit,
    routerOptions: { maxParamLength: 200 },
    requestIdHeader: 'x-request-id',
    http: { maxHeaderSize: config.headerLimit },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  // Response schemas document the API (OpenAPI); handlers build their responses field by field
  // (src/http/schemas.ts), so re-validating every response would only cost time on hot lists.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // The API speaks JSON only; any other body is refused with 415 before validation.
  app.removeContentTypeParser('text/plain');

  await app.register(fastifyCookie);
  await registerSecurityHeaders(app, config);
  registerInputGuards(app);
  await app.register(fastifyRateLimit, { global: false, store: GroupedRateLimitStore });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Palier API',
        version: '1',
        description: 'IT escalation desk: the escalation matrix, incidents moving through support tiers, their audit trail.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: 'palier_session' } } },
      security: [{ bearer: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  registerAuth(app, services);

  app.get('/api/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());

  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: { tags: ['health'], summary: 'Ready once the database answers', security: [], response: { 200: z.object({ status: z.literal('ok') }) } },
    },
    async () => {
      await sql`select 1`.execute(services.store.db);
      return { status: 'ok' as const };
    },
  );

  // One client of the provider for both signing in (oidc routes) and signing out (auth routes).
  const oidcSignIn = config.oidc
    ? new OidcSignIn(services, config.oidc, `${services.site.publicUrl}${OIDC_CALLBACK_PATH}`)
    : undefined;
  await app.register(authRoutes(services, config, oidcSignIn));
  await app.register(oidcRoutes(services, config, oidcSignIn));
  await app.register(matrixRoutes(services));
  await app.register(incidentExportRoutes(services));
  // Lists and queues share the JSON kept of each incident version they served.
  const incidentJson = new IncidentJsonCache();
  await app.register(incidentRoutes(services, incidentJson));
  await app.register(userRoutes(services));
  await app.register(escalationRoutes(services));
  await app.register(attachmentRoutes(services, config));
  await app.register(integrationRoutes(services));
  await app.register(intakeRoutes(services, config.intake.ratePerMinute));
  await app.register(notificationRoutes(services, config));
  await app.register(reportRoutes(services));
  await app.register(simulationRoutes(services));
  await app.register(queueRoutes(services, incidentJson));
  await app.register(dashboardRoutes(services));
  await app.register(streamRoutes(services));
  await app.register(profileRoutes(services));
  await app.register(teamRoutes(services));
  await app.register(vendorRoutes(services, config.vendorPortalRateLimit));
  await registerWebApp(app);
  return app;
}
