import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';
import type { Database } from './schema.js';

/**
 * Multi-row INSERTs of one shape (statement, columns, number of rows) are built and compiled by
 * Kysely once; later ones reuse that SQL and bind only their values. Building and compiling an
 * insert of hundreds of values cost more than SQLite took to run it (incident creation batches).
 * A shape is cached only after checking that Kysely bound exactly the rows' values, column by
 * column, in row order: anything it wrote into the SQL text instead is never reused.
 */
const compiled = new Map<string, string | null>();
const LIMIT = 2_000;

export async function insertRows<R extends Record<string, unknown>, O = unknown>(
  db: Kysely<Database>,
  /** Names the statement: rows of the same shape under another name may build other SQL. */
  name: string,
  rows: readonly R[],
  build: (rows: readonly R[]) => Compilable<O>,
): Promise<QueryResult<O>> {
  const columns = Object.keys(rows[0] ?? {});
  const key = `${dialectOf(db)}|${name}|${rows.length}|${columns.join(',')}`;
  const values = valuesOf(rows, columns);
  const sql = compiled.get(key);
  if (sql && values) return db.executeQuery<O>(CompiledQuery.raw(sql, values));
  const query = build(rows).compile();
  if (sql === undefined && values) {
    if (compiled.size >= LIMIT) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, sameValues(query.parameters, values) ? query.sql : null);
  }
  return db.executeQuery<O>(query);
}

/** The rows' values in row, then column order; undefined if a row has other columns than the first. */
function valuesOf(rows: readonly Record<string, unknown>[], columns: string[]): unknown[] | undefined {
  const out: unknown[] = [];
  for (const row of rows) {
    let n = 0;
    for (const c in row) if (row[c] !== undefined) n++;
    if (n !== columns.length) return undefined;
    for (const c of columns) {
      if (row[c] === undefined) return undefined;
      out.push(row[c]);
    }
  }
  return out;
}

const sameValues = (a: readonly unknown[], b: readonly unknown[]) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

/** SQL text differs between dialects; a transaction shares its database's adapter. */
const dialectOf = (db: Kysely<Database>) => db.getExecutor().adapter.constructor.name;
