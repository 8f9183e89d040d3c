import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileTypeFromBuffer } from 'file-type';
import { DomainError, forbidden } from '../domain/errors.js';
import { can, type Actor } from '../domain/policy.js';
import type { Attachment } from '../store/attachment.repository.js';
import type { Services } from './context.js';
import { readableIncident } from './incident.service.js';
import { currentConfidentialRules } from './matrix.service.js';

/**
 * What may be attached, recognised by content (magic numbers), never by the name or the type the
 * client claims. Plain text is accepted when it is valid UTF-8 with no NUL and does not look like
 * markup: HTML, SVG and XML are refused, as they could run script if ever opened inline.
 */
const BINARY_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'application/zip']);
const MARKUP = /^\s*<(!doctype|html|head|body|svg|\?xml|script|iframe|object|embed|meta|link|style)\b/i;

export async function detectType(content: Buffer): Promise<string> {
  const detected = await fileTypeFromBuffer(content);
  if (detected) {
    if (BINARY_TYPES.has(detected.mime)) return detected.mime;
    throw unsupported(`${detected.mime} files are not accepted`);
  }
  const text = content.toString('utf8');
  const isText = !content.includes(0) && Buffer.from(text, 'utf8').equals(content);
  if (!isText) throw unsupported('Unrecognised binary content');
  const body = text.replace(/^\uFEFF/, '');
  if (MARKUP.test(body) || /<\s*(script|svg|html|iframe)\b/i.test(body.slice(0, 4096)))
    throw unsupported('HTML, SVG and XML files are not accepted');
  return 'text/plain';
}

const unsupported = (message: string) =>
  new DomainError('invalid', 'unsupported_attachment_type', `${message}; accepted: PNG, JPEG, GIF, WebP, PDF, ZIP, plain text`);

/** The uploader's name, reduced to a harmless label: no directories, no control characters. */
export function cleanFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f"<>|*?:]/g, '_')
    .replace(/^\.+/, '')
    .trim()
    .slice(0, 200);
  return cleaned || 'attachment';
}

export async function addAttachment(
  s: Services,
  dir: string,
  actor: Actor,
  incidentId: number,
  upload: { fileName: string; content: Buffer },
): Promise<Attachment> {
  const incident = await readableIncident(s, actor, incidentId);
  if (!can(actor, 'incident.comment', incident, await currentConfidentialRules(s))) throw forbidden();
  const contentType = await detectType(upload.content);
  const storageName = randomBytes(16).toString('hex');
  await mkdir(dir, { recursive: true });
  // Written under a temporary name, then renamed: a crash never leaves a half file under a real name.
  const path = join(dir, storageName);
  await writeFile(`${path}.part`, upload.content, { flag: 'wx', mode: 0o600 });
  await rename(`${path}.part`, path);
  try {
    return await s.attachments.insert({
      incidentId,
      fileName: cleanFileName(upload.fileName),
      storageName,
      contentType,
      size: upload.content.length,
      sha256: createHash('sha256').update(upload.content).digest('hex'),
      uploadedBy: actor.id,
      createdAt: s.clock.now(),
    });
  } catch (error) {
    await unlink(path).catch(() => {});
    throw error;
  }
}

export async function listAttachments(s: Services, actor: Actor, incidentId: number): Promise<Attachment[]> {
  await readableIncident(s, actor, incidentId);
  return s.attachments.ofIncident(incidentId);
}

export async function readAttachment(
  s: Services,
  dir: string,
  actor: Actor,
  incidentId: number,
  id: number,
): Promise<{ attachment: Attachment; content: Buffer }> {
  await readableIncident(s, actor, incidentId);
  const attachment = await s.attachments.get(incidentId, id);
  if (!attachment) throw new DomainError('not_found', 'not_found', `Attachment ${id} not found`);
  return { attachment, content: await readFile(join(dir, attachment.storageName)) };
}
