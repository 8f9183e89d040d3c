import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { replyText } from '../../src/intake/email.js';
import { classify, type IntegrationConfig } from '../../src/intake/rules.js';

const config = (over: Partial<IntegrationConfig> = {}): IntegrationConfig => ({
  category: 'network-downtime',
  impact: 2,
  urgency: 2,
  rules: [],
  keyBy: 'fingerprint',
  resolveIncidents: false,
  imap: null,
  ...over,
});

describe('label rules', () => {
  it('falls back to the defaults without rules or severity', () => {
    expect(classify(config(), { alertname: 'X' })).toEqual({ category: 'network-downtime', impact: 2, urgency: 2, rule: null });
  });

  it('maps the usual severities to impact and urgency', () => {
    expect(classify(config(), { severity: 'critical' })).toMatchObject({ impact: 1, urgency: 1 });
    expect(classify(config(), { severity: 'ERROR' })).toMatchObject({ impact: 2, urgency: 1 });
    expect(classify(config(), { severity: 'info' })).toMatchObject({ impact: 3, urgency: 3 });
    expect(classify(config(), { severity: 'unheard-of' })).toMatchObject({ impact: 2, urgency: 2 });
  });

  it('applies the first rule whose labels all match, exactly or one of a list', () => {
    const c = config({
      rules: [
        { match: { team: 'db', env: 'prod' }, category: 'cloud-service-interruption' },
        { match: { team: ['db', 'storage'] }, impact: 3 },
        { match: { team: 'db' }, category: 'data-security-breach', impact: 1, urgency: 1 },
      ],
    });
    expect(classify(c, { team: 'db', env: 'prod', severity: 'warning' })).toEqual({
      category: 'cloud-service-interruption',
      impact: 2,
      urgency: 2,
      rule: 0,
    });
    // A rule that sets only impact keeps the severity's urgency and the default category.
    expect(classify(c, { team: 'db', env: 'test', severity: 'critical' })).toEqual({
      category: 'network-downtime',
      impact: 3,
      urgency: 1,
      rule: 1,
    });
    expect(classify(c, { team: 'storage' })).toMatchObject({ rule: 1 });
    // Matching is exact: no prefix, no case folding, a missing label never matches.
    expect(classify(c, { team: 'DB' }).rule).toBeNull();
    expect(classify(c, { team: 'db-replica' }).rule).toBeNull();
    expect(classify(c, { env: 'prod' }).rule).toBeNull();
  });
});

describe('reply text', () => {
  it('keeps what was written above the quoted message', () => {
    expect(replyText('Thanks, it works.\r\n\r\nOn Mon, 30 Nov 2026, Palier wrote:\r\n> The incident was resolved')).toBe(
      'Thanks, it works.',
    );
    expect(replyText('Merci.\n\nLe lun. 30 nov. 2026 à 10:00, Palier <palier@example.org> a écrit :\n> Votre incident')).toBe(
      'Merci.',
    );
    expect(replyText('> quoted first\nmy answer\n> more quote')).toBe('my answer');
    expect(replyText('Plain message')).toBe('Plain message');
  });
});

describe('intake configuration', () => {
  it('reads the SMTP listener as PORT or HOST:PORT, and leaves it off by default', () => {
    expect(loadConfig({}).intake).toMatchObject({ smtpPort: null, sweepMs: 30_000, imap: true, ratePerMinute: 1200 });
    expect(loadConfig({ PALIER_SMTP_LISTEN: '2525' }).intake).toMatchObject({ smtpHost: '0.0.0.0', smtpPort: 2525 });
    expect(loadConfig({ PALIER_SMTP_LISTEN: '127.0.0.1:2525' }).intake).toMatchObject({ smtpHost: '127.0.0.1', smtpPort: 2525 });
    expect(() => loadConfig({ PALIER_SMTP_LISTEN: 'mail.example.org' })).toThrow(/PALIER_SMTP_LISTEN/);
  });
});
