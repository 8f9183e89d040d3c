import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPalier } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { SEED_MATRIX } from '../../src/domain/seed-matrix.js';
import { openStore } from '../../src/store/database.js';
import { MatrixRepository } from '../../src/store/matrix.repository.js';
import { ENGINES, freshDatabase, type FreshDatabase } from '../helpers/engines.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const ROOT = resolve(import.meta.dirname, '../..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `palier` command from source, with only the database settings the test gives. */
function palier(args: string[], db: { PALIER_DB?: string; DATABASE_URL?: string }): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent', ...db };
  if (!db.DATABASE_URL) delete env.DATABASE_URL;
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env, timeout: 50_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** Like `palier`, for commands that print bytes (XLSX, PDF) to standard output. */
function palierBytes(args: string[], db: { PALIER_DB?: string }): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent', ...db };
  delete env.DATABASE_URL;
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env, timeout: 50_000, maxBuffer: 16 * 1024 * 1024, encoding: 'buffer' },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr: stderr.toString() }),
    );
  });
}

const show = (r: Run) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

const definition = (m: Json) => ({ tiers: m.tiers, categories: m.categories, cells: m.cells, sla: m.sla });
const seed = () => definition(SEED_MATRIX);

// Each run starts Node and compiles the CLI with tsx: seconds each, more on a busy machine.
describe('the palier command on SQLite', { timeout: 60_000 }, () => {
  let dir: string;
  let dbPath: string;
  let db: { PALIER_DB: string };
  let exported: Json;
  const editedAction = { fr: 'Redémarrer la box du site.', en: 'Restart the site router.' };

  /** The latest stored matrix version, read in-process (cheaper than another export). */
  const storedVersion = async (): Promise<number | undefined> => {
    const store = openStore({ engine: 'sqlite', path: dbPath });
    try {
      return await new MatrixRepository(store.db).latestVersion();
    } finally {
      await store.close();
    }
  };

  const exportMatrix = async (): Promise<Json> => {
    const run = await palier(['matrix', 'export'], db);
    expect(run.code, show(run)).toBe(0);
    return JSON.parse(run.stdout);
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'palier-cli-'));
    dbPath = join(dir, 'palier.db');
    db = { PALIER_DB: dbPath };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('migrates a new database (exit 0) and loads the default matrix', async () => {
    const run = await palier(['migrate'], db);
    expect(run.code, show(run)).toBe(0);
    expect(run.stdout).toMatch(/0001_initial/);
    expect(await storedVersion()).toBe(1);
  });

  it('adds an admin who can then sign in through the API', async () => {
    const run = await palier(['user', 'add', '--email', 'a@x.test', '--password', 'long-password-1', '--role', 'admin'], db);
    expect(run.code, show(run)).toBe(0);
    expect(run.stdout).toMatch(/a@x\.test/);

    const app = await createPalier(loadConfig({ LOG_LEVEL: 'silent', PALIER_DB: dbPath }));
    try {
      const res = await app.server.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        payload: { email: 'a@x.test', password: 'long-password-1' },
      });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      expect(body.token).toMatch(/\S{20,}/);
      expect(body.user).toMatchObject({ email: 'a@x.test', role: 'admin', tiers: [] });
      const wrong = await app.server.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        payload: { email: 'a@x.test', password: 'not-the-password' },
      });
      expect(wrong.statusCode).toBe(401);
    } finally {
      await app.close();
    }
  });

  it('refuses an agent without --tier (exit 2, clear message)', async () => {
    const run = await palier(['user', 'add', '--email', 'agent@x.test', '--password', 'long-password-1', '--role', 'agent'], db);
    expect(run.code, show(run)).toBe(2);
    expect(run.stderr).toMatch(/tier/i);
    expect(run.stderr).not.toMatch(/\n\s+at\s/);
  });

  it('refuses an agent at an unknown tier (exit 2, names the tier)', async () => {
    const run = await palier(
      ['user', 'add', '--email', 'agent9@x.test', '--password', 'long-password-1', '--role', 'agent', '--tier', 'L9'],
      db,
    );
    expect(run.code, show(run)).toBe(2);
    expect(run.stderr).toMatch(/unknown tier/i);
    expect(run.stderr).toContain('L9');
    expect(run.stderr).not.toMatch(/\n\s+at\s/);
  });

  it('created no user for the refused commands', async () => {
    const app = await createPalier(loadConfig({ LOG_LEVEL: 'silent', PALIER_DB: dbPath }));
    try {
      expect(await app.services.users.byEmail('agent@x.test')).toBeUndefined();
      expect(await app.services.users.byEmail('agent9@x.test')).toBeUndefined();
      expect(await app.services.users.byEmail('a@x.test')).toMatchObject({ role: 'admin' });
    } finally {
      await app.close();
    }
  });

  it('exports the seed matrix as JSON: version 1, 4 tiers, 16 cells', async () => {
    exported = await exportMatrix();
    expect(exported.version).toBe(1);
    expect(exported.tiers).toHaveLength(4);
    expect(exported.cells).toHaveLength(16);
    expect(definition(exported)).toEqual(seed());
  });

  it('imports an edited export as version 2, which the next export shows', async () => {
    const edited = structuredClone(exported);
    const cell = edited.cells.find((c: Json) => c.category === 'network-downtime' && c.tier === 'L1');
    cell.actions[0] = editedAction;
    const file = join(dir, 'edited.json');
    writeFileSync(file, JSON.stringify(edited, null, 2));

    const run = await palier(['matrix', 'import', file], db);
    expect(run.code, show(run)).toBe(0);
    expect(run.stdout).toMatch(/version 2\b/);

    const after = await exportMatrix();
    expect(after.version).toBe(2);
    expect(after.cells.find((c: Json) => c.category === 'network-downtime' && c.tier === 'L1').actions[0]).toEqual(editedAction);
    const expected = structuredClone(seed());
    expected.cells.find((c: Json) => c.category === 'network-downtime' && c.tier === 'L1')!.actions[0] = editedAction;
    expect(definition(after)).toEqual(expected);
  });

  it('refuses a malformed JSON file (exit 2, says so) and keeps version 2', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"tiers": [ {"key": "L1", ');
    const run = await palier(['matrix', 'import', file], db);
    expect(run.code, show(run)).toBe(2);
    expect(run.stderr).toMatch(/not valid JSON/i);
    expect(run.stderr).toContain('broken.json');
    expect(run.stderr).not.toMatch(/\n\s+at\s/);
    expect(await storedVersion()).toBe(2);
  });

  it('refuses a matrix with an unknown tier in a cell (exit 2, names the cell) and keeps version 2', async () => {
    const bad = structuredClone(exported);
    const i = bad.cells.findIndex((c: Json) => c.category === 'data-security-breach' && c.tier === 'L3');
    bad.cells[i].tier = 'L9';
    const file = join(dir, 'unknown-tier.json');
    writeFileSync(file, JSON.stringify(bad));
    const run = await palier(['matrix', 'import', file], db);
    expect(run.code, show(run)).toBe(2);
    expect(run.stderr).toContain(`cells[${i}].tier`);
    expect(run.stderr).toContain('L9');
    expect(run.stderr).not.toMatch(/\n\s+at\s/);
    expect(await storedVersion()).toBe(2);
  });

  it('exports the matrix as CSV, XLSX and PDF to standard output, and imports the CSV and XLSX back', async () => {
    const csv = await palier(['matrix', 'export', '--format', 'csv'], db);
    expect(csv.code, show(csv)).toBe(0);
    expect(csv.stdout).toMatch(/^\uFEFFkind,key,/);
    const xlsx = await palierBytes(['matrix', 'export', '--format', 'xlsx', '--lang', 'en'], db);
    expect(xlsx.code, xlsx.stderr).toBe(0);
    expect(xlsx.stdout.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    const pdf = await palierBytes(['matrix', 'export', '--format', 'pdf'], db);
    expect(pdf.code, pdf.stderr).toBe(0);
    expect(pdf.stdout.subarray(0, 5).toString()).toBe('%PDF-');

    const current = await exportMatrix();
    // A file without an extension: the format is told from its content.
    writeFileSync(join(dir, 'matrix-sheet'), xlsx.stdout);
    writeFileSync(join(dir, 'matrix.csv'), csv.stdout);
    for (const [file, version] of [['matrix.csv', current.version + 1], ['matrix-sheet', current.version + 2]] as const) {
      const run = await palier(['matrix', 'import', join(dir, file)], db);
      expect(run.code, show(run)).toBe(0);
      expect(run.stdout).toContain(`version ${version}`);
    }
    expect(definition(await exportMatrix())).toEqual(definition(current));
  }, 180_000);

  it('refuses a malformed CSV (exit 2) naming row and column, and stores nothing', async () => {
    const before = await storedVersion();
    const csv = await palier(['matrix', 'export', '--format', 'csv'], db);
    const file = join(dir, 'broken.csv');
    writeFileSync(file, csv.stdout.replace('\r\ntier,L2,', '\r\ntier,,'));
    const run = await palier(['matrix', 'import', file], db);
    expect(run.code, show(run)).toBe(2);
    expect(run.stderr).toContain('broken.csv');
    expect(run.stderr).toContain('row 3, column "key": required');
    expect(run.stderr).not.toMatch(/\n\s+at\s/);
    expect(await storedVersion()).toBe(before);
  });
});

describe.runIf(ENGINES.includes('postgres'))('the palier command on PostgreSQL', { timeout: 60_000 }, () => {
  let fresh: FreshDatabase;
  let db: { DATABASE_URL: string };

  beforeAll(async () => {
    fresh = await freshDatabase('postgres');
    if (fresh.config.engine !== 'postgres') throw new Error('expected a PostgreSQL database');
    db = { DATABASE_URL: fresh.config.url };
  });
  afterAll(() => fresh?.drop());

  it('migrates a new database and exports the seed matrix', async () => {
    const migrate = await palier(['migrate'], db);
    expect(migrate.code, show(migrate)).toBe(0);
    expect(migrate.stdout).toMatch(/0001_initial/);

    const run = await palier(['matrix', 'export'], db);
    expect(run.code, show(run)).toBe(0);
    const matrix = JSON.parse(run.stdout);
    expect(matrix.version).toBe(1);
    expect(matrix.tiers).toHaveLength(4);
    expect(matrix.cells).toHaveLength(16);
    expect(definition(matrix)).toEqual(seed());
  });
});
