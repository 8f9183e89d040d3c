import SQLite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { withRowBuilder } from '../../src/store/database.js';

// The row builder must hand Kysely exactly the objects better-sqlite3 itself would have built.
describe('SQLite rows read as arrays', () => {
  const db = new SQLite(':memory:');
  afterAll(() => db.close());
  db.exec(`create table t (id integer primary key, title text not null, note text, n bigint, x real, b blob);
    insert into t (title, note, n, x, b) values ('écran "noir"', null, 1700000000000, 1.5, x'00ff'), ('b', 'c', null, null, null);`);

  const same = (sql: string, ...params: unknown[]) => {
    const built = withRowBuilder(db.prepare(sql));
    const plain = db.prepare(sql);
    const rows = built.all(...params) as Array<Record<string, unknown>>;
    expect(rows).toEqual(plain.all(...params));
    rows.forEach((r, i) => expect(Object.keys(r)).toEqual(Object.keys(plain.all(...params)[i] as object)));
    expect([...built.iterate(...params)]).toEqual(plain.all(...params));
    return rows;
  };

  it('gives the same rows, keys in the same order, with parameters', () => {
    expect(same('select * from t where id >= ? order by id', 1)).toHaveLength(2);
    expect(same('select title, n as "weird key", id from t where title = ?', 'b')).toEqual([{ title: 'b', 'weird key': null, id: 2 }]);
  });

  it('keeps the last of two columns of the same name, as better-sqlite3 does', () => {
    expect(same('select 1 as a, 2 as a')).toEqual([{ a: 2 }]);
  });

  it('cannot be steered by a column name', () => {
    const rows = same(`select 1 as "}; throw new Error('x'); //", 2 as "__proto__"`);
    expect(Object.getPrototypeOf(rows[0])).toBe(Object.prototype);
  });

  it('leaves writes alone, and RETURNING rows come back as objects', () => {
    const insert = withRowBuilder(db.prepare('insert into t (title) values (?)'));
    expect(insert.run('c').changes).toBe(1);
    expect(withRowBuilder(db.prepare('insert into t (title) values (?) returning id, title')).all('d')).toEqual([{ id: 4, title: 'd' }]);
  });
});
