import { sql, type Generated, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/database.js';
import { insertRows } from '../../src/store/insert-rows.js';
import type { Database } from '../../src/store/schema.js';
import { ENGINES, freshDatabase, type FreshDatabase } from '../helpers/engines.js';

interface Row extends Record<string, unknown> {
  name: string;
  note?: string | null | undefined;
  n: number;
}
type Db = Kysely<{ t_rows: { id: Generated<number>; name: string; note: string | null; n: number } }>;

describe.each(ENGINES)('insertRows on %s', (engine) => {
  let fresh: FreshDatabase;
  let store: Store;
  let db: Db;

  beforeAll(async () => {
    fresh = await freshDatabase(engine);
    store = openStore(fresh.config);
    db = store.db as unknown as Db;
    const id = engine === 'sqlite' ? sql`integer primary key` : sql`serial primary key`;
    await sql`create table t_rows (id ${id}, name text not null unique, note text default 'none', n integer not null)`.execute(db);
  });
  afterAll(async () => {
    await store?.close();
    await fresh?.drop();
  });

  const all = async () => db.selectFrom('t_rows').select(['name', 'note', 'n']).orderBy('id').execute();
  const insert = (rows: Row[]) =>
    insertRows(store.db as Kysely<Database>, 'test rows', rows, (values) => db.insertInto('t_rows').values(values).returning('id'));

  it('stores batches of one shape with their own values, the later ones through the SQL of the first', async () => {
    const first = await insert([
      { name: 'a', note: 'it\'s "quoted"', n: 1 },
      { name: 'b', note: null, n: 2 },
    ]);
    const second = await insert([
      { name: 'c', note: null, n: 3 },
      { name: 'd', note: '; drop table t_rows; --', n: 4 },
    ]);
    expect(first.rows).toHaveLength(2);
    expect(second.rows.map((r) => Number(r.id))).toEqual(second.rows.map((r) => Number(r.id)).sort((x, y) => x - y));
    expect(await all()).toEqual([
      { name: 'a', note: 'it\'s "quoted"', n: 1 },
      { name: 'b', note: null, n: 2 },
      { name: 'c', note: null, n: 3 },
      { name: 'd', note: '; drop table t_rows; --', n: 4 },
    ]);
  });

  it('writes a batch whose rows lack a column as Kysely alone would, whatever the earlier batches were', async () => {
    const batches: Row[][] = [
      [
        { name: 'e', note: 'x', n: 5 },
        { name: 'f', note: 'y', n: 6 },
      ],
      [
        { name: 'g', n: 7 },
        { name: 'h', note: undefined, n: 8 },
      ],
      [
        { name: 'i', note: 'z', n: 9 },
        { name: 'j', n: 10 },
      ],
    ];
    for (const rows of batches) {
      await insert(rows);
      await db
        .insertInto('t_rows')
        .values(rows.map((r) => ({ ...r, name: `ref-${r.name}` })))
        .execute();
    }
    const rows = await all();
    const written = rows.filter((r) => /^[e-j]$/.test(r.name));
    const reference = rows.filter((r) => r.name.startsWith('ref-')).map((r) => ({ ...r, name: r.name.slice(4) }));
    expect(written).toEqual(reference);
    expect(written.map((r) => r.n)).toEqual([5, 6, 7, 8, 9, 10]);
    expect(written.find((r) => r.name === 'i')!.note).toBe('z');
  });

  it('keeps the conflict clause of the statement it reuses', async () => {
    const upsert = (rows: Row[]) =>
      insertRows(store.db as Kysely<Database>, 'test rows add', rows, (values) =>
        db
          .insertInto('t_rows')
          .values(values)
          .onConflict((oc) => oc.column('name').doUpdateSet({ n: sql`t_rows.n + excluded.n` })),
      );
    await upsert([{ name: 'k', note: null, n: 1 }]);
    await upsert([{ name: 'k', note: null, n: 10 }]);
    await upsert([{ name: 'k', note: null, n: 100 }]);
    expect((await all()).find((r) => r.name === 'k')).toEqual({ name: 'k', note: null, n: 111 });
  });
});
