import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/domain/clock.js';
import { createServices } from '../../src/services/context.js';
import { ensureSeedMatrix } from '../../src/services/matrix.service.js';
import { createVendor } from '../../src/services/vendor.service.js';
import { openStore } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';

const ROOT = resolve(import.meta.dirname, '../..');

function palier(args: string[], dbPath: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent', PALIER_DB: dbPath };
  delete env.DATABASE_URL;
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env, timeout: 50_000 },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe('palier user add --role vendor', { timeout: 60_000 }, () => {
  let dir: string;
  let dbPath: string;
  let vendorId: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palier-cli-vendor-'));
    dbPath = join(dir, 'palier.db');
    const store = openStore({ engine: 'sqlite', path: dbPath });
    try {
      await migrateToLatest(store);
      const s = createServices(store, systemClock);
      await ensureSeedMatrix(s);
      const vendor = await createVendor(s, {
        name: 'Opérateur télécom',
        categories: ['network-downtime'],
        email: 'support@operateur.example',
        phone: null,
        locale: 'fr',
        contractRef: null,
        acknowledge: 'PT4H',
        resolve: null,
      });
      vendorId = vendor.id;
    } finally {
      await store.close();
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a vendor contact of an existing vendor, and refuses one without a vendor', async () => {
    const ok = await palier(
      ['user', 'add', '--email', 'contact@operateur.example', '--role', 'vendor', '--vendor', String(vendorId)],
      dbPath,
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/Created vendor contact@operateur\.example/);
    const missing = await palier(['user', 'add', '--email', 'other@operateur.example', '--role', 'vendor'], dbPath);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/needs a vendor/);

    const store = openStore({ engine: 'sqlite', path: dbPath });
    try {
      const users = await store.db
        .selectFrom('users')
        .select(['email', 'role', 'vendor_id'])
        .where('role', '=', 'vendor')
        .where('disabled_at', 'is', null)
        .execute();
      expect(users).toEqual([{ email: 'contact@operateur.example', role: 'vendor', vendor_id: vendorId }]);
    } finally {
      await store.close();
    }
  });
});
