import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Store } from './database.js';
import * as m0001 from './migrations/0001_initial.js';
import * as m0002 from './migrations/0002_escalation.js';
import * as m0003 from './migrations/0003_open_queue.js';
import * as m0004 from './migrations/0004_secret_and_vendor.js';
import * as m0005 from './migrations/0005_report_figures.js';
import * as m0006 from './migrations/0006_event_chain.js';
import * as m0007 from './migrations/0007_intake.js';
import * as m0008 from './migrations/0008_teams.js';
import * as m0009 from './migrations/0009_vendors.js';
import * as m0010 from './migrations/0010_vendor_figures.js';
import * as m0011 from './migrations/0011_deliveries.js';
import * as m0012 from './migrations/0012_sso_sign_out.js';

/** Forward-only, numbered migrations; each receives the engine for the few dialect differences. */
const MIGRATIONS = {
  '0001_initial': m0001,
  '0002_escalation': m0002,
  '0003_open_queue': m0003,
  '0004_secret_and_vendor': m0004,
  '0005_report_figures': m0005,
  '0006_event_chain': m0006,
  '0007_intake': m0007,
  '0008_teams': m0008,
  '0009_vendors': m0009,
  '0010_vendor_figures': m0010,
  '0011_deliveries': m0011,
  '0012_sso_sign_out': m0012,
};

class InCodeProvider implements MigrationProvider {
  constructor(private readonly store: Store) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return Object.fromEntries(
      Object.entries(MIGRATIONS).map(([name, m]) => [name, { up: (db) => m.up(db, this.store.engine) }]),
    );
  }
}

export async function migrateToLatest(store: Store): Promise<string[]> {
  const migrator = new Migrator({ db: store.db, provider: new InCodeProvider(store) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Brings the database to the named migration exactly (tests of a migration on older data). */
export async function migrateTo(store: Store, name: keyof typeof MIGRATIONS): Promise<void> {
  const migrator = new Migrator({ db: store.db, provider: new InCodeProvider(store) });
  const { error } = await migrator.migrateTo(name);
  if (error) throw error instanceof Error ? error : new Error(String(error));
}
