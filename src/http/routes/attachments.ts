import fastifyMultipart from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { invalid } from '../../domain/errors.js';
import { addAttachment, listAttachments, readAttachment } from '../../services/attachment.service.js';
import type { Services } from '../../services/context.js';
import type { Attachment } from '../../store/attachment.repository.js';
import { actorOf } from '../auth.js';
import { errorResponses, idParams, iso } from '../schemas.js';

const attachmentSchema = z
  .object({
    id: z.number(),
    fileName: z.string(),
    contentType: z.string().describe('Detected from the content'),
    size: z.number(),
    sha256: z.string(),
    uploadedBy: z.number(),
    createdAt: z.string(),
  })
  .meta({ id: 'Attachment' });

const out = (a: Attachment) => ({
  id: a.id,
  fileName: a.fileName,
  contentType: a.contentType,
  size: a.size,
  sha256: a.sha256,
  uploadedBy: a.uploadedBy,
  createdAt: iso(a.createdAt)!,
});

/** Content-Disposition for a download: an ASCII fallback name and the exact one in RFC 5987 form. */
function disposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

export function attachmentRoutes(services: Services, config: Config): FastifyPluginAsyncZod {
  const dir = config.attachmentsDir;
  return async (app) => {
    // Registered in this plugin only: other routes keep refusing multipart bodies with 415.
    // One file per request, no other fields, size capped while it streams in.
    await app.register(fastifyMultipart, {
      limits: { fileSize: config.attachmentMaxBytes, files: 1, fields: 0, parts: 1, headerPairs: 50 },
    });

    app.post(
      '/api/v1/incidents/:id/attachments',
      {
        config: { permission: 'incident.comment' },
        schema: {
          tags: ['incidents'],
          summary:
            'Attach a file (multipart/form-data, one part named "file"): PNG, JPEG, GIF, WebP, PDF, ZIP or plain text, checked by content',
          consumes: ['multipart/form-data'],
          params: idParams,
          response: { 201: attachmentSchema, ...errorResponses, 413: errorResponses[400], 415: errorResponses[400] },
        },
      },
      async (request, reply) => {
        // Every part is read, so a second file or any other field is refused rather than ignored.
        let upload: { fileName: string; content: Buffer } | undefined;
        for await (const part of request.parts()) {
          if (part.type !== 'file' || part.fieldname !== 'file' || upload)
            throw invalid('unexpected_part', 'Send exactly one multipart part, a file named "file"', [
              { path: `body.${part.fieldname}`, message: 'unexpected part' },
            ]);
          upload = { fileName: part.filename, content: await part.toBuffer() };
        }
        if (!upload)
          throw invalid('file_required', 'Send the file as a multipart part named "file"', [
            { path: 'body.file', message: 'required' },
          ]);
        const attachment = await addAttachment(services, dir, actorOf(request), request.params.id, upload);
        return reply.status(201).send(out(attachment));
      },
    );

    app.get(
      '/api/v1/incidents/:id/attachments',
      {
        config: { permission: 'incident.read' },
        schema: {
          tags: ['incidents'],
          summary: "An incident's attachments",
          params: idParams,
          response: { 200: z.object({ items: z.array(attachmentSchema) }), ...errorResponses },
        },
      },
      async (request) => ({ items: (await listAttachments(services, actorOf(request), request.params.id)).map(out) }),
    );

    app.get(
      '/api/v1/incidents/:id/attachments/:attachmentId',
      {
        config: { permission: 'incident.read' },
        schema: {
          tags: ['incidents'],
          summary: 'Download an attachment (always as a download, sandboxed, never rendered inline)',
          params: idParams.extend({ attachmentId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) }).strict(),
          response: { 200: z.unknown().describe('The file, as stored'), ...errorResponses },
        },
      },
      async (request, reply) => {
        const { attachment, content } = await readAttachment(
          services,
          dir,
          actorOf(request),
          request.params.id,
          request.params.attachmentId,
        );
        return reply
          .header('content-type', attachment.contentType === 'text/plain' ? 'text/plain; charset=utf-8' : attachment.contentType)
          .header('content-disposition', disposition(attachment.fileName))
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', "sandbox; default-src 'none'")
          .header('cache-control', 'private, no-store')
          .send(content);
      },
    );
  };
}
