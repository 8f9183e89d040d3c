import type { Kysely } from 'kysely';
import { conflict, forbidden, notFound } from '../domain/errors.js';
import type { Database } from '../store/schema.js';
import { diffMatrices, type MatrixChange } from '../domain/matrix-diff.js';
import { validateMatrix, type Matrix, type MatrixDefinition } from '../domain/matrix.js';
import { can, type Actor } from '../domain/policy.js';
import { SEED_MATRIX } from '../domain/seed-matrix.js';
import type { Services } from './context.js';

export async function currentMatrix(s: Services): Promise<Matrix> {
  const matrix = await s.matrices.current();
  if (!matrix) throw notFound('Matrix');
  return matrix;
}

/** `db` must be the open transaction when there is one: SQLite has a single connection. */
export async function matrixVersion(s: Services, version: number, db: Kysely<Database> = s.store.db): Promise<Matrix> {
  const matrix = await s.matrices.get(version, db);
  if (!matrix) throw notFound(`Matrix version ${version}`);
  return matrix;
}

export async function diffVersions(s: Services, from: number, to: number): Promise<MatrixChange[]> {
  const [a, b] = await Promise.all([matrixVersion(s, from), matrixVersion(s, to)]);
  return diffMatrices(a, b);
}

/**
 * Stores a new version. `baseVersion`, when given, must be the current version: an edit made on
 * an older version is refused instead of silently overwriting someone else's change.
 */
export async function saveMatrix(
  s: Services,
  actor: Actor | null,
  definition: MatrixDefinition,
  options: { baseVersion?: number | undefined; comment?: string | null | undefined } = {},
): Promise<Matrix> {
  if (actor && !can(actor, 'matrix.write')) throw forbidden('Only administrators can change the matrix');
  const valid = validateMatrix(definition);
  const version = await s.store.db.transaction().execute(async (trx) => {
    const latest = (await s.matrices.latestVersion(trx)) ?? 0;
    if (options.baseVersion !== undefined && options.baseVersion !== latest)
      throw conflict('version_conflict', `The matrix is at version ${latest}, not ${options.baseVersion}; reload and edit again`);
    await s.matrices.insert(trx, latest + 1, valid, s.clock.now(), actor?.id ?? null, options.comment ?? null);
    return latest + 1;
  });
  return matrixVersion(s, version);
}

/** Loads the default matrix on a new database. Safe to call from several processes at once. */
export async function ensureSeedMatrix(s: Services): Promise<void> {
  if ((await s.matrices.latestVersion()) !== undefined) return;
  try {
    await saveMatrix(s, null, SEED_MATRIX, { baseVersion: 0, comment: 'Default matrix' });
  } catch (error) {
    if ((await s.matrices.latestVersion()) === undefined) throw error;
  }
}
