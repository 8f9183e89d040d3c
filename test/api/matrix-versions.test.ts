import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_MATRIX } from '../../src/domain/seed-matrix.js';
import { expectError } from '../helpers/api-assertions.js';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const CATEGORY = 'network-downtime';
const NEW_ACTION = {
  fr: 'Vérifier le câble réseau, puis redémarrer le commutateur d’étage.',
  en: 'Check the network cable, then restart the floor switch.',
};
const SEED_CELL = SEED_MATRIX.cells.find((c) => c.category === CATEGORY && c.tier === 'L1')!;
const SEED_SLA = SEED_MATRIX.sla.find((s) => s.tier === 'L1' && s.priority === 'P2')!;

describe.each(ENGINES)('matrix versions on %s', (engine) => {
  let t: TestServer;
  let admin: TestUser, requester: TestUser;
  let before: number;
  let v1: Json, v2: Json;

  const incident = async () => {
    // impact 2 x urgency 1 is P2 in the default priority table.
    const res = await t.api('POST', '/api/v1/incidents', {
      as: requester,
      body: { title: 'No network on floor 3', category: CATEGORY, impact: 2, urgency: 1 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.priority).toBe('P2');
    return res.body as Json;
  };

  beforeAll(async () => {
    t = await startServer(engine);
    admin = await t.user('admin');
    requester = await t.user('requester');
  });
  afterAll(() => t?.close());

  it('starts with the seed as version 1, and an incident opened now records it', async () => {
    const res = await t.api('GET', '/api/v1/matrix', { as: admin });
    expect(res.status).toBe(200);
    v1 = res.body;
    expect(v1.version).toBe(1);
    expect({ tiers: v1.tiers, categories: v1.categories, cells: v1.cells, sla: v1.sla }).toEqual({
      tiers: SEED_MATRIX.tiers,
      categories: SEED_MATRIX.categories,
      cells: SEED_MATRIX.cells,
      sla: SEED_MATRIX.sla,
    });
    const created = await incident();
    expect(created.matrixVersion).toBe(1);
    before = created.id;
  });

  it('stores an edit of one action and one SLA target as version 2', async () => {
    const edited = structuredClone(v1);
    const cell = edited.cells.find((c: Json) => c.category === CATEGORY && c.tier === 'L1');
    cell.actions[0] = NEW_ACTION;
    const target = edited.sla.find((s: Json) => s.tier === 'L1' && s.priority === 'P2');
    expect(target.resolve).not.toBe('PT5H');
    target.resolve = 'PT5H';
    edited.comment = 'Floor switches first; more time for L1 on P2';

    const put = await t.api('PUT', '/api/v1/matrix', { as: admin, body: edited });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    v2 = put.body;
    expect(v2.version).toBe(2);
    expect(v2.createdBy).toBe(admin.id);
    expect(v2.comment).toBe('Floor switches first; more time for L1 on P2');
    expect(v2.cells.find((c: Json) => c.category === CATEGORY && c.tier === 'L1').actions[0]).toEqual(NEW_ACTION);
    expect(v2.sla.find((s: Json) => s.tier === 'L1' && s.priority === 'P2').resolve).toBe('PT5H');

    const current = await t.api('GET', '/api/v1/matrix', { as: requester });
    expect(current.status).toBe(200);
    expect(current.body).toEqual(v2);
    expect(await t.count('matrix_versions')).toBe(2);
  });

  it('lists the versions newest first', async () => {
    const res = await t.api('GET', '/api/v1/matrix/versions', { as: requester });
    expect(res.status).toBe(200);
    expect(res.body.map((v: Json) => v.version)).toEqual([2, 1]);
    expect(res.body[0]).toMatchObject({
      version: 2,
      createdBy: admin.id,
      comment: 'Floor switches first; more time for L1 on P2',
    });
    expect(res.body[1]).toMatchObject({ version: 1, createdBy: null });
    expect(Date.parse(res.body[0].createdAt)).toBeGreaterThanOrEqual(Date.parse(res.body[1].createdAt));
  });

  it('still serves version 1 as the seed', async () => {
    const res = await t.api('GET', '/api/v1/matrix/versions/1', { as: requester });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(v1);
    expect(res.body.cells.find((c: Json) => c.category === CATEGORY && c.tier === 'L1')).toEqual(SEED_CELL);
    expect(res.body.sla.find((s: Json) => s.tier === 'L1' && s.priority === 'P2')).toEqual(SEED_SLA);
    const two = await t.api('GET', '/api/v1/matrix/versions/2', { as: requester });
    expect(two.body).toEqual(v2);
  });

  it('diffs version 1 and 2 to exactly the changed cell and SLA target', async () => {
    const res = await t.api('GET', '/api/v1/matrix/diff?from=1&to=2', { as: requester });
    expect(res.status).toBe(200);
    expect(res.body.from).toBe(1);
    expect(res.body.to).toBe(2);
    const changes = [...res.body.changes].sort((a: Json, b: Json) => a.path.localeCompare(b.path));
    expect(changes).toEqual([
      {
        kind: 'changed',
        path: `cells.${CATEGORY}.L1`,
        before: SEED_CELL,
        after: { ...SEED_CELL, actions: [NEW_ACTION, ...SEED_CELL.actions.slice(1)] },
      },
      { kind: 'changed', path: 'sla.L1.P2', before: SEED_SLA, after: { ...SEED_SLA, resolve: 'PT5H' } },
    ]);
    const same = await t.api('GET', '/api/v1/matrix/diff?from=2&to=2', { as: requester });
    expect(same.body.changes).toEqual([]);
    const back = await t.api('GET', '/api/v1/matrix/diff?from=2&to=1', { as: requester });
    expect(back.body.changes.map((c: Json) => [c.kind, c.path]).sort()).toEqual([
      ['changed', `cells.${CATEGORY}.L1`],
      ['changed', 'sla.L1.P2'],
    ]);
  });

  it('keeps an incident opened before the edit on version 1 and its old checklist; a new one gets version 2', async () => {
    const old = await t.api('GET', `/api/v1/incidents/${before}`, { as: requester });
    expect(old.status, JSON.stringify(old.body)).toBe(200);
    expect(old.body.matrixVersion).toBe(1);
    expect(old.body.checklist.map((c: Json) => c.action)).toEqual(SEED_CELL.actions);
    expect(old.body.checklist[0].action).not.toEqual(NEW_ACTION);

    const created = await incident();
    expect(created.matrixVersion).toBe(2);
    const fresh = await t.api('GET', `/api/v1/incidents/${created.id}`, { as: requester });
    expect(fresh.status, JSON.stringify(fresh.body)).toBe(200);
    expect(fresh.body.matrixVersion).toBe(2);
    expect(fresh.body.checklist[0].action).toEqual(NEW_ACTION);
    expect(fresh.body.checklist.map((c: Json) => c.action)).toEqual([NEW_ACTION, ...SEED_CELL.actions.slice(1)]);

    // The stored incident still says version 1 after the edit, however it is read.
    const list = await t.api('GET', '/api/v1/incidents?limit=200', { as: admin });
    const versions = Object.fromEntries(list.body.items.map((i: Json) => [i.id, i.matrixVersion]));
    expect(versions[before]).toBe(1);
    expect(versions[created.id]).toBe(2);
  });

  it('answers 404 for a version that does not exist, in a read and in a diff', async () => {
    expectError(await t.api('GET', '/api/v1/matrix/versions/99', { as: requester }), 404, 'not_found');
    expectError(await t.api('GET', '/api/v1/matrix/diff?from=1&to=99', { as: requester }), 404, 'not_found');
    expectError(await t.api('GET', '/api/v1/matrix/versions/abc', { as: requester }), 400, 'validation_failed');
  });

  it('takes back a GET result as is, even one whose comment is null', async () => {
    // A version stored without a comment reads back with "comment": null.
    const plain = structuredClone(v2);
    delete plain.comment;
    const three = await t.api('PUT', '/api/v1/matrix', { as: admin, body: plain });
    expect(three.status, JSON.stringify(three.body)).toBe(200);
    expect(three.body.version).toBe(3);

    const got = await t.api('GET', '/api/v1/matrix', { as: admin });
    expect(got.body.version).toBe(3);
    expect(got.body.comment ?? null).toBeNull();
    const four = await t.api('PUT', '/api/v1/matrix', { as: admin, body: got.body });
    expect(four.status, JSON.stringify(four.body)).toBe(200);
    expect(four.body.version).toBe(4);
    const diff = await t.api('GET', '/api/v1/matrix/diff?from=3&to=4', { as: admin });
    expect(diff.body.changes).toEqual([]);
  });
});
