import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfill } from '../../src/store/migrations/0005_report_figures.js';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { loadFixture, T0, TestClock } from '../insight/fixture.js';

describe.each(ENGINES)('stored report figures on %s', (engine) => {
  let t: TestServer;

  beforeAll(async () => {
    const clock = new TestClock(T0 - 30 * 86_400_000);
    t = await startServer(engine, { clock });
    await loadFixture(t, clock);
  }, 60_000);
  afterAll(() => t?.close());

  const read = async () => {
    const db = t.palier.services.store.db;
    return {
      incidents: await db.selectFrom('incident_figures').selectAll().orderBy('incident_id').execute(),
      stints: await db.selectFrom('incident_stint_figures').selectAll().orderBy('incident_id').orderBy('n').execute(),
    };
  };

  it('keeps one row per incident and one per stint, written with every change', async () => {
    const { incidents, stints } = await read();
    expect(incidents).toHaveLength(await t.count('incidents'));
    // Stints: S0 1, S1 8, S2 4 x2, S3 4 x2, S4 4, S5 4, S6 2.
    expect(stints).toHaveLength(1 + 8 + 8 + 8 + 4 + 4 + 2);
    const seqs = await t.palier.services.store.db.selectFrom('incidents').select(['id', 'seq']).orderBy('id').execute();
    expect(incidents.map((f) => [Number(f.incident_id), f.seq])).toEqual(seqs.map((i) => [Number(i.id), i.seq]));
  });

  it('fills in the same figures from the events when the migration meets existing incidents', async () => {
    const db = t.palier.services.store.db;
    const before = await read();
    await db.deleteFrom('incident_stint_figures').execute();
    await db.deleteFrom('incident_figures').execute();
    await backfill(db);
    expect(await read()).toEqual(before);
  });
});
