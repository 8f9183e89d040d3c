import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export interface Attachment {
  id: number;
  incidentId: number;
  fileName: string;
  storageName: string;
  contentType: string;
  size: number;
  sha256: string;
  uploadedBy: number;
  createdAt: number;
}

export class AttachmentRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(a: Omit<Attachment, 'id'>): Promise<Attachment> {
    const row = await this.db
      .insertInto('attachments')
      .values({
        incident_id: a.incidentId,
        file_name: a.fileName,
        storage_name: a.storageName,
        content_type: a.contentType,
        size: a.size,
        sha256: a.sha256,
        uploaded_by: a.uploadedBy,
        created_at: a.createdAt,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { ...a, id: Number(row.id) };
  }

  async ofIncident(incidentId: number): Promise<Attachment[]> {
    const rows = await this.db
      .selectFrom('attachments')
      .selectAll()
      .where('incident_id', '=', incidentId)
      .orderBy('id')
      .execute();
    return rows.map(fromRow);
  }

  async get(incidentId: number, id: number): Promise<Attachment | undefined> {
    const row = await this.db
      .selectFrom('attachments')
      .selectAll()
      .where('id', '=', id)
      .where('incident_id', '=', incidentId)
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }
}

function fromRow(r: {
  id: number;
  incident_id: number;
  file_name: string;
  storage_name: string;
  content_type: string;
  size: number;
  sha256: string;
  uploaded_by: number;
  created_at: number;
}): Attachment {
  return {
    id: Number(r.id),
    incidentId: Number(r.incident_id),
    fileName: r.file_name,
    storageName: r.storage_name,
    contentType: r.content_type,
    size: Number(r.size),
    sha256: r.sha256,
    uploadedBy: Number(r.uploaded_by),
    createdAt: Number(r.created_at),
  };
}
