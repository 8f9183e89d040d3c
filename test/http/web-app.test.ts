import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWebApp } from '../../src/http/static.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { ensureWebBuilt } from '../web/browser.js';

describe('serving the browser app', () => {
  let t: TestServer;
  beforeAll(async () => {
    ensureWebBuilt();
    t = await startServer('sqlite');
  });
  afterAll(async () => t?.close());

  it('serves index.html at / and at any path of the app, with its assets', async () => {
    // A vendor link's token ends in ".<signature>", which must not pass for a missing file.
    for (const path of ['/', '/queue', '/incidents/42', '/matrix?version=2', `/vendor/1.2.mxldlkb5.${'wCV9m3Kn'.repeat(5)}abc`]) {
      const res = await fetch(t.url + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      const html = await res.text();
      expect(html).toContain('<div id="root"></div>');
      const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(asset).toBeDefined();
      if (path === '/') {
        const js = await fetch(t.url + asset!);
        expect(js.status).toBe(200);
        expect(js.headers.get('cache-control')).toContain('immutable');
      }
    }
  });

  it('keeps JSON 404s for the API and real 404s for missing files', async () => {
    for (const path of ['/api/v1/nothing-here', '/api/nothing', '/healthz/x']) {
      const res = await t.api('GET', path);
      expect(res.status, path).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    expect((await fetch(`${t.url}/assets/missing-file.js`)).status).toBe(404);
    expect((await t.api('GET', '/healthz')).body).toEqual({ status: 'ok' });
  });

  it('starts without the app (API only) when web/dist is missing, and says so', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'palier-no-web-'));
    const lines: string[] = [];
    const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => lines.push(line) } } });
    try {
      expect(await registerWebApp(app, empty)).toBe(false);
      await app.ready();
      expect((await app.inject({ method: 'GET', url: '/' })).statusCode).toBe(404);
      expect(lines.join('')).toContain('serving the API only');
    } finally {
      await app.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
