import type { Kysely } from 'kysely';
import { DEFAULT_PRIORITY_TABLE } from '../domain/priority.js';
import type { Matrix, MatrixDefinition } from '../domain/matrix.js';
import type { Database } from './schema.js';

export interface MatrixVersionInfo {
  version: number;
  createdAt: string;
  createdBy: number | null;
  comment: string | null;
}

/** Matrix versions are immutable, so a parsed version is cached for the life of the process. */
export class MatrixRepository {
  private readonly cache = new Map<number, Matrix>();
  /** The latest version as last read by `recent`, and when (performance.now()). */
  private latest?: { version: number | undefined; at: number };
  private generation = 0;

  constructor(private readonly db: Kysely<Database>) {}

  async latestVersion(db: Kysely<Database> = this.db): Promise<number | undefined> {
    const row = await db.selectFrom('matrix_versions').select((eb) => eb.fn.max('version').as('v')).executeTakeFirst();
    return row?.v == null ? undefined : Number(row.v);
  }

  async get(version: number, db: Kysely<Database> = this.db): Promise<Matrix | undefined> {
    const cached = this.cache.get(version);
    if (cached) return cached;
    const row = await db.selectFrom('matrix_versions').selectAll().where('version', '=', version).executeTakeFirst();
    if (!row) return undefined;
    const definition = JSON.parse(row.definition) as MatrixDefinition;
    const matrix: Matrix = {
      ...definition,
      version: row.version,
      priorityTable: definition.priorityTable ?? DEFAULT_PRIORITY_TABLE,
      createdAt: new Date(Number(row.created_at)).toISOString(),
      createdBy: row.created_by == null ? null : Number(row.created_by),
      comment: row.comment,
    };
    this.cache.set(version, matrix);
    return matrix;
  }

  async current(db: Kysely<Database> = this.db): Promise<Matrix | undefined> {
    const version = await this.latestVersion(db);
    return version === undefined ? undefined : this.get(version, db);
  }

  /**
   * The current matrix as read at most `maxAgeMs` ago, for reads outside a transaction that would
   * otherwise ask for the latest version on every request (the scope of every incident list). A
   * version stored through this process is seen at once; one stored by another process, within
   * `maxAgeMs`.
   */
  async recent(maxAgeMs = 1000): Promise<Matrix | undefined> {
    const now = performance.now();
    if (this.latest && now - this.latest.at < maxAgeMs) return this.latest.version === undefined ? undefined : this.get(this.latest.version);
    const generation = this.generation;
    const version = await this.latestVersion();
    // A version stored meanwhile may not be in what was just read: keep nothing then.
    if (generation === this.generation) this.latest = { version, at: now };
    return version === undefined ? undefined : this.get(version);
  }

  async list(): Promise<MatrixVersionInfo[]> {
    const rows = await this.db
      .selectFrom('matrix_versions')
      .select(['version', 'created_at', 'created_by', 'comment'])
      .orderBy('version', 'desc')
      .execute();
    return rows.map((r) => ({
      version: r.version,
      createdAt: new Date(Number(r.created_at)).toISOString(),
      createdBy: r.created_by == null ? null : Number(r.created_by),
      comment: r.comment,
    }));
  }

  /** Called when a version is stored, and again once its transaction has committed. */
  forgetRecent(): void {
    this.generation++;
    this.latest = undefined;
  }

  async insert(
    db: Kysely<Database>,
    version: number,
    definition: MatrixDefinition,
    at: number,
    createdBy: number | null,
    comment: string | null,
  ): Promise<void> {
    this.forgetRecent();
    await db
      .insertInto('matrix_versions')
      .values({ version, definition: JSON.stringify(definition), created_at: at, created_by: createdBy, comment })
      .execute();
  }
}
