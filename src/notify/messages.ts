import type { Incident, IncidentEvent, MissedTarget } from '../domain/incident.js';

export type Locale = 'fr' | 'en';

/** An event as a delivery keeps it: enough to describe it without reading the timeline again. */
export interface NotifiedEvent {
  seq: number;
  kind: IncidentEvent['kind'];
  at: number;
  actorId: number | null;
  fromTier: string | null;
  toTier: string | null;
  data: Record<string, unknown>;
}

export interface MessageContext {
  incident: Pick<Incident, 'id' | 'title' | 'category' | 'priority' | 'tier' | 'status'>;
  events: NotifiedEvent[];
  locale: Locale;
  publicUrl: string;
  /** Where this recipient opens the incident instead of its page: a vendor's signed link. */
  link?: string | undefined;
}

const TARGETS: Record<MissedTarget['kind'], Record<Locale, string>> = {
  acknowledge: { fr: 'prise en charge', en: 'acknowledgement' },
  resolve: { fr: 'résolution', en: 'resolution' },
  category: { fr: 'délai de la catégorie', en: 'category deadline' },
  vendor: { fr: 'délai du fournisseur', en: 'vendor deadline' },
};

const STATUSES: Record<string, Record<Locale, string>> = {
  new: { fr: 'nouveau', en: 'new' },
  acknowledged: { fr: 'pris en charge', en: 'acknowledged' },
  in_progress: { fr: 'en cours', en: 'in progress' },
  pending: { fr: 'en attente', en: 'pending' },
  resolved: { fr: 'résolu', en: 'resolved' },
  closed: { fr: 'clos', en: 'closed' },
};

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const when = (ms: unknown) => (typeof ms === 'number' ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : '');
const target = (d: Record<string, unknown>, l: Locale) => TARGETS[d.kind as MissedTarget['kind']]?.[l] ?? str(d.kind);
const withReason = (line: string, reason: string, l: Locale) => (reason ? `${line}${l === 'fr' ? ' : ' : ': '}${reason}` : line);

/** One line per event, in the reader's language. */
export function describeEvent(e: NotifiedEvent, incident: MessageContext['incident'], l: Locale): string {
  const d = e.data;
  const fr = l === 'fr';
  switch (e.kind) {
    case 'created':
      return fr
        ? `Nouvel incident ${incident.priority} au niveau ${e.toTier ?? incident.tier}`
        : `New ${incident.priority} incident at ${e.toTier ?? incident.tier}`;
    case 'acknowledged':
      return fr ? 'Incident pris en charge' : 'Incident acknowledged';
    case 'escalated': {
      const how = d.automatic ? (fr ? ' automatiquement' : ' automatically') : '';
      return withReason(
        fr ? `Escaladé${how} de ${e.fromTier} à ${e.toTier}` : `Escalated${how} from ${e.fromTier} to ${e.toTier}`,
        str(d.reason),
        l,
      );
    }
    case 'handed_back':
      return withReason(
        fr ? `Renvoyé de ${e.fromTier} à ${e.toTier}` : `Handed back from ${e.fromTier} to ${e.toTier}`,
        str(d.reason),
        l,
      );
    case 'resolved':
      return withReason(fr ? 'Incident résolu' : 'Incident resolved', str(d.resolution), l);
    case 'reopened':
      return withReason(fr ? 'Incident rouvert' : 'Incident reopened', str(d.reason), l);
    case 'deadline_warning':
      return fr
        ? `Échéance de ${target(d, l)} proche (${e.fromTier ?? d.tier ?? ''}) : ${when(d.dueAt)}`
        : `${target(d, l)} deadline approaching (${e.fromTier ?? d.tier ?? ''}): ${when(d.dueAt)}`.replace(/^./, (c) =>
            c.toUpperCase(),
          );
    case 'deadline_missed':
      return fr
        ? `Échéance de ${target(d, l)} dépassée (${when(d.dueAt)})`
        : `${target(d, l)} deadline missed (${when(d.dueAt)})`.replace(/^./, (c) => c.toUpperCase());
    case 'manager_notified':
      return withReason(fr ? 'Rappel aux responsables' : 'Reminder to managers', str(d.reason), l);
    case 'ping_pong_detected': {
      const tiers = Array.isArray(d.tiers) ? d.tiers.join(fr ? ' et ' : ' and ') : '';
      return fr ? `Allers-retours répétés entre ${tiers}` : `Repeated hand-overs between ${tiers}`;
    }
    case 'vendor_engaged': {
      const name = str((d.vendor as { name?: unknown } | undefined)?.name);
      return withReason(fr ? `Confié au fournisseur ${name}` : `Handed to vendor ${name}`, str(d.note), l);
    }
    case 'vendor_acknowledged':
      return fr
        ? `Pris en charge par le fournisseur ${str(d.ticket)}`.trim()
        : `Acknowledged by the vendor ${str(d.ticket)}`.trim();
    case 'vendor_updated':
      return withReason(fr ? 'Nouvelles du fournisseur' : 'Vendor update', str(d.note), l);
    case 'vendor_done':
      return withReason(fr ? 'Le fournisseur a terminé' : 'Vendor finished', str(d.note), l);
    case 'commented':
      return fr ? 'Nouveau commentaire' : 'New comment';
    default:
      return e.kind;
  }
}

