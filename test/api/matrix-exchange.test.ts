import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_MATRIX } from '../../src/domain/seed-matrix.js';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const definition = (m: any) => ({
  tiers: m.tiers,
  categories: m.categories,
  cells: m.cells,
  sla: m.sla,
  priorityTable: m.priorityTable,
});

describe.each(ENGINES)('matrix export and import over the API on %s', (engine) => {
  let t: TestServer;
  let admin: TestUser, agent: TestUser;

  /** Raw bytes of an export, with its content type. */
  const download = async (query: string, as = admin) => {
    const res = await fetch(`${t.url}/api/v1/matrix/export?${query}`, { headers: { authorization: `Bearer ${as.token}` } });
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      disposition: res.headers.get('content-disposition'),
      data: Buffer.from(await res.arrayBuffer()),
    };
  };
  const upload = async (data: Buffer | string, type: string, as = admin, query = '') => {
    const res = await fetch(`${t.url}/api/v1/matrix/import${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${as.token}`, 'content-type': type },
      body: data,
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    t = await startServer(engine);
    admin = await t.user('admin');
    agent = await t.user('agent');
  });
  afterAll(() => t?.close());

  it('exports the matrix in each format with its content type, to any signed-in user', async () => {
    const json = await download('format=json', agent);
    expect(json.status).toBe(200);
    expect(json.type).toMatch(/^application\/json/);
    expect(definition(JSON.parse(json.data.toString()))).toEqual(definition(SEED_MATRIX));
    const csv = await download('format=csv');
    expect(csv.type).toMatch(/^text\/csv/);
    expect(csv.disposition).toContain('palier-matrix-v1.csv');
    expect(csv.data.toString()).toContain('Temps d’arrêt du réseau');
    const xlsx = await download('format=xlsx&lang=en');
    expect(xlsx.type).toBe(XLSX);
    expect(xlsx.data.subarray(0, 2).toString()).toBe('PK');
    const pdf = await download('format=pdf&lang=en');
    expect(pdf.type).toBe('application/pdf');
    expect(pdf.data.subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('refuses an unknown format or version with a 4xx JSON error', async () => {
    const bad = await t.api('GET', '/api/v1/matrix/export?format=docx', { as: admin });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    const missing = await t.api('GET', '/api/v1/matrix/export?format=csv&version=99', { as: admin });
    expect(missing.status).toBe(404);
  });

  it.each([
    ['csv', 'text/csv'],
    ['xlsx', XLSX],
    ['json', 'application/json'],
    ['xlsx', 'application/octet-stream'],
  ])('imports a %s export sent as %s back as a new version equal to the seed', async (format, type) => {
    const before = await t.count('matrix_versions');
    const file = await download(`format=${format}`);
    const res = await upload(file.data, type, admin, '?comment=round%20trip');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.version).toBe(before + 1);
    expect(res.body.comment).toBe('round trip');
    expect(definition(res.body)).toEqual(definition(SEED_MATRIX));
  });

  it('refuses a malformed CSV with errors naming row and column, and stores nothing', async () => {
    const before = await t.count('matrix_versions');
    const csv = (await download('format=csv')).data
      .toString()
      .replace('\r\nsla,,,,,,,,,L1,,,P1,PT15M,', '\r\nsla,,,,,,,,,L1,,,P1,15 minutes,');
    const res = await upload(csv, 'text/csv');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_matrix');
    expect(res.body.error.details).toEqual([
      {
        path: 'row 26, column "acknowledge"',
        message: expect.stringContaining('"15 minutes" is not a positive ISO 8601 duration'),
      },
    ]);
    expect(await t.count('matrix_versions')).toBe(before);
  });

  it('lets only administrators import', async () => {
    const before = await t.count('matrix_versions');
    const file = await download('format=csv');
    const res = await upload(file.data, 'text/csv', agent);
    expect(res.status).toBe(403);
    expect(await t.count('matrix_versions')).toBe(before);
  });
});
