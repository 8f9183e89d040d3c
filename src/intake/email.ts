import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import { simpleParser, type ParsedMail } from 'mailparser';
import { can, type Actor, type Role } from '../domain/policy.js';
import { incidentFromReferences } from '../notify/mail-references.js';
import type { Services } from '../services/context.js';
import { currentConfidentialRules } from '../services/matrix.service.js';
import type { Database } from '../store/schema.js';
import { act, openLinkedIncident, plain } from './correlate.js';
import { decodeBody, type Handler, type Outcome } from './message.js';
import type { Integration } from './integrations.js';
import { classify } from './rules.js';

/**
 * E-mail to incident. A new message opens an incident for its sender (a requester account without
 * password is made for a sender Palier does not know, as helpdesks do). A reply whose In-Reply-To
 * or References carries a correctly signed incident reference becomes a comment on that incident,
 * if its sender may comment there (the requester, or staff). A message is never processed twice:
 * its Message-ID is kept with the incident it went to.
 *
 * The sender is the From address. SMTP does not prove it: run the listener behind the mail server
 * that checks SPF, DKIM and DMARC for the organisation, and do not expose it to the internet.
 */

export interface ParsedEmail {
  messageId: string;
  from: { address: string; name: string } | null;
  subject: string;
  text: string;
  references: string[];
  automatic: boolean;
}

export async function parseEmail(raw: Buffer): Promise<ParsedEmail> {
  const mail: ParsedMail = await simpleParser(raw, { skipHtmlToText: false, skipTextToHtml: true, skipImageLinks: true });
  const sender = mail.from?.value[0];
  const references = [
    mail.inReplyTo ?? '',
    ...(Array.isArray(mail.references) ? mail.references : mail.references ? [mail.references] : []),
  ]
    .flatMap((r) => r.split(/\s+/))
    .filter(Boolean);
  const autoSubmitted = String(mail.headers.get('auto-submitted') ?? 'no').toLowerCase();
  return {
    // Without a Message-ID, the message's own bytes identify it.
    messageId: mail.messageId ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`,
    from: sender?.address ? { address: sender.address.toLowerCase(), name: sender.name ?? '' } : null,
    subject: mail.subject ?? '',
    // The plain-text part, or the HTML part reduced to text: HTML is never kept or rendered.
    text: mail.text ?? '',
    references,
    automatic:
      autoSubmitted !== 'no' || mail.headers.has('x-autoreply') || /^(mailer-daemon|postmaster)@/i.test(sender?.address ?? ''),
  };
}

/** The new part of a reply: the text above the quoted message. */
export function replyText(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  for (const line of lines) {
    if (/^(On .+ wrote:|Le .+ a écrit\s?:|-----Original Message-----|-----Message d'origine-----)\s*$/i.test(line.trim())) break;
    if (line.startsWith('>')) continue;
    out.push(line);
  }
  return out.join('\n').trim();
}

const looksLikeOurReference = (id: string) => /^<?incident-\d{1,15}\./.test(id.trim());

const rejected = (error: string, detail: Record<string, unknown> = {}): Outcome => ({
  status: 'rejected',
  incidentId: null,
  detail,
  error,
});

export const emailHandler: Handler<ParsedEmail> = {
  prepare: (message) => parseEmail(decodeBody(message)),
  async apply(s, trx, integration, _message, mail) {
    const key = `msg:${mail.messageId}`;
    const seen = await s.intake.correlation(trx, integration.id, key);
    if (seen)
      return { status: 'processed', incidentId: seen.incident_id, detail: { duplicate: true, messageId: mail.messageId } };
    if (!mail.from) return rejected('The message has no sender address');
    if (mail.automatic)
      return rejected('Automatic replies and bounces are not turned into incidents', { from: mail.from.address });

    const incidentId = incidentFromReferences(s.signer, mail.references);
    if (incidentId !== undefined) return comment(s, trx, integration, mail, key, incidentId);
    // A reference shaped like Palier's whose signature does not check is forged: it opens nothing.
    if (mail.references.some(looksLikeOurReference))
      return rejected('The message refers to an incident with a reference Palier did not sign', { from: mail.from.address });

    const sender = await senderAccount(s, trx, mail.from);
    if (!sender) return rejected(`The account of ${mail.from.address} is disabled`);
    // Vendor contacts answer on the incidents handed to their vendor; they open none.
    if (sender.role === 'vendor') return rejected(`${mail.from.address} is a vendor contact and opens no incidents`);
    const classification = classify(integration.config, {
      from: mail.from.address,
      domain: mail.from.address.split('@')[1] ?? '',
    });
    const incident = await openLinkedIncident(s, trx, integration, {
      actorId: sender.id,
      requesterId: sender.id,
      title: plain(mail.subject, 200) || '(no subject)',
      description: mail.text,
      classification,
      key,
      state: 'received',
    });
    return {
      status: 'processed',
      incidentId: incident.id,
      detail: { opened: incident.id, from: mail.from.address, messageId: mail.messageId },
    };
  },
};

/** A reply: a comment on its incident, only from someone allowed to comment there. */
async function comment(
  s: Services,
  trx: Transaction<Database>,
  integration: Integration,
  mail: ParsedEmail,
  key: string,
  incidentId: number,
): Promise<Outcome> {
  const from = mail.from!.address;
  const user = await s.intake.userByEmail(trx, from);
  const incident = await s.incidents.get(incidentId, trx, true);
  if (!user || user.disabled_at != null || !incident)
    return rejected(`${from} may not comment on incident ${incidentId}`, { from, incidentId });
  const actor: Actor = {
    id: Number(user.id),
    role: user.role as Role,
    tiers: JSON.parse(user.tiers) as string[],
    vendorId: user.vendor_id == null ? null : Number(user.vendor_id),
  };
  if (!can(actor, 'incident.comment', incident, await currentConfidentialRules(s, trx)))
    return rejected(`${from} may not comment on incident ${incidentId}`, { from, incidentId });
  if (incident.status === 'closed') return rejected(`Incident ${incidentId} is closed`, { from, incidentId });
  const body = replyText(mail.text) || mail.subject;
  await act(s, trx, actor, incidentId, { type: 'comment', body });
  await s.intake.insertCorrelation(trx, {
    integrationId: integration.id,
    key,
    incidentId,
    state: 'received',
    detail: undefined,
    at: s.clock.now(),
  });
  return { status: 'processed', incidentId, detail: { commented: incidentId, from, messageId: mail.messageId } };
}

/** The sender's account; someone Palier does not know becomes a requester without password. */
async function senderAccount(
  s: Services,
  trx: Transaction<Database>,
  from: { address: string; name: string },
): Promise<{ id: number; role: string } | undefined> {
  const user = await s.intake.userByEmail(trx, from.address);
  if (user) return user.disabled_at == null ? { id: Number(user.id), role: user.role } : undefined;
  const id = await s.intake.insertPasswordlessUser(trx, {
    email: from.address,
    role: 'requester',
    displayName: plain(from.name, 200) || from.address.split('@')[0]!,
    locale: 'fr',
    disabled: false,
    at: s.clock.now(),
  });
  return { id, role: 'requester' };
}
