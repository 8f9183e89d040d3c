import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError, type ErrorKind } from '../domain/errors.js';
import { logSecurity } from './security-log.js';

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error' });

const STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  gone: 410,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
};

/** Fastify's own request errors, by code, as Palier's error codes. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_content_length',
  FST_REQ_FILE_TOO_LARGE: 'attachment_too_large',
  FST_FILES_LIMIT: 'too_many_files',
  FST_FIELDS_LIMIT: 'unknown_field',
  FST_PARTS_LIMIT: 'too_many_parts',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'unsupported_media_type',
};

function send(reply: FastifyReply, status: number, code: string, message: string, details?: unknown) {
  return reply
    .status(status)
    .type('application/json; charset=utf-8')
    .serializer(JSON.stringify)
    .send({ error: { code, message, ...(details ? { details } : {}) } });
}

/** The one place where failures become HTTP responses. Never leaks a stack trace. */
export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof DomainError) {
    if (error.kind === 'forbidden')
      logSecurity(request, 'access_refused', { userId: request.actor?.id ?? null, role: request.actor?.role ?? null, reason: error.message });
    return send(reply, STATUS[error.kind], error.code, error.message, error.details);
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const pathOf = (instancePath: unknown, ...more: string[]) =>
      [error.validationContext, ...String(instancePath).split('/').filter(Boolean), ...more].join('.');
    // Unknown fields are named one by one: nothing outside a schema is ever taken (no mass assignment).
    const details = error.validation.flatMap((v) =>
      v.keyword === 'unrecognized_keys' && Array.isArray(v.params.keys)
        ? (v.params.keys as unknown[]).map((key) => ({ path: pathOf(v.instancePath, String(key)), message: 'unknown field' }))
        : [{ path: pathOf(v.instancePath), message: v.message ?? 'invalid' }],
    );
    const unknown = details.filter((d) => d.message === 'unknown field').map((d) => d.path);
    const message = unknown.length ? `Unknown field(s): ${unknown.join(', ')}` : 'The request does not match the expected shape';
    return send(reply, 400, 'validation_failed', message, details);
  }
  const fe = error as FastifyError;
  if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (fe.statusCode === 400 && error instanceof SyntaxError)) {
    return send(reply, 400, 'malformed_json', 'The request body is not valid JSON');
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return send(reply, fe.statusCode, FASTIFY_CODES[fe.code] ?? 'bad_request', fe.message);
  }
  if (isDatabaseUnavailable(error)) {
    reply.header('retry-after', '5');
    return send(reply, 503, 'unavailable', 'The database is unavailable; try again shortly');
  }
  request.log.error({ err: error }, 'unhandled error');
  return send(reply, 500, 'internal_error', 'Something went wrong on our side');
}

/**
 * Failures that mean "the database cannot be reached or is going away", not "this request is
 * wrong": network errors, PostgreSQL connection and shutdown classes (08, 57P0x, 53300), and the
 * pg driver's own messages for a connection lost or never made.
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  'SQLITE_BUSY',
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Client was closed|Connection ended/i;

export function isDatabaseUnavailable(error: Error): boolean {
  const code = (error as { code?: string }).code ?? '';
  if (UNAVAILABLE_CODES.has(code)) return true;
  // AggregateError (several addresses refused) carries the codes on its members.
  if (error instanceof AggregateError) return error.errors.some((e) => e instanceof Error && isDatabaseUnavailable(e));
  return UNAVAILABLE_MESSAGES.test(error.message ?? '');
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  return send(reply, 404, 'not_found', `No route for ${request.method} ${request.url.split('?')[0]}`);
}
