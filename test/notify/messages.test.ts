import { describe, expect, it } from 'vitest';
import { NOTIFIED_EVENTS } from '../../src/store/escalation.repository.js';
import {
  describeEvent,
  renderEmail,
  renderSlack,
  renderTeams,
  type MessageContext,
  type NotifiedEvent,
} from '../../src/notify/messages.js';

const incident = {
  id: 42,
  title: '<img src=x onerror=alert(1)> & "quotes"',
  category: 'network-downtime',
  priority: 'P2' as const,
  tier: 'L2',
  status: 'new' as const,
};
const at = Date.UTC(2026, 10, 29, 8, 30);

const DATA: Record<string, Record<string, unknown>> = {
  escalated: { reason: 'Needs L2', automatic: false },
  handed_back: { reason: 'Wrong tier' },
  resolved: { resolution: 'Rebooted' },
  reopened: { reason: 'Back again' },
  deadline_warning: {
    clock: 'L2@3:acknowledge',
    kind: 'acknowledge',
    tier: 'L2',
    target: 'PT30M',
    dueAt: at + 600_000,
    fraction: 0.75,
  },
  deadline_missed: { clock: 'L2@3:resolve', kind: 'resolve', tier: 'L2', target: 'PT4H', dueAt: at, action: 'notify' },
  manager_notified: { clock: 'L2@3:resolve', repeat: 1, reason: 'Resolve target missed' },
  ping_pong_detected: { tiers: ['L1', 'L2'], handBacks: 3 },
  vendor_engaged: { vendor: { id: 1, name: 'Acme' }, note: 'Ticket opened' },
  vendor_acknowledged: { vendorId: 1, ticket: 'AC-77' },
  vendor_updated: { vendorId: 1, note: 'Part shipped' },
  vendor_done: { vendorId: 1, note: 'Replaced' },
};
const event = (kind: string, seq = 1): NotifiedEvent =>
  ({ seq, kind, at, actorId: null, fromTier: 'L1', toTier: 'L2', data: DATA[kind] ?? {} }) as NotifiedEvent;
const ctx = (locale: 'fr' | 'en', events: NotifiedEvent[]): MessageContext => ({
  incident,
  events,
  locale,
  publicUrl: 'https://desk.example.org',
});

describe('notification messages', () => {
  it('describes every notified event in French and in English, differently', () => {
    for (const kind of NOTIFIED_EVENTS) {
      const fr = describeEvent(event(kind), incident, 'fr');
      const en = describeEvent(event(kind), incident, 'en');
      expect(fr, kind).not.toBe(kind);
      expect(en, kind).not.toBe(kind);
      expect(fr, kind).not.toBe(en);
    }
    expect(describeEvent(event('deadline_warning'), incident, 'en')).toBe(
      'Acknowledgement deadline approaching (L1): 2026-11-29T08:40:00Z',
    );
    expect(describeEvent(event('deadline_missed'), incident, 'fr')).toBe(
      'Échéance de résolution dépassée (2026-11-29T08:30:00Z)',
    );
  });

  it('escapes user text in HTML and keeps it whole in plain text', () => {
    const mail = renderEmail(ctx('en', [event('escalated')]));
    expect(mail.html).not.toContain('<img');
    expect(mail.html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;');
    expect(mail.text).toContain('Incident #42: <img src=x onerror=alert(1)> & "quotes"');
    expect(mail.text).toContain('Open the incident: https://desk.example.org/incidents/42');
    expect(mail.subject).toBe('[Palier #42] <img src=x onerror=alert(1)> & "quotes" - Escalated from L1 to L2: Needs L2');
    const fr = renderEmail(ctx('fr', [event('escalated'), event('resolved', 2)]));
    expect(fr.subject).toMatch(/- 2 mises à jour$/);
    expect(fr.html).toContain('<html lang="fr">');
    expect(fr.text).toContain('Répondez à ce message');
  });

  it('keeps subjects on one line whatever the title holds', () => {
    const mail = renderEmail({ ...ctx('en', [event('created')]), incident: { ...incident, title: 'a\r\nBcc: x@evil.example' } });
    expect(mail.subject).not.toMatch(/[\r\n]/);
  });

  it('shapes Slack and Teams payloads', () => {
    const slack = renderSlack(ctx('en', [event('resolved')]));
    expect(JSON.stringify(slack)).not.toContain('<img');
    expect(slack.blocks).toHaveLength(3);
    const teams = renderTeams(ctx('fr', [event('resolved')])) as {
      sections: Array<{ activityTitle: string }>;
      themeColor: string;
    };
    expect(teams.sections[0]!.activityTitle).toBe('Incident résolu : Rebooted');
    expect(teams.themeColor).toBe('FF8C00');
  });
});
