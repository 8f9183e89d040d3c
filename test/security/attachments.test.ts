import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanFileName } from '../../src/services/attachment.service.js';
import { ENGINES, type EngineName } from '../helpers/engines.js';
import { startServer, type TestServer, type TestUser } from '../helpers/server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** A valid 1x1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const MAX = 4096;

describe.each(ENGINES)('attachments on %s', (engine: EngineName) => {
  let t: TestServer;
  let owner: TestUser;
  let stranger: TestUser;
  let agent: TestUser;
  let incident: number;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palier-attachments-'));
    t = await startServer(engine, { config: { attachmentMaxBytes: MAX, attachmentsDir: dir } });
    owner = await t.user('requester');
    stranger = await t.user('requester');
    agent = await t.user('agent');
    const res = await t.api('POST', '/api/v1/incidents', {
      as: owner,
      body: { title: 'Fuite de données', description: '', category: 'network-downtime', impact: 2, urgency: 2 },
    });
    incident = res.body.id;
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const storedFiles = () => readdirSync(dir);
  const upload = async (
    as: TestUser,
    content: Buffer | string,
    name: string,
    type = 'application/octet-stream',
    id = incident,
  ) => {
    const form = new FormData();
    form.append('file', new Blob([content], { type }), name);
    const res = await fetch(`${t.url}/api/v1/incidents/${id}/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${as.token}` },
      body: form,
    });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const download = (as: TestUser, id: number, inc = incident) =>
    fetch(`${t.url}/api/v1/incidents/${inc}/attachments/${id}`, { headers: { authorization: `Bearer ${as.token}` } });

  it('stores an image under a server-made name and serves it back only as a sandboxed download', async () => {
    const res = await upload(owner, PNG, 'capture.png', 'image/png');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ fileName: 'capture.png', contentType: 'image/png', size: PNG.length, uploadedBy: owner.id });
    expect(storedFiles()).toEqual(expect.arrayContaining([expect.stringMatching(/^[0-9a-f]{32}$/)]));
    const got = await download(agent, res.body.id);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(got.headers.get('content-disposition')).toBe(`attachment; filename="capture.png"; filename*=UTF-8''capture.png`);
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'");
    expect(Buffer.from(await got.arrayBuffer()).equals(PNG)).toBe(true);
    const list = await t.api('GET', `/api/v1/incidents/${incident}/attachments`, { as: owner });
    expect(list.body.items.map((a: Json) => a.id)).toContain(res.body.id);
  });

  it('accepts plain text, served as text/plain with a charset', async () => {
    const res = await upload(owner, 'ping 10.0.0.1: timeout\n', 'ping.txt', 'text/html');
    expect(res.status).toBe(201);
    expect(res.body.contentType).toBe('text/plain'); // the claimed text/html is ignored
    expect((await download(owner, res.body.id)).headers.get('content-type')).toBe('text/plain; charset=utf-8');
  });

  it('refuses HTML, SVG, XML and executables whatever their name or claimed type, writing nothing', async () => {
    const before = { rows: await t.count('outbox'), files: storedFiles().length };
    const listBefore = (await t.api('GET', `/api/v1/incidents/${incident}/attachments`, { as: owner })).body.items.length;
    const payloads: Array<[string, Buffer | string, string]> = [
      ['page.html', '<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>', 'text/html'],
      ['photo.png', '<html><img src=x onerror=alert(1)></html>', 'image/png'],
      ['logo.svg', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="1"/></svg>', 'image/svg+xml'],
      [
        'logo.txt',
        '\uFEFF  \n<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        'text/plain',
      ],
      ['notes.txt', 'Bonjour\n<script>fetch("/api/v1/users")</script>\n', 'text/plain'],
      ['run.exe', Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200, 0x90)]), 'application/octet-stream'],
      ['tool', Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), Buffer.alloc(100)]), 'application/octet-stream'],
      ['binary.dat', Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x81]), 'application/octet-stream'],
    ];
    for (const [name, content, type] of payloads) {
      const res = await upload(owner, content, name, type);
      expect(res.status, name).toBe(400);
      expect(res.body.error.code, name).toBe('unsupported_attachment_type');
    }
    expect(storedFiles().length).toBe(before.files);
    expect((await t.api('GET', `/api/v1/incidents/${incident}/attachments`, { as: owner })).body.items.length).toBe(listBefore);
  });

  it('keeps path traversal and markup out of file names', async () => {
    for (const [name, clean] of [
      ['../../../../etc/passwd', 'passwd'],
      ['..\\..\\windows\\win.ini', 'win.ini'],
      ['/etc/shadow', 'shadow'],
      ['..', 'attachment'],
      ['"><img src=x onerror=alert(1)>.txt', '___img src=x onerror=alert(1)_.txt'],
      ['rapport\r\nSet-Cookie: x=1.txt', 'rapport__Set-Cookie_ x=1.txt'],
      ['.htaccess', 'htaccess'],
    ]) {
      expect(cleanFileName(name!), name).toBe(clean);
      const res = await upload(owner, 'ligne de journal\n', name!, 'text/plain');
      expect(res.status, name).toBe(201);
      // (FormData itself escapes quotes and line breaks in part names as %22, %0D, %0A.)
      if (!/["\r\n]/.test(name!)) expect(res.body.fileName).toBe(clean);
      expect(res.body.fileName).not.toMatch(/[/\\"<>\r\n]|^\./);
      const got = await download(owner, res.body.id);
      expect(got.headers.get('content-disposition')).toMatch(/^attachment; filename="[^"\r\n]*"; filename\*=UTF-8''[^\s"]*$/);
    }
    // Everything stored sits flat in the attachment directory under random names.
    expect(storedFiles().every((f) => /^[0-9a-f]{32}$/.test(f))).toBe(true);
  });

  it('limits size, count and form of uploads', async () => {
    const files = storedFiles().length;
    const big = await upload(owner, 'x'.repeat(MAX + 1), 'big.txt');
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('attachment_too_large');
    const two = new FormData();
    two.append('file', new Blob(['a\n']), 'a.txt');
    two.append('file', new Blob(['b\n']), 'b.txt');
    const res = await fetch(`${t.url}/api/v1/incidents/${incident}/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.token}` },
      body: two,
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as Json).error.code).toBe('too_many_parts');
    const json = await t.api('POST', `/api/v1/incidents/${incident}/attachments`, { as: owner, body: { file: 'x' } });
    expect(json.status).toBeGreaterThanOrEqual(400);
    expect(json.status).toBeLessThan(500);
    expect(storedFiles().length).toBe(files);
  });

  it("keeps other people's incidents' attachments out of reach", async () => {
    const mine = await upload(owner, 'secret\n', 'secret.txt');
    expect((await upload(stranger, 'spam\n', 'spam.txt')).status).toBe(404);
    expect((await download(stranger, mine.body.id)).status).toBe(404);
    expect((await t.api('GET', `/api/v1/incidents/${incident}/attachments`, { as: stranger })).status).toBe(404);
    // An attachment id reached through another incident's path is not found.
    const other = await t.api('POST', '/api/v1/incidents', {
      as: stranger,
      body: { title: 'Autre', description: '', category: 'network-downtime', impact: 3, urgency: 3 },
    });
    expect((await download(stranger, mine.body.id, other.body.id)).status).toBe(404);
  });
});
