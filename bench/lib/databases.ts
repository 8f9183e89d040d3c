import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { DatabaseConfig } from '../../src/config.js';

export type EngineName = DatabaseConfig['engine'];

export interface BenchDatabase {
  engine: EngineName;
  config: DatabaseConfig;
  /** Environment that points a Palier process at this database (PALIER_DB or DATABASE_URL). */
  env: Record<string, string>;
  /** Human-readable location, for the log. */
  label: string;
  drop(): Promise<void>;
}

export async function postgresReachable(adminUrl: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A brand-new, empty database: a file in a temporary directory, or `palier_bench_<random>` on the server. */
export async function freshDatabase(engine: EngineName, pgAdminUrl: string): Promise<BenchDatabase> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'palier-bench-'));
    const path = join(dir, 'palier.db');
    return {
      engine,
      config: { engine, path },
      env: { PALIER_DB: path },
      label: path,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `palier_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgAdminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(pgAdminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    engine,
    config: { engine, url: url.toString() },
    env: { DATABASE_URL: url.toString() },
    label: `${url.host}/${name}`,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      const c = new pg.Client({ connectionString: pgAdminUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
