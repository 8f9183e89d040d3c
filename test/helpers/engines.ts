import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { DatabaseConfig } from '../../src/config.js';

export type EngineName = 'sqlite' | 'postgres';

/** The server PostgreSQL tests create their throwaway databases on. */
export const PG_ADMIN_URL = process.env.PALIER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

const pgUp = await postgresReachable();
if (!pgUp && process.env.CI) throw new Error(`PostgreSQL is required in CI but ${PG_ADMIN_URL} does not answer`);
if (!pgUp) console.warn(`PostgreSQL at ${PG_ADMIN_URL} does not answer: PostgreSQL tests are skipped`);

/** Every storage engine the suite runs against: `describe.each(ENGINES)`. */
export const ENGINES: EngineName[] = pgUp ? ['sqlite', 'postgres'] : ['sqlite'];

export interface FreshDatabase {
  config: DatabaseConfig;
  drop(): Promise<void>;
}

export async function freshDatabase(engine: EngineName): Promise<FreshDatabase> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'palier-test-'));
    return { config: { engine, path: join(dir, 'palier.db') }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `palier_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    config: { engine, url: url.toString() },
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
