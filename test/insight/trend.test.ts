import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/engines.js';
import { nameInConfidentialCategories } from '../helpers/confidential.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';
import { loadFixture, NETWORK, TestClock } from './fixture.js';
import { FORMULA_VENDOR, TREND_SCENARIOS } from './trend-fixture.js';

const ZERO = {
  opened: 0,
  acknowledged: 0,
  resolved: 0,
  escalated: 0,
  escalatedByHand: 0,
  escalatedAutomatically: 0,
  ackMet: 0,
  ackMissed: 0,
  resolveMet: 0,
  resolveMissed: 0,
};
const day = (start: string, figures: Partial<typeof ZERO> = {}) => ({
  start,
  from: `${start}T00:00:00.000Z`,
  to: new Date(Date.parse(start) + 86_400_000).toISOString(),
  ...ZERO,
  ...figures,
});
// Every figure below is worked out by hand from the table in trend-fixture.ts.
const MONDAY = { opened: 2, acknowledged: 2, resolved: 2, ackMet: 2, resolveMet: 2 };
// B and C: each leaves L1 (B on its missed acknowledge deadline, C by hand) and is resolved at L2 within every
// target but B's acknowledgement at L1. A stay left before its resolve target counts as met (as in the SLA report).
const WEDNESDAY = {
  opened: 2,
  acknowledged: 2,
  resolved: 2,
  escalated: 2,
  escalatedByHand: 1,
  escalatedAutomatically: 1,
  ackMet: 3,
  ackMissed: 1,
  resolveMet: 4,
};
// E and F: acknowledged in time, still open, their resolve targets not judged yet.
const THURSDAY = { opened: 2, acknowledged: 2, ackMet: 2 };
const BREACH_TUESDAY = { opened: 1, acknowledged: 1, resolved: 1, ackMet: 1, resolveMet: 1 };

