import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';

/** The days a calendar closes (public holidays, named closed days), as the Calendars page shows them. */
describe.each(ENGINES)('calendar holidays and closed days over the API on %s', (engine) => {
  let t: TestServer;
  let agent: TestUser;

  beforeAll(async () => {
    t = await startServer(engine);
    agent = await t.user('agent');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists the public holidays of a country in a year, named in the asked language', async () => {
    const en = await t.api('GET', '/api/v1/matrix/holidays?country=FR&year=2026&lang=en', { as: agent });
    expect(en.status).toBe(200);
    expect(en.body.holidays).toHaveLength(11);
    expect(en.body.holidays[0]).toEqual({ date: '2026-01-01', name: "New Year's Day" });
    expect(en.body.holidays).toContainEqual({ date: '2026-07-14', name: 'Bastille Day' });
    const fr = await t.api('GET', '/api/v1/matrix/holidays?country=FR&year=2026&lang=fr', { as: agent });
    expect(fr.body.holidays).toContainEqual({ date: '2026-12-25', name: 'Noël' });
    // Moselle (57) adds Good Friday and St Stephen's Day to the national ones.
    const moselle = await t.api('GET', '/api/v1/matrix/holidays?country=FR&region=57&year=2026&lang=en', { as: agent });
    expect(moselle.body.holidays).toHaveLength(13);
    expect(moselle.body.holidays.map((h: { date: string }) => h.date)).toContain('2026-12-26');
  });

  it('stores closed days with or without a name, and refuses an impossible one with its precise path', async () => {
    const admin = await t.user('admin');
    const m = (await t.api('GET', '/api/v1/matrix', { as: admin })).body;
    const closures = [{ date: '2026-12-24', name: 'Réveillon' }, '2026-12-31'];
    const calendar = {
      kind: 'business-hours',
      timeZone: 'Europe/Paris',
      week: { mon: [{ start: '09:00', end: '18:00' }] },
      closures,
    };
    const saved = await t.api('PUT', '/api/v1/matrix', { as: admin, body: { ...m, calendars: [{ key: 'desk', calendar }] } });
    expect(saved.status).toBe(200);
    expect((await t.api('GET', '/api/v1/matrix', { as: agent })).body.calendars[0].calendar.closures).toEqual(closures);

    const before = (await t.api('GET', '/api/v1/matrix/versions', { as: admin })).body.length;
    const wrong = { ...calendar, closures: [{ date: '2026-02-30', name: 'Nope' }] };
    const refused = await t.api('PUT', '/api/v1/matrix', {
      as: admin,
      body: { ...saved.body, calendars: [{ key: 'desk', calendar: wrong }] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([
      { path: 'calendars[0].calendar.closures[0].date', message: 'expected a valid YYYY-MM-DD date' },
    ]);
    expect((await t.api('GET', '/api/v1/matrix/versions', { as: admin })).body.length).toBe(before);
  });

  it('refuses an unknown country or region, and anyone not signed in', async () => {
    const country = await t.api('GET', '/api/v1/matrix/holidays?country=XX&year=2026', { as: agent });
    expect(country.status).toBe(400);
    expect(country.body.error.details).toEqual([{ path: 'country', message: 'unknown holiday country "XX"' }]);
    const region = await t.api('GET', '/api/v1/matrix/holidays?country=FR&region=99&year=2026', { as: agent });
    expect(region.status).toBe(400);
    expect(region.body.error.details[0].path).toBe('region');
    expect((await t.api('GET', '/api/v1/matrix/holidays?country=FR&year=2026')).status).toBe(401);
  });
});
