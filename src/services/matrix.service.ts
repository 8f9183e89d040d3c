import type { Kysely } from 'kysely';
import { conflict, forbidden, invalid, notFound } from '../domain/errors.js';
import type { Database } from '../store/schema.js';
import { diffMatrices, type MatrixChange } from '../domain/matrix-diff.js';
import { namedUsers, validateMatrix, type Matrix, type MatrixDefinition } from '../domain/matrix.js';
import { can, confidentialRules, incidentScope, type Actor, type ConfidentialRules, type IncidentScope } from '../domain/policy.js';
import { SEED_MATRIX } from '../domain/seed-matrix.js';
import type { Services } from './context.js';

export async function currentMatrix(s: Services): Promise<Matrix> {
  const matrix = await s.matrices.current();
  if (!matrix) throw notFound('Matrix');
  return matrix;
}

// Matrix versions are immutable and cached by the repository: their rules are worked out once.
const rulesOf = new WeakMap<Matrix, ConfidentialRules>();

/** The confidential categories of the current matrix: what every incident read and list applies. */
export async function currentConfidentialRules(s: Services, db: Kysely<Database> = s.store.db): Promise<ConfidentialRules> {
  // Outside a transaction (reads), the version read within the last second is enough.
  const matrix = db === s.store.db ? await s.matrices.recent() : await s.matrices.current(db);
  if (!matrix) return new Map();
  let rules = rulesOf.get(matrix);
  if (!rules) rulesOf.set(matrix, (rules = confidentialRules(matrix)));
  return rules;
}

/** A filter within what the actor may see: their scope overrides any requester filter given. */
export async function withinScope<F extends object>(s: Services, actor: Actor, filter: F): Promise<F & IncidentScope> {
  return { ...filter, ...incidentScope(actor, await currentConfidentialRules(s)) };
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
  await checkNamedUsers(s, valid);
  const version = await s.store.db.transaction().execute(async (trx) => {
    const latest = (await s.matrices.latestVersion(trx)) ?? 0;
    if (options.baseVersion !== undefined && options.baseVersion !== latest)
      throw conflict('version_conflict', `The matrix is at version ${latest}, not ${options.baseVersion}; reload and edit again`);
    await s.matrices.insert(trx, latest + 1, valid, s.clock.now(), actor?.id ?? null, options.comment ?? null);
    return latest + 1;
  });
  // Reads that ran during the transaction may have kept the version before this one.
  s.matrices.forgetRecent();
  return matrixVersion(s, version);
}

/** The people a confidential category names must be staff accounts of this instance. */
async function checkNamedUsers(s: Services, matrix: MatrixDefinition): Promise<void> {
  const named = namedUsers(matrix);
  if (named.length === 0) return;
  const users = new Map((await s.users.byIds([...new Set(named.map((n) => n.user))])).map((u) => [u.id, u]));
  const problems = named.flatMap(({ path, user }) => {
    const found = users.get(user);
    if (!found) return [{ path, message: `unknown user ${user}` }];
    if (found.role === 'requester') return [{ path, message: `user ${user} is a requester: only staff can be named` }];
    return [];
  });
  if (problems.length > 0) throw invalid('invalid_matrix', `The matrix has ${problems.length} problem(s)`, problems);
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