describe.each(ENGINES)('the trend report and report CSV files on %s', (engine) => {
  let t: TestServer;
  let officer: TestUser, manager: TestUser, agent: TestUser;
  const get = (path: string, as: TestUser = officer) => t.api('GET', path, { as });
  const trend = async (query: string, as: TestUser = officer) => {
    const res = await get(`/api/v1/reports/trend?${query}`, as);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    const clock = new TestClock(Date.parse('2026-02-01T00:00:00Z'));
    t = await startServer(engine, { clock });
    await loadFixture(t, clock, TREND_SCENARIOS);
    officer = await t.user('manager');
    manager = await t.user('manager');
    agent = await t.user('agent');
    // The officer is named for the confidential categories (data security breaches); the other manager is not.
    await nameInConfidentialCategories(t, officer);
  }, 60_000);
  afterAll(() => t?.close());

  it('gives one bucket per UTC day, empty days with zeros', async () => {
    expect(await trend('from=2026-03-02&to=2026-03-12&interval=day')).toEqual({
      interval: 'day',
      buckets: [
        day('2026-03-02', MONDAY),
        day('2026-03-03'),
        day('2026-03-04', WEDNESDAY),
        day('2026-03-05', THURSDAY),
        day('2026-03-06'),
        day('2026-03-07'),
        day('2026-03-08'),
        day('2026-03-09'),
        day('2026-03-10', BREACH_TUESDAY),
        day('2026-03-11'),
      ],
    });
  });

  it('counts days by default and groups weeks from Monday, the last one cut to the period', async () => {
    const daily = await trend('from=2026-03-02&to=2026-03-12');
    expect(daily.interval).toBe('day');
    expect(daily.buckets).toHaveLength(10);
    expect(await trend('from=2026-03-02&to=2026-03-12&interval=week')).toEqual({
      interval: 'week',
      buckets: [
        {
          start: '2026-03-02',
          from: '2026-03-02T00:00:00.000Z',
          to: '2026-03-09T00:00:00.000Z',
          // The sum of Monday, Wednesday and Thursday.
          opened: 6,
          acknowledged: 6,
          resolved: 4,
          escalated: 2,
          escalatedByHand: 1,
          escalatedAutomatically: 1,
          ackMet: 7,
          ackMissed: 1,
          resolveMet: 6,
          resolveMissed: 0,
        },
        { ...day('2026-03-09', BREACH_TUESDAY), to: '2026-03-12T00:00:00.000Z' },
      ],
    });
  });

  it('reads partial days at the edges of the period from the figures', async () => {
    // From Sunday noon (W0 at 23:00) to Wednesday noon (B and C at 10:00).
    const period = 'from=2026-03-01T12:00:00Z&to=2026-03-04T12:00:00Z';
    expect((await trend(`${period}&interval=day`)).buckets).toEqual([
      {
        ...day('2026-03-01', MONDAY),
        from: '2026-03-01T12:00:00.000Z',
        opened: 1,
        acknowledged: 1,
        resolved: 1,
        ackMet: 1,
        resolveMet: 1,
      },
      day('2026-03-02', MONDAY),
      day('2026-03-03'),
      { ...day('2026-03-04', WEDNESDAY), to: '2026-03-04T12:00:00.000Z' },
    ]);
    const weeks = (await trend(`${period}&interval=week`)).buckets;
    // Sunday belongs to the ISO week that started on Monday 02-23.
    expect(
      weeks.map((b: { start: string; from: string; to: string; opened: number }) => [b.start, b.from, b.to, b.opened]),
    ).toEqual([
      ['2026-02-23', '2026-03-01T12:00:00.000Z', '2026-03-02T00:00:00.000Z', 1],
      ['2026-03-02', '2026-03-02T00:00:00.000Z', '2026-03-04T12:00:00.000Z', 4],
    ]);
  });

  it('applies the filters of the other reports', async () => {
    const network = await trend(`from=2026-03-02&to=2026-03-07&category=${NETWORK}`);
    expect(network.buckets.map((b: { opened: number }) => b.opened)).toEqual([2, 0, 0, 2, 0]);
    // The stays at L2: B and C, both on Wednesday.
    const l2 = await trend('from=2026-03-02&to=2026-03-07&tier=L2');
    expect(l2.buckets[2]).toMatchObject({ ackMet: 2, ackMissed: 0, resolveMet: 2, escalated: 0 });
  });

  it('leaves out a confidential category the reader is not named for, and refuses staff who may not read reports', async () => {
    const other = await trend('from=2026-03-09&to=2026-03-12', manager);
    expect(other.buckets).toEqual([day('2026-03-09'), day('2026-03-10'), day('2026-03-11')]);
    expect((await trend('from=2026-03-09&to=2026-03-12')).buckets[1]).toEqual(day('2026-03-10', BREACH_TUESDAY));
    const res = await get('/api/v1/reports/trend?from=2026-03-09&to=2026-03-12', agent);
    expect(res.status).toBe(403);
    expect((await get('/api/v1/reports/trend?from=2026-03-09&to=2026-03-12&format=csv', agent)).status).toBe(403);
  });

  it.each([
    ['an interval it does not know', 'from=2026-03-02&to=2026-03-12&interval=month', 'validation_failed'],
    ['a period ending before it starts', 'from=2026-03-12&to=2026-03-02', 'invalid_period'],
    ['more than 400 days', 'from=2025-01-01&to=2026-03-01&interval=day', 'too_many_buckets'],
    ['more than 400 weeks', 'from=2010-01-01&to=2026-03-01&interval=week', 'too_many_buckets'],
    ['a format it does not know', 'from=2026-03-02&to=2026-03-12&format=docx', 'validation_failed'],
  ])('refuses %s with a 400 and an error body', async (_name, query, code) => {
    const res = await get(`/api/v1/reports/trend?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
  });

  it('takes a year of days and years of weeks', async () => {
    expect((await trend('from=2025-03-01&to=2026-03-01&interval=day')).buckets).toHaveLength(365);
    expect((await trend('from=2020-01-01&to=2026-03-12&interval=week')).buckets.at(-1)).toMatchObject({
      start: '2026-03-09',
      opened: 1,
    });
  });

  const csv = async (path: string) => {
    const res = await get(path);
    expect(res.status, String(res.body)).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    return { disposition: res.headers.get('content-disposition'), text: String(res.body) };
  };
  const rows = (text: string): string[][] => parse(text, { bom: true });

  it('serves the trend as CSV: a header row, one row per bucket, the same figures', async () => {
    const { disposition, text } = await csv('/api/v1/reports/trend?from=2026-03-02&to=2026-03-05&format=csv');
    expect(disposition).toBe('attachment; filename="palier-trend-day-2026-03-02-2026-03-05.csv"');
    // (fetch's text() drops the byte order mark the file starts with.)
    expect(text.replace(/^\uFEFF/, '').startsWith('start,from,to,opened,')).toBe(true);
    expect(text.split('\r\n')[1]).toBe('2026-03-02,2026-03-02T00:00:00.000Z,2026-03-03T00:00:00.000Z,2,2,2,0,0,0,2,0,2,0');
    expect(rows(text)).toEqual([
      [
        'start',
        'from',
        'to',
        'opened',
        'acknowledged',
        'resolved',
        'escalated',
        'escalated_by_hand',
        'escalated_automatically',
        'ack_met',
        'ack_missed',
        'resolve_met',
        'resolve_missed',
      ],
      ['2026-03-02', '2026-03-02T00:00:00.000Z', '2026-03-03T00:00:00.000Z', '2', '2', '2', '0', '0', '0', '2', '0', '2', '0'],
      ['2026-03-03', '2026-03-03T00:00:00.000Z', '2026-03-04T00:00:00.000Z', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0'],
      ['2026-03-04', '2026-03-04T00:00:00.000Z', '2026-03-05T00:00:00.000Z', '2', '2', '2', '2', '1', '1', '3', '1', '4', '0'],
    ]);
  });

  it('serves every other report as CSV with its header and figures', async () => {
    const period = 'from=2026-03-02&to=2026-03-09';
    const volume = await csv(`/api/v1/reports/volume?${period}&format=csv`);
    expect(volume.disposition).toBe('attachment; filename="palier-volume-2026-03-02-2026-03-09.csv"');
    expect(rows(volume.text).slice(0, 7)).toEqual([
      ['figure', 'tier', 'vendor_id', 'vendor', 'value'],
      ['opened', '', '', '', '6'],
      ['acknowledged', '', '', '', '6'],
      ['resolved', '', '', '', '4'],
      ['reopened', '', '', '', '0'],
      // Nothing reopened among the 4 resolved.
      ['reopen_rate', '', '', '', '0'],
      ['top_tier_reached', 'LX', '', '', '0'],
    ]);
    const times = rows((await csv(`/api/v1/reports/times?${period}&format=csv`)).text);
    expect(times[0]!.slice(0, 3)).toEqual(['acknowledged', 'ack_mean_ms', 'ack_median_ms']);
    expect(times[1]![0]).toBe('6');
    const sla = rows((await csv(`/api/v1/reports/sla?${period}&format=csv`)).text);
    expect(sla[0]).toEqual([
      'tier',
      'priority',
      'stints',
      'ack_met',
      'ack_missed',
      'ack_compliance',
      'resolve_met',
      'resolve_missed',
      'resolve_compliance',
    ]);
    // L1 P1: A 2, B, C, E, F = 6 stays, B's acknowledgement missed; E and F still running.
    expect(sla[1]).toEqual(['L1', 'P1', '6', '5', '1', String(5 / 6), '4', '0', '1']);
    const escalations = rows((await csv(`/api/v1/reports/escalations?${period}&format=csv`)).text);
    expect(escalations[0]!.slice(0, 5)).toEqual(['category', 'tier', 'stints', 'escalated', 'by_hand']);
    const tierTime = rows((await csv(`/api/v1/reports/tier-time?${period}&format=csv`)).text);
    expect(tierTime[0]).toEqual([
      'tier',
      'stints',
      'completed',
      'wall_mean_ms',
      'wall_total_ms',
      'business_mean_ms',
      'business_total_ms',
    ]);
    // An empty report still has its header.
    const none = await csv('/api/v1/reports/sla?from=2025-01-01&to=2025-01-02&format=csv');
    expect(rows(none.text)).toEqual([sla[0]]);
  });

  it('writes a vendor name that is a formula as text, never as a formula', async () => {
    const { text } = await csv('/api/v1/reports/vendors?from=2026-03-02&to=2026-03-09&format=csv');
    const [header, vendor] = rows(text);
    expect(header!.slice(0, 4)).toEqual(['vendor_id', 'name', 'ack_target', 'resolve_target']);
    expect(vendor!.slice(0, 6)).toEqual(['900', `'${FORMULA_VENDOR}`, 'PT1H', 'PT4H', '1', '1']);
    expect(text).not.toMatch(/(^|,)=HYPERLINK/m);
    // The JSON report keeps the name as it was given.
    expect((await get('/api/v1/reports/vendors?from=2026-03-02&to=2026-03-09')).body[0].name).toBe(FORMULA_VENDOR);
  });
});
