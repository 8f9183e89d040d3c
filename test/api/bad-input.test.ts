import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_MATRIX } from '../../src/domain/seed-matrix.js';
import { expectError, withoutWrites } from '../helpers/api-assertions.js';
import { ENGINES } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';

const CATEGORY = 'network-downtime';
const validIncident = { title: 'Printer offline', description: 'Since 9:00', category: CATEGORY, impact: 2, urgency: 2 };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe.each(ENGINES)('bad input is refused cleanly on %s', (engine) => {
  let t: TestServer;
  let requester: TestUser, otherRequester: TestUser, l1: TestUser, l2: TestUser, manager: TestUser, admin: TestUser;
  let mine: number, theirs: number;

  const open = async (as: TestUser, body: Record<string, unknown> = validIncident): Promise<number> => {
    const res = await t.api('POST', '/api/v1/incidents', { as, body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as number;
  };

  const act = async (id: number, path: string, as: TestUser, body?: unknown, status = 200) => {
    const res = await t.api('POST', `/api/v1/incidents/${id}/${path}`, { as, ...(body === undefined ? {} : { body }) });
    expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(status);
    return res.body;
  };

  /** Does every L1 action (so no mandatory one blocks), then escalates to L2. */
  const atL2 = async (): Promise<number> => {
    const id = await open(requester);
    const actions = SEED_MATRIX.cells.find((c) => c.category === CATEGORY && c.tier === 'L1')!.actions;
    for (let i = 0; i < actions.length; i++) {
      const res = await t.api('PUT', `/api/v1/incidents/${id}/checklist/${i}`, { as: l1, body: { checked: true } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    expect((await act(id, 'escalate', l1, { reason: 'Needs level 2' })).tier).toBe('L2');
    return id;
  };

  const currentMatrix = async (): Promise<Json> => {
    const res = await t.api('GET', '/api/v1/matrix', { as: admin });
    expect(res.status).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    t = await startServer(engine);
    requester = await t.user('requester');
    otherRequester = await t.user('requester');
    l1 = await t.user('agent', { tiers: ['L1'] });
    l2 = await t.user('agent', { tiers: ['L2'] });
    manager = await t.user('manager');
    admin = await t.user('admin');
    mine = await open(requester, { ...validIncident, title: 'Mine' });
    theirs = await open(otherRequester, { ...validIncident, title: 'Theirs' });
  });
  afterAll(() => t?.close());

  describe('request bodies', () => {
    it('refuses a malformed JSON body with 400 malformed_json', async () => {
      for (const raw of ['{"title": "x",', '{title: "x"}', "{'title': 'x'}", '[1, 2', 'not json at all']) {
        const res = await withoutWrites(t, () => t.api('POST', '/api/v1/incidents', { as: requester, raw }));
        expectError(res, 400, 'malformed_json');
      }
    });

    it('refuses a malformed JSON body on an incident action without touching the incident', async () => {
      const res = await withoutWrites(
        t,
        () => t.api('POST', `/api/v1/incidents/${mine}/comments`, { as: requester, raw: '{"body": ' }),
        mine,
      );
      expectError(res, 400, 'malformed_json');
    });

    const wrongTypes: Array<[string, Record<string, unknown>, string]> = [
      ['impact "high"', { ...validIncident, impact: 'high' }, 'impact'],
      ['impact 4', { ...validIncident, impact: 4 }, 'impact'],
      ['impact 0', { ...validIncident, impact: 0 }, 'impact'],
      ['urgency 1.5', { ...validIncident, urgency: 1.5 }, 'urgency'],
      ['title 123', { ...validIncident, title: 123 }, 'title'],
      ['a blank title', { ...validIncident, title: '   ' }, 'title'],
      ['no title', { description: 'x', category: CATEGORY, impact: 1, urgency: 1 }, 'title'],
      ['no category', { title: 'x', impact: 1, urgency: 1 }, 'category'],
      ['category null', { ...validIncident, category: null }, 'category'],
    ];
    for (const [what, body, field] of wrongTypes) {
      it(`refuses ${what} with 400 validation_failed naming ${field}`, async () => {
        const res = await withoutWrites(t, () => t.api('POST', '/api/v1/incidents', { as: requester, body }));
        const error = expectError(res, 400, 'validation_failed');
        expect(error.details?.map((d) => d.path)).toContainEqual(expect.stringMatching(new RegExp(`(^|\\.)${field}$`)));
      });
    }

    it('refuses a body that is not an object', async () => {
      for (const body of [[], 'title', 42, null]) {
        const res = await withoutWrites(t, () => t.api('POST', '/api/v1/incidents', { as: requester, body }));
        const error = expectError(res, 400, 'validation_failed');
        expect(error.details?.map((d) => d.path)).toContain('body');
      }
    });

    for (const field of ['status', 'tier', 'priority', 'matrixVersion', 'assigneeId', 'id']) {
      it(`refuses an unknown field "${field}" in the create body (no mass assignment)`, async () => {
        const value = { status: 'resolved', tier: 'L3', priority: 'P1', matrixVersion: 99, assigneeId: l1.id, id: 424242 }[field];
        const res = await withoutWrites(t, () =>
          t.api('POST', '/api/v1/incidents', { as: requester, body: { ...validIncident, [field]: value } }),
        );
        const error = expectError(res, 400, 'validation_failed');
        expect(JSON.stringify(error.details ?? error.message)).toContain(field);
      });
    }

    it('refuses an unknown field in an action body', async () => {
      const res = await withoutWrites(
        t,
        () => t.api('POST', `/api/v1/incidents/${mine}/comments`, { as: requester, body: { body: 'hello', actorId: l1.id } }),
        mine,
      );
      const error = expectError(res, 400, 'validation_failed');
      expect(JSON.stringify(error.details)).toContain('actorId');
    });

    it('refuses a requester opening an incident on behalf of someone else', async () => {
      const res = await withoutWrites(t, () =>
        t.api('POST', '/api/v1/incidents', { as: requester, body: { ...validIncident, requesterId: otherRequester.id } }),
      );
      expectError(res, 403, 'forbidden');
    });

    it('refuses an unknown category with 400 unknown_category', async () => {
      const res = await withoutWrites(t, () =>
        t.api('POST', '/api/v1/incidents', { as: requester, body: { ...validIncident, category: 'coffee-machine' } }),
      );
      const error = expectError(res, 400, 'unknown_category');
      expect(error.details?.map((d) => d.path)).toContain('category');
    });

    it('refuses an escalation to a tier that does not exist with 400 unknown_tier', async () => {
      const id = await open(requester);
      const res = await withoutWrites(
        t,
        () => t.api('POST', `/api/v1/incidents/${id}/escalate`, { as: l1, body: { tier: 'L9', reason: 'why not' } }),
        id,
      );
      expectError(res, 400, 'unknown_tier');
    });

    it('refuses a hand-back to a higher tier, and an escalation to a lower one, with 400', async () => {
      const low = await open(requester);
      const up = await withoutWrites(
        t,
        () => t.api('POST', `/api/v1/incidents/${low}/hand-back`, { as: l1, body: { tier: 'L2', reason: 'up?' } }),
        low,
      );
      expectError(up, 400, 'not_a_lower_tier');
      const high = await atL2();
      const down = await withoutWrites(
        t,
        () => t.api('POST', `/api/v1/incidents/${high}/escalate`, { as: l2, body: { tier: 'L1', reason: 'down?' } }),
        high,
      );
      expectError(down, 400, 'not_a_higher_tier');
      const same = await withoutWrites(
        t,
        () => t.api('POST', `/api/v1/incidents/${high}/hand-back`, { as: l2, body: { tier: 'L2', reason: 'same' } }),
        high,
      );
      expectError(same, 400, 'not_a_lower_tier');
    });

    it('refuses a body over 256 KB with 413 body_too_large', async () => {
      const raw = JSON.stringify({ ...validIncident, description: 'x'.repeat(300 * 1024) });
      const res = await withoutWrites(t, () => t.api('POST', '/api/v1/incidents', { as: requester, raw }));
      expectError(res, 413, 'body_too_large');
    });

    it('refuses an oversized comment without touching the incident', async () => {
      const raw = JSON.stringify({ body: 'y'.repeat(257 * 1024) });
      const res = await withoutWrites(t, () => t.api('POST', `/api/v1/incidents/${mine}/comments`, { as: requester, raw }), mine);
      expectError(res, 413, 'body_too_large');
    });

    for (const contentType of [
      'text/plain',
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      it(`refuses a body sent as ${contentType} with 415`, async () => {
        const res = await withoutWrites(t, () =>
          t.api('POST', '/api/v1/incidents', {
            as: requester,
            raw: JSON.stringify(validIncident),
            headers: { 'content-type': contentType },
          }),
        );
        expectError(res, 415, 'unsupported_media_type');
      });
    }
  });

  describe('incident state and identity', () => {
    it('refuses to resolve a closed incident with 409 invalid_transition', async () => {
      const id = await open(requester);
      await act(id, 'acknowledge', l1);
      await act(id, 'resolve', l1, { resolution: 'Rebooted' });
      await act(id, 'close', requester);
      const res = await withoutWrites(
        t,
        () => t.api('POST', `/api/v1/incidents/${id}/resolve`, { as: l1, body: { resolution: 'again' } }),
        id,
      );
      expectError(res, 409, 'invalid_transition');
    });

    it('refuses to acknowledge twice with 409 invalid_transition', async () => {
      const id = await open(requester);
      await act(id, 'acknowledge', l1);
      const res = await withoutWrites(t, () => t.api('POST', `/api/v1/incidents/${id}/acknowledge`, { as: l1 }), id);
      expectError(res, 409, 'invalid_transition');
    });

    it('refuses to resume an incident that is not pending with 409 invalid_transition', async () => {
      const id = await open(requester);
      const fresh = await withoutWrites(t, () => t.api('POST', `/api/v1/incidents/${id}/resume`, { as: l1 }), id);
      expectError(fresh, 409, 'invalid_transition');
      await act(id, 'start', l1);
      const working = await withoutWrites(t, () => t.api('POST', `/api/v1/incidents/${id}/resume`, { as: l1 }), id);
      expectError(working, 409, 'invalid_transition');
    });

    it('answers 404 for an unknown incident id', async () => {
      expectError(await t.api('GET', '/api/v1/incidents/987654', { as: admin }), 404, 'not_found');
      expectError(await t.api('GET', '/api/v1/incidents/987654/timeline', { as: admin }), 404, 'not_found');
      const res = await withoutWrites(t, () => t.api('POST', '/api/v1/incidents/987654/acknowledge', { as: l1 }));
      expectError(res, 404, 'not_found');
    });

    for (const bad of ['abc', '1.5', '-3', '0', '1e3x', '99999999999999999999']) {
      it(`answers 400 for the non-numeric or impossible id "${bad}"`, async () => {
        expectError(await t.api('GET', `/api/v1/incidents/${bad}`, { as: admin }), 400, 'validation_failed');
        const res = await withoutWrites(t, () => t.api('POST', `/api/v1/incidents/${bad}/acknowledge`, { as: l1 }));
        expectError(res, 400, 'validation_failed');
      });
    }

    it("hides another requester's incident behind the same 404 as a missing one", async () => {
      const other = await t.api('GET', `/api/v1/incidents/${theirs}`, { as: requester });
      const missing = await t.api('GET', '/api/v1/incidents/987654', { as: requester });
      const a = expectError(other, 404, 'not_found');
      const b = expectError(missing, 404, 'not_found');
      expect(a.message.replace(String(theirs), 'N')).toBe(b.message.replace('987654', 'N'));
      expect(Object.keys(other.body.error).sort()).toEqual(Object.keys(missing.body.error).sort());
      expectError(await t.api('GET', `/api/v1/incidents/${theirs}/timeline`, { as: requester }), 404, 'not_found');
      const comment = await withoutWrites(
        t,
        () => t.api('POST', `/api/v1/incidents/${theirs}/comments`, { as: requester, body: { body: 'peek' } }),
        theirs,
      );
      expectError(comment, 404, 'not_found');
    });

    it('lists only the caller’s own incidents to a requester, whatever the query says', async () => {
      for (const query of [
        '',
        `?requester=${otherRequester.id}`,
        `?requester=${otherRequester.id}&limit=200`,
        '?status=open&sort=-created_at',
      ]) {
        const res = await t.api('GET', `/api/v1/incidents${query}`, { as: requester });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const items = res.body.items as Array<{ id: number; requesterId: number }>;
        expect(items.length).toBeGreaterThan(0);
        expect(
          items.every((i) => i.requesterId === requester.id),
          query,
        ).toBe(true);
        expect(items.map((i) => i.id)).not.toContain(theirs);
      }
      const own = await t.api('GET', '/api/v1/incidents', { as: requester });
      expect(own.body.items.map((i: { id: number }) => i.id)).toContain(mine);
      const theirList = await t.api('GET', `/api/v1/incidents?requester=${requester.id}`, { as: otherRequester });
      expect(theirList.body.items.map((i: { id: number }) => i.id)).toEqual([theirs]);
    });
  });

  describe('roles', () => {
    it('refuses a requester acknowledging or escalating, even on their own incident (403)', async () => {
      const ack = await withoutWrites(t, () => t.api('POST', `/api/v1/incidents/${mine}/acknowledge`, { as: requester }), mine);
      expectError(ack, 403, 'forbidden');
      const esc = await withoutWrites(
        t,
        () => t.api('POST', `/api/v1/incidents/${mine}/escalate`, { as: requester, body: { reason: 'faster please' } }),
        mine,
      );
      expectError(esc, 403, 'forbidden');
      const res = await withoutWrites(
        t,
        () => t.api('POST', `/api/v1/incidents/${mine}/resolve`, { as: requester, body: { resolution: 'fixed it myself' } }),
        mine,
      );
      expectError(res, 403, 'forbidden');
    });

    it('refuses an L1 agent acting on an incident at L2 (403)', async () => {
      const id = await atL2();
      for (const [path, body] of [
        ['acknowledge', undefined],
        ['escalate', { reason: 'more' }],
        ['hand-back', { reason: 'back to me' }],
        ['resolve', { resolution: 'done' }],
      ] as const) {
        const res = await withoutWrites(
          t,
          () => t.api('POST', `/api/v1/incidents/${id}/${path}`, { as: l1, ...(body ? { body } : {}) }),
          id,
        );
        expectError(res, 403, 'forbidden');
      }
      const check = await withoutWrites(
        t,
        () => t.api('PUT', `/api/v1/incidents/${id}/checklist/0`, { as: l1, body: { checked: true } }),
        id,
      );
      expectError(check, 403, 'forbidden');
    });

    it('refuses PUT /api/v1/matrix to agents, managers and requesters (403)', async () => {
      const matrix = await currentMatrix();
      matrix.comment = 'sneaky edit';
      for (const as of [l1, manager, requester]) {
        const res = await withoutWrites(t, () => t.api('PUT', '/api/v1/matrix', { as, body: matrix }));
        expectError(res, 403, 'forbidden');
      }
      expect((await currentMatrix()).version).toBe(matrix.version);
    });

    it('refuses POST /api/v1/users to a requester, an agent and a manager (403)', async () => {
      const body = { email: 'new-admin@example.test', password: 'long-password-1', role: 'admin' };
      for (const as of [requester, l1, manager]) {
        const res = await withoutWrites(t, () => t.api('POST', '/api/v1/users', { as, body }));
        expectError(res, 403, 'forbidden');
      }
    });
  });

  describe('authentication', () => {
    const probes: Array<[string, string, unknown?]> = [
      ['GET', '/api/v1/incidents'],
      ['GET', '/api/v1/matrix'],
      ['POST', '/api/v1/incidents', validIncident],
      ['POST', '/api/v1/users', { email: 'x@example.test', role: 'admin', password: 'long-password-1' }],
    ];

    it('refuses a request without a token (401)', async () => {
      for (const [method, path, body] of probes) {
        const res = await withoutWrites(t, () => t.api(method, path, body === undefined ? {} : { body }));
        expectError(res, 401, 'unauthorized');
      }
    });

    it('refuses a malformed Authorization header (401)', async () => {
      for (const authorization of [
        'Bearer',
        'Bearer ',
        'Basic dXNlcjpwYXNz',
        `Token ${requester.token}`,
        `${requester.token}`,
        `Bearer ${requester.token} extra`,
      ]) {
        for (const [method, path, body] of probes) {
          const res = await withoutWrites(t, () =>
            t.api(method, path, { headers: { authorization }, ...(body === undefined ? {} : { body }) }),
          );
          expectError(res, 401, 'unauthorized');
        }
      }
    });

    it('refuses an unknown token (401 invalid_token)', async () => {
      for (const token of [
        'plr_' + 'A'.repeat(43),
        'nonsense',
        requester.token.slice(0, -1) + (requester.token.endsWith('A') ? 'B' : 'A'),
      ]) {
        for (const [method, path, body] of probes) {
          const res = await withoutWrites(t, () =>
            t.api(method, path, { headers: { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { body }) }),
          );
          expectError(res, 401, 'invalid_token');
        }
      }
    });

    it('refuses a revoked token (401), and only that one', async () => {
      const leaving = await t.user('requester');
      expect((await t.api('GET', '/api/v1/users/me', { as: leaving })).status).toBe(200);
      const del = await t.api('DELETE', '/api/v1/auth/token', { as: leaving });
      expect(del.status).toBe(204);
      for (const [method, path, body] of probes) {
        const res = await withoutWrites(t, () => t.api(method, path, { as: leaving, ...(body === undefined ? {} : { body }) }));
        expectError(res, 401, 'invalid_token');
      }
      expectError(await t.api('GET', '/api/v1/users/me', { as: leaving }), 401, 'invalid_token');
      expectError(await t.api('DELETE', '/api/v1/auth/token', { as: leaving }), 401, 'invalid_token');
      expect((await t.api('GET', '/api/v1/users/me', { as: requester })).status).toBe(200);
    });

    it('refuses wrong credentials at sign-in (401) without issuing a token', async () => {
      const before = await t.count('api_tokens');
      const res = await t.api('POST', '/api/v1/auth/token', { body: { email: admin.email, password: 'wrong-password' } });
      expectError(res, 401, 'invalid_credentials');
      const unknown = await t.api('POST', '/api/v1/auth/token', {
        body: { email: 'nobody@example.test', password: 'wrong-password' },
      });
      expectError(unknown, 401, 'invalid_credentials');
      expect(unknown.body.error.message).toBe(res.body.error.message);
      expect(await t.count('api_tokens')).toBe(before);
    });
  });

  describe('an expired token', () => {
    let clocked: TestServer;
    let now = Date.parse('2026-03-02T09:00:00Z');
    const ttl = 60 * 60 * 1000;

    beforeAll(async () => {
      clocked = await startServer(engine, { clock: { now: () => now }, config: { tokenTtlMs: ttl } });
    });
    afterAll(() => clocked?.close());

    it('is refused with 401 once its lifetime is over', async () => {
      const user = await clocked.user('requester');
      expect((await clocked.api('GET', '/api/v1/users/me', { as: user })).status).toBe(200);
      now += ttl - 1000;
      expect((await clocked.api('GET', '/api/v1/users/me', { as: user })).status).toBe(200);
      now += 1000;
      expectError(await clocked.api('GET', '/api/v1/users/me', { as: user }), 401, 'invalid_token');
      const res = await withoutWrites(clocked, () => clocked.api('POST', '/api/v1/incidents', { as: user, body: validIncident }));
      expectError(res, 401, 'invalid_token');
    });
  });

  describe('the matrix', () => {
    const cellIndex = (m: Json, category: string, tier: string) =>
      (m.cells as Array<{ category: string; tier: string }>).findIndex((c) => c.category === category && c.tier === tier);

    const putInvalid = async (edit: (m: Json) => void): Promise<Array<{ path: string; message: string }>> => {
      const matrix = await currentMatrix();
      const draft = structuredClone(matrix);
      edit(draft);
      const res = await withoutWrites(t, () => t.api('PUT', '/api/v1/matrix', { as: admin, body: draft }));
      const error = expectError(res, 400, 'invalid_matrix');
      expect((await currentMatrix()).version).toBe(matrix.version);
      expect(error.details?.length).toBeGreaterThan(0);
      return error.details!;
    };

    it('refuses a cell at an unknown tier, naming cells[i].tier', async () => {
      let i = -1;
      const details = await putInvalid((m) => {
        i = cellIndex(m, 'network-downtime', 'L2');
        m.cells[i].tier = 'L9';
      });
      expect(details).toContainEqual({ path: `cells[${i}].tier`, message: expect.stringContaining('L9') });
    });

    it('refuses a duplicate tier key, naming tiers[i].key', async () => {
      const details = await putInvalid((m) => {
        m.tiers[1].key = 'L1';
      });
      expect(details).toContainEqual({ path: 'tiers[1].key', message: expect.stringContaining('L1') });
    });

    it('refuses an empty action text as invalid_matrix, naming the action', async () => {
      let i = -1;
      const details = await putInvalid((m) => {
        i = cellIndex(m, 'data-security-breach', 'L1');
        m.cells[i].actions[0].en = '   ';
      });
      expect(details.map((d) => d.path)).toContainEqual(expect.stringMatching(new RegExp(`^cells\\[${i}\\]\\.actions\\[0\\]`)));
    });

    it('refuses the duration "PT", naming sla[i].acknowledge', async () => {
      const details = await putInvalid((m) => {
        m.sla[2].acknowledge = 'PT';
      });
      expect(details).toContainEqual({ path: 'sla[2].acknowledge', message: expect.stringContaining('"PT"') });
    });

    it('refuses other bad durations', async () => {
      for (const bad of ['P', 'PT0S', '15 minutes', 'P1M', '-PT1H']) {
        const details = await putInvalid((m) => {
          m.sla[0].resolve = bad;
        });
        expect(
          details.map((d) => d.path),
          bad,
        ).toContain('sla[0].resolve');
      }
    });

    it('refuses a matrix with a missing cell, naming the category and tier', async () => {
      const details = await putInvalid((m) => {
        m.cells.splice(cellIndex(m, 'cloud-service-interruption', 'L3'), 1);
      });
      expect(details).toContainEqual({
        path: expect.stringMatching(/^cells/),
        message: expect.stringMatching(/cloud-service-interruption.*L3|L3.*cloud-service-interruption/),
      });
    });

    it('refuses a stale version with 409 version_conflict', async () => {
      const base = await currentMatrix();
      const edited = structuredClone(base);
      edited.comment = 'A newer edit';
      const ok = await t.api('PUT', '/api/v1/matrix', { as: admin, body: edited });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(ok.body.version).toBe(base.version + 1);

      const stale = structuredClone(base);
      stale.cells[0].actions[0].en = 'A late edit made on the old version';
      const res = await withoutWrites(t, () => t.api('PUT', '/api/v1/matrix', { as: admin, body: stale }));
      expectError(res, 409, 'version_conflict');
      const now = await currentMatrix();
      expect(now.version).toBe(base.version + 1);
      expect(now.cells[0].actions[0].en).toBe(base.cells[0].actions[0].en);
    });
  });

  describe('queries and routes', () => {
    for (const query of [
      'foo=1',
      'sort=title',
      'sort=priority;drop table incidents',
      'limit=0',
      'limit=abc',
      'limit=10000',
      'offset=-1',
      'status=bogus',
      'priority=P9',
      'assignee=someone',
    ]) {
      it(`refuses GET /api/v1/incidents?${query} with 400`, async () => {
        const res = await t.api('GET', `/api/v1/incidents?${query}`, { as: admin });
        expectError(res, 400, 'validation_failed');
      });
    }

    it('answers an unknown route with a JSON 404', async () => {
      for (const [method, path] of [
        ['GET', '/api/v1/nothing-here'],
        ['POST', '/api/v1/incidents/1/teleport'],
        ['DELETE', '/api/v1/incidents/1'],
        // Other GET paths are pages of the browser app (test/http/web-app.test.ts).
        ['GET', '/api/no/such/page'],
      ] as const) {
        const res = await withoutWrites(t, () => t.api(method, path, { as: admin }));
        expectError(res, 404, 'not_found');
      }
      expectError(await t.api('GET', '/api/v1/nothing-here'), 404, 'not_found');
    });
  });
});
