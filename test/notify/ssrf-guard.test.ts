import { describe, expect, it } from 'vitest';
import { WebhookGuard } from '../../src/notify/ssrf-guard.js';

const refusal = (guard: WebhookGuard, url: string) =>
  guard.check(url).then(
    () => 'allowed',
    (e: { code?: string }) => e.code ?? 'error',
  );

describe('outbound webhook address guard', () => {
  const strict = new WebhookGuard([]);

  it.each([
    'http://127.0.0.1:8080/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.1.2.3/hook',
    'http://192.168.1.10/hook',
    'http://172.16.0.1/hook',
    'http://[::1]/hook',
    'http://[fd00::1]/hook',
    'http://[fe80::1]/hook',
    'http://0.0.0.0/hook',
    'http://224.0.0.1/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://100.64.0.1/hook',
    'http://localhost:3000/hook',
  ])('refuses %s', async (url) => {
    expect(await refusal(strict, url)).toBe('webhook_target_refused');
  });

  it('accepts a public address, and refuses what is not an http(s) URL', async () => {
    expect(await strict.check('https://93.184.216.34/hook')).toMatchObject({ address: '93.184.216.34', family: 4 });
    expect(await refusal(strict, 'ftp://93.184.216.34/x')).toBe('invalid_url');
    expect(await refusal(strict, 'https://user:pw@93.184.216.34/x')).toBe('invalid_url');
    expect(await refusal(strict, 'not a url')).toBe('invalid_url');
  });

  it('lets an administrator allow a range or a host name, and nothing more', async () => {
    const guard = new WebhookGuard(['127.0.0.0/8', '10.20.0.0/16', 'localhost', '::1']);
    expect(await refusal(guard, 'http://127.0.0.1:9/hook')).toBe('allowed');
    expect(await refusal(guard, 'http://10.20.3.4/hook')).toBe('allowed');
    expect(await refusal(guard, 'http://[::1]:9/hook')).toBe('allowed');
    expect(await refusal(guard, 'http://localhost:9/hook')).toBe('allowed');
    expect(await refusal(guard, 'http://10.21.0.1/hook')).toBe('webhook_target_refused');
    expect(await refusal(guard, 'http://169.254.169.254/')).toBe('webhook_target_refused');
  });

  it('connects to the address it checked', async () => {
    const { startListener } = await import('./helpers.js');
    const l = await startListener();
    try {
      const guard = new WebhookGuard(['127.0.0.1']);
      const checked = await guard.check(`http://127.0.0.1:${l.port}/x`);
      // Even a URL naming another host is sent to the checked address.
      const res = await guard.post({ ...checked, url: new URL(`http://hooks.example.invalid:${l.port}/x`) }, '{}', {}, 2000);
      expect(res.status).toBe(200);
      expect(l.received[0]!.headers.host).toBe(`hooks.example.invalid:${l.port}`);
    } finally {
      await l.close();
    }
  });
});

describe('notification settings', () => {
  it('reads the allow-list and the SMTP server, and refuses malformed ones at start', async () => {
    const { loadConfig } = await import('../../src/config.js');
    const c = loadConfig({
      PALIER_WEBHOOK_ALLOW: '10.20.0.0/16, hooks.lan ,::1',
      PALIER_SMTP_URL: 'smtp://mail.example.org:587',
    });
    expect(c.notify).toMatchObject({
      webhookAllow: ['10.20.0.0/16', 'hooks.lan', '::1'],
      smtpUrl: 'smtp://mail.example.org:587',
      maxAttempts: 8,
    });
    expect(loadConfig({}).notify).toMatchObject({ webhookAllow: [], smtpUrl: null, groupWindowMs: 60_000, hourlyCap: 10 });
    expect(() => loadConfig({ PALIER_WEBHOOK_ALLOW: '10.0.0.0/99' })).toThrow(/PALIER_WEBHOOK_ALLOW/);
    expect(() => loadConfig({ PALIER_WEBHOOK_ALLOW: 'http://x' })).toThrow(/PALIER_WEBHOOK_ALLOW/);
    expect(() => loadConfig({ PALIER_SMTP_URL: 'http://mail.example.org' })).toThrow(/PALIER_SMTP_URL/);
  });
});
