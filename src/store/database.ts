import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
} from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.js';
import type { Database } from './schema.js';

export type Engine = DatabaseConfig['engine'];

export interface Store {
  db: Kysely<Database>;
  engine: Engine;
  close(): Promise<void>;
}

/**
 * SQLite transactions start with BEGIN IMMEDIATE: they take the write lock up front, so two
 * processes sharing one file wait for each other (busy_timeout) instead of failing on upgrade.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly options: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(options);
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.options);
  }
}

/**
 * Kysely prepares every query afresh; compiling SQL is a large share of a short query's cost, so
 * prepared statements are kept by their text (bounded, least recently used dropped first).
 */
function withStatementCache(db: SQLite.Database, size = 500): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = db.prepare.bind(db);
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop !== 'prepare') return Reflect.get(target, prop, receiver);
      return (source: string) => {
        let stmt = cache.get(source);
        if (stmt) {
          cache.delete(source);
        } else {
          stmt = withRowBuilder(prepare(source));
          if (cache.size >= size) cache.delete(cache.keys().next().value!);
        }
        cache.set(source, stmt);
        return stmt;
      };
    },
  });
}

/**
 * better-sqlite3 builds each result row by setting its columns one by one, which costs more than
 * reading them: a queue page of wide incident rows spent most of its time there. Rows are read as
 * arrays instead and turned into objects by one object literal per statement (a fixed shape, the
 * same keys in the same order, a later column of the same name winning as before).
 */
export function withRowBuilder(stmt: SQLite.Statement): SQLite.Statement {
  if (!stmt.reader) return stmt;
  const names = stmt.columns().map((c) => c.name);
  // "__proto__" in a literal would set the prototype instead of a property.
  if (names.includes('__proto__')) return stmt;
  // Keys are JSON string literals, so no column name can escape into the generated code.
  const row = new Function('r', `return {${names.map((n, i) => `${JSON.stringify(n)}: r[${i}]`).join(', ')}};`) as (
    r: unknown[],
  ) => unknown;
  const raw = stmt.raw(true);
  return {
    reader: true,
    all: (...params: unknown[]) => (raw.all(...params) as unknown[][]).map(row),
    *iterate(...params: unknown[]) {
      for (const r of raw.iterate(...params) as IterableIterator<unknown[]>) yield row(r);
    },
    run: (...params: unknown[]) => raw.run(...params),
  } as unknown as SQLite.Statement;
}

export function openStore(config: DatabaseConfig): Store {
  if (config.engine === 'sqlite') {
    if (config.path !== ':memory:') mkdirSync(dirname(config.path), { recursive: true });
    const sqlite = new SQLite(config.path);
    sqlite.pragma('journal_mode = WAL');
    // NORMAL in WAL mode keeps every committed transaction across a process crash.
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    // SQLite's LIKE folds ASCII only; searches in French need "ÉCRAN" to match "écran".
    sqlite.function('palier_fold', { deterministic: true }, (text: unknown) =>
      typeof text === 'string' ? text.toLowerCase() : text,
    );
    const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(sqlite) }) });
    return { db, engine: 'sqlite', close: () => db.destroy() };
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: 10,
    // An unreachable server fails a request in seconds (503) instead of holding it forever.
    connectionTimeoutMillis: 5000,
    // Epoch-millisecond columns are bigint; they fit in a JS number.
    types: {
      getTypeParser: (oid: number, format?: 'text' | 'binary') =>
        oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'),
    },
  });
  pool.on('error', () => {}); // idle client errors surface on the next query instead of crashing
  // So do those of a client checked out between two queries (a transaction): without a listener,
  // a dropped connection would be an uncaught exception and take the whole server down.
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, engine: 'postgres', close: () => db.destroy() };
}