export const incidentLink = (c: Pick<MessageContext, 'publicUrl' | 'incident' | 'link'>) =>
  c.link ?? `${c.publicUrl}/incidents/${c.incident.id}`;

function headline(c: MessageContext): string {
  if (c.events.length === 1) return describeEvent(c.events[0]!, c.incident, c.locale);
  return c.locale === 'fr' ? `${c.events.length} mises à jour` : `${c.events.length} updates`;
}

function facts(c: MessageContext): Array<[string, string]> {
  const fr = c.locale === 'fr';
  return [
    [fr ? 'Priorité' : 'Priority', c.incident.priority],
    [fr ? 'Niveau' : 'Tier', c.incident.tier],
    [fr ? 'Catégorie' : 'Category', c.incident.category],
    [fr ? 'Statut' : 'Status', STATUSES[c.incident.status]?.[c.locale] ?? c.incident.status],
  ];
}

/** Text that goes into HTML: every user-supplied string passes through here. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

/** Subject, plain text and HTML of one notification e-mail. */
export function renderEmail(c: MessageContext): { subject: string; text: string; html: string } {
  const fr = c.locale === 'fr';
  const link = incidentLink(c);
  // Subjects are one line whatever the title holds.
  const subject = `[Palier #${c.incident.id}] ${c.incident.title} - ${headline(c)}`.replace(/[\r\n]+/g, ' ');
  const lines = c.events.map((e) => `${when(e.at)}  ${describeEvent(e, c.incident, c.locale)}`);
  const replyHint = fr
    ? 'Répondez à ce message pour ajouter un commentaire à l’incident.'
    : 'Reply to this message to add a comment to the incident.';
  const text = [
    `Incident #${c.incident.id}${fr ? ' : ' : ': '}${c.incident.title}`,
    facts(c)
      .map(([k, v]) => `${k}${fr ? ' : ' : ': '}${v}`)
      .join('\n'),
    '',
    ...lines,
    '',
    `${fr ? 'Voir l’incident' : 'Open the incident'}: ${link}`,
    '',
    replyHint,
    '',
  ].join('\n');
  const html = [
    `<!doctype html><html lang="${c.locale}"><body style="font-family:sans-serif">`,
    `<h2>#${c.incident.id} ${escapeHtml(c.incident.title)}</h2>`,
    `<table>${facts(c)
      .map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
      .join('')}</table>`,
    `<ul>${c.events.map((e) => `<li><time>${when(e.at)}</time> ${escapeHtml(describeEvent(e, c.incident, c.locale))}</li>`).join('')}</ul>`,
    `<p><a href="${escapeHtml(link)}">${fr ? 'Voir l’incident' : 'Open the incident'}</a></p>`,
    `<p style="color:#666">${escapeHtml(replyHint)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}

/** Slack mrkdwn: &, < and > are its only control characters. */
const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A Slack incoming-webhook message: Block Kit, with a plain text fallback for notifications. */
export function renderSlack(c: MessageContext): Record<string, unknown> {
  const link = incidentLink(c);
  const title = `#${c.incident.id} ${c.incident.title}`;
  return {
    text: slackEscape(`${title} - ${headline(c)}`),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*<${link}|${slackEscape(title)}>*` } },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: c.events.map((e) => `• ${slackEscape(describeEvent(e, c.incident, c.locale))}`).join('\n'),
        },
      },
      {
        type: 'context',
        elements: facts(c).map(([k, v]) => ({ type: 'mrkdwn', text: `*${slackEscape(k)}*: ${slackEscape(v)}` })),
      },
    ],
  };
}

/** A Microsoft Teams incoming-webhook message (connector MessageCard). */
export function renderTeams(c: MessageContext): Record<string, unknown> {
  const link = incidentLink(c);
  const colour: Record<string, string> = { P1: 'D13438', P2: 'FF8C00', P3: 'FFB900', P4: '0078D7' };
  return {
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    summary: `#${c.incident.id} ${c.incident.title} - ${headline(c)}`,
    themeColor: colour[c.incident.priority] ?? '0078D7',
    title: `#${c.incident.id} ${c.incident.title}`,
    sections: [
      {
        activityTitle: headline(c),
        facts: facts(c).map(([name, value]) => ({ name, value })),
        text: c.events.map((e) => describeEvent(e, c.incident, c.locale)).join('\n\n'),
      },
    ],
    potentialAction: [
      {
        '@type': 'OpenUri',
        name: c.locale === 'fr' ? 'Voir l’incident' : 'Open the incident',
        targets: [{ os: 'default', uri: link }],
      },
    ],
  };
}

/** The body of a generic webhook: the incident and the events, as data. */
export function renderWebhook(c: MessageContext, idempotencyKey: string): Record<string, unknown> {
  return {
    idempotencyKey,
    incident: { ...c.incident, url: incidentLink(c) },
    events: c.events.map((e) => ({
      seq: e.seq,
      kind: e.kind,
      at: new Date(e.at).toISOString(),
      fromTier: e.fromTier,
      toTier: e.toTier,
      data: e.data,
      summary: describeEvent(e, c.incident, c.locale),
    })),
  };
}
