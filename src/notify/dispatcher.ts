import { createHmac } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { Kysely, Selectable } from 'kysely';
import type { NotifyConfig } from '../config.js';
import type { Incident, IncidentEvent } from '../domain/incident.js';
import { can, type ConfidentialRules } from '../domain/policy.js';
import type { Services } from '../services/context.js';
import { currentConfidentialRules } from '../services/matrix.service.js';
import type { Database } from '../store/schema.js';
import { channelOf, type Channel, type ChannelKind } from './channels.js';
import { incidentReference, notificationMessageId } from './mail-references.js';
import {
  renderEmail,
  renderSlack,
  renderTeams,
  renderWebhook,
  type Locale,
  type MessageContext,
  type NotifiedEvent,
} from './messages.js';
import type { Contact, ContactDirectory, TierTeam } from './recipients.js';
import { vendorLink } from '../services/vendor.service.js';
import { WebhookGuard } from './ssrf-guard.js';

type DeliveryRow = Selectable<Database['deliveries']>;

/** What a delivery carries: the incident it is about and the events grouped into it. */
export interface DeliveryPayload {
  incidentId: number;
  events: NotifiedEvent[];
  chatUrl?: string;
}

/** One addressee of one event: a person's mailbox or a channel. */
interface Target {
  recipient: string;
  kind: ChannelKind;
  channelId: number | null;
  locale: Locale;
  /** A team's chat room (incoming webhook) from the directory. */
  chatUrl?: string;
}

export interface DispatcherOptions {
  log?: { error(obj: unknown, msg?: string): void; warn?(obj: unknown, msg?: string): void };
  /** Rows handled per round. */
  batchSize?: number;
}

/** Reminders that lose their point once someone has taken the incident. */
const UNTIL_ACKNOWLEDGED = new Set<string>(['deadline_warning', 'manager_notified']);

/**
 * Consumes the outbox: turns each event into deliveries (e-mail to the people concerned, and the
 * channels whose rules match), then sends them with retries. Everything it knows is in the
 * database, so a restart resumes where it stopped; a delivery claimed by a process that died is
 * tried again once its lease runs out. Deliveries are at least once, each with its idempotency key.
 */
export class Dispatcher {
  private readonly guard: WebhookGuard;
  private readonly mailer: Transporter | null;
  private readonly batchSize: number;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly s: Services,
    private readonly config: NotifyConfig,
    private readonly directory: ContactDirectory,
    private readonly options: DispatcherOptions = {},
  ) {
    this.guard = new WebhookGuard(config.webhookAllow);
    this.mailer = config.smtpUrl
      ? nodemailer.createTransport({
          url: config.smtpUrl,
          connectionTimeout: config.timeoutMs,
          greetingTimeout: config.timeoutMs,
          socketTimeout: config.timeoutMs,
        } as SMTPTransport.Options)
      : null;
    this.batchSize = options.batchSize ?? 50;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        let busy = false;
        try {
          const r = await this.runOnce();
          busy = r.expanded + r.attempted > 0;
        } catch (error) {
          this.options.log?.error({ err: error }, 'notification dispatch failed');
        }
        if (!busy && this.running)
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, this.config.pollMs);
            this.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.mailer?.close();
  }

  /** One round: expand new outbox rows, then send what is due. */
  async runOnce(now: number = this.s.clock.now()): Promise<{ expanded: number; attempted: number }> {
    const expanded = await this.expand(now);
    const attempted = await this.deliverDue(now);
    return { expanded, attempted };
  }

  // ---- expansion -------------------------------------------------------------------------

  /** Turns pending outbox rows into deliveries, grouped per incident and recipient; returns rows consumed. */
  async expand(now: number): Promise<number> {
    const db = this.s.store.db;
    const rows = await db
      .selectFrom('outbox')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('id')
      .limit(this.batchSize)
      .execute();
    if (rows.length === 0) return 0;
    // Addressees are looked up before the transaction: the directory reads the database on its own.
    const channels = (
      await db.selectFrom('notification_channels').selectAll().where('enabled', '=', 1).where('deleted_at', 'is', null).execute()
    ).map(channelOf);
    const rules = await currentConfidentialRules(this.s);
    const plans = new Map<number, { event: NotifiedEvent; incidentId: number | null; targets: Target[] }>();
    for (const row of rows) {
      try {
        const event = toNotified(JSON.parse(row.payload) as IncidentEvent);
        const incident = row.incident_id == null ? undefined : await this.s.incidents.get(Number(row.incident_id));
        const targets = incident ? await this.targetsOf(event, incident, channels, rules, now) : [];
        plans.set(Number(row.id), { event, incidentId: incident?.id ?? null, targets });
      } catch (error) {
        // One row that cannot be expanded (a directory down) waits its turn again; the others go on.
        const attempts = row.attempts + 1;
        const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
        await db
          .updateTable('outbox')
          .set({
            attempts,
            last_error: message,
            ...(attempts >= this.config.maxAttempts ? { status: 'failed' } : { next_attempt_at: now + this.backoff(attempts) }),
          })
          .where('id', '=', row.id)
          .where('status', '=', 'pending')
          .execute();
        this.options.log?.error({ err: error, outboxId: row.id }, 'notification expansion failed');
      }
    }
    if (plans.size === 0) return 0;
    return db.transaction().execute(async (trx) => {
      let q = trx
        .selectFrom('outbox')
        .select('id')
        .where('id', 'in', [...plans.keys()])
        .where('status', '=', 'pending')
        .orderBy('id');
      if (this.s.store.engine === 'postgres') q = q.forUpdate().skipLocked();
      const claimed = (await q.execute()).map((r) => Number(r.id));
      for (const outboxId of claimed) {
        const plan = plans.get(outboxId)!;
        for (const target of plan.targets) await this.addToDelivery(trx, outboxId, plan.incidentId!, plan.event, target, now);
      }
      if (claimed.length)
        await trx.updateTable('outbox').set({ status: 'delivered', delivered_at: now }).where('id', 'in', claimed).execute();
      return claimed.length;
    });
  }

  /** Joins the event to a message not yet tried for that recipient, or starts one, within the hourly cap. */
  private async addToDelivery(
    trx: Kysely<Database>,
    outboxId: number,
    incidentId: number,
    event: NotifiedEvent,
    target: Target,
    now: number,
  ): Promise<void> {
    const key = `outbox:${outboxId}:${target.recipient}`;
    if (await trx.selectFrom('deliveries').select('id').where('idempotency_key', '=', key).executeTakeFirst()) return;
    const open = await trx
      .selectFrom('deliveries')
      .select(['id', 'payload'])
      .where('incident_id', '=', incidentId)
      .where('recipient', '=', target.recipient)
      .where('status', '=', 'pending')
      .where('attempts', '=', 0)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    if (open) {
      const payload = JSON.parse(open.payload) as DeliveryPayload;
      if (!payload.events.some((e) => e.seq === event.seq)) payload.events.push(event);
      // Only while nobody has claimed it for sending: otherwise the event would ride on a message already read.
      const joined = await trx
        .updateTable('deliveries')
        .set({ payload: JSON.stringify(payload) })
        .where('id', '=', open.id)
        .where('status', '=', 'pending')
        .where('attempts', '=', 0)
        .executeTakeFirst();
      if (Number(joined.numUpdatedRows) === 1) return;
    }
    const recent = await trx
      .selectFrom('deliveries')
      .where('incident_id', '=', incidentId)
      .select([(eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.max('sent_at').as('last')])
      .where('recipient', '=', target.recipient)
      .where('status', 'in', ['pending', 'sent', 'failed'])
      .where('created_at', '>', now - 3_600_000)
      .executeTakeFirstOrThrow();
    const capped = Number(recent.n) >= this.config.hourlyCap;
    // The first message goes at once; what follows within the window waits for its end, grouped.
    const last = recent.last == null ? null : Number(recent.last);
    const at = last !== null && last + this.config.groupWindowMs > now ? last + this.config.groupWindowMs : now;
    await trx
      .insertInto('deliveries')
      .values({
        outbox_id: outboxId,
        incident_id: incidentId,
        channel_id: target.channelId,
        kind: target.kind,
        recipient: target.recipient,
        locale: target.locale,
        idempotency_key: key,
        status: capped ? 'dropped' : 'pending',
        attempts: 0,
        next_attempt_at: at,
        last_error: capped
          ? `More than ${this.config.hourlyCap} messages in an hour about this incident for this recipient`
          : null,
        sent_at: null,
        created_at: now,
        payload: JSON.stringify({
          incidentId,
          events: [event],
          ...(target.chatUrl ? { chatUrl: target.chatUrl } : {}),
        } satisfies DeliveryPayload),
      })
      .execute();
  }

  /** Who hears about an event: the rules for people, then every channel whose filters match. */
  private async targetsOf(
    event: NotifiedEvent,
    incident: Incident,
    channels: Channel[],
    rules: ConfidentialRules,
    now: number,
  ): Promise<Target[]> {
    const out = new Map<string, Target>();
    // The account behind each personal address, checked against the confidential categories below.
    const accounts = new Map<string, number>();
    const person = (c: { email: string; locale: Locale; userId?: number } | null | undefined) => {
      if (!c?.email || c.email.endsWith('.invalid') || (c.userId !== undefined && c.userId === event.actorId)) return;
      if (!this.mailer) return;
      const email = c.email.toLowerCase();
      if (c.userId !== undefined) accounts.set(`email:${email}`, c.userId);
      if (!out.has(`email:${email}`))
        out.set(`email:${email}`, { recipient: `email:${email}`, kind: 'email', channelId: null, locale: c.locale });
    };
    const user = async (id: number | null) => {
      if (id === null) return;
      const u = await this.s.users.byId(id);
      if (u && !u.disabled) person({ userId: u.id, email: u.email, locale: u.locale });
    };
    const teams = async (tier: string) => (await this.directory.tierContacts(tier, now)).teams;
    // A team is reached at its shared mailbox and through whoever is on call; failing both, every member.
    const teamAddressees = (t: TierTeam): Array<Contact | { email: string; locale: Locale }> =>
      t.email || t.onCall
        ? [
            ...(t.email ? [{ email: t.email, locale: (t.onCall?.locale ?? 'fr') as Locale }] : []),
            ...(t.onCall ? [t.onCall] : []),
          ]
        : t.members;
    const tier = event.toTier ?? incident.tier;

    switch (event.kind) {
      case 'created':
      case 'escalated':
      case 'handed_back':
      case 'reopened':
        for (const t of await teams(tier)) {
          teamAddressees(t).forEach(person);
          // The team's chat room hears of what arrives at its tier.
          if (t.chatWebhookUrl) {
            // The URL is a secret of its own: kept in the payload, never shown as the recipient.
            const recipient = `chat:team:${t.id}`;
            out.set(recipient, {
              recipient,
              kind: chatKind(t.chatWebhookUrl),
              channelId: null,
              locale: t.onCall?.locale ?? 'fr',
              chatUrl: t.chatWebhookUrl,
            });
          }
        }
        break;
      case 'acknowledged':
      case 'resolved':
        await user(incident.requesterId);
        break;
      case 'deadline_warning':
        if (incident.assigneeId !== null) await user(incident.assigneeId);
        else for (const t of await teams(incident.tier)) teamAddressees(t).forEach(person);
        break;
      case 'deadline_missed':
      case 'manager_notified':
      case 'ping_pong_detected':
        for (const t of await teams(incident.tier)) t.managers.forEach(person);
        if (event.kind === 'deadline_missed') await user(incident.assigneeId);
        break;
      case 'vendor_engaged': {
        const vendor = event.data.vendor as { email?: string; locale?: Locale } | undefined;
        if (vendor?.email) person({ email: vendor.email, locale: vendor.locale ?? 'fr' });
        break;
      }
      default:
        await user(incident.assigneeId);
    }
    const confidential = rules.has(incident.category);
    if (confidential) {
      // Only people who may read the incident hear of it; team mailboxes and chat rooms are those of
      // the tier holding it, which sees it, and the vendor is the one it is handed to.
      for (const [recipient, userId] of accounts) {
        const u = await this.s.users.byId(userId);
        if (!u || !can({ id: u.id, role: u.role, tiers: u.tiers }, 'incident.read', incident, rules)) out.delete(recipient);
      }
    }
    for (const c of channels) {
      if (!c.events.includes(event.kind)) continue;
      // A channel hears of a confidential category only when it names that category itself.
      if (confidential && !c.categories?.includes(incident.category)) continue;
      if (c.categories && !c.categories.includes(incident.category)) continue;
      if (c.tiers && !c.tiers.includes(tier) && !c.tiers.includes(incident.tier)) continue;
      if (c.kind === 'email' && !this.mailer) continue;
      out.set(`channel:${c.id}`, { recipient: `channel:${c.id}`, kind: c.kind, channelId: c.id, locale: c.locale });
    }
    return [...out.values()];
  }

  /** Delay before the next attempt after `attempts` failed ones: doubling, capped. */
  private backoff(attempts: number): number {
    return Math.min(this.config.backoffMaxMs, this.config.backoffBaseMs * 2 ** (attempts - 1));
  }

  // ---- sending ---------------------------------------------------------------------------

  /** Claims due deliveries (a lease: a process that dies mid-send leaves them to be retried), sends them. */
  async deliverDue(now: number): Promise<number> {
    const db = this.s.store.db;
    const lease = now + this.config.timeoutMs * 3;
    // A plain read first: an idle poll must not take SQLite's write lock from the API.
    const any = await db
      .selectFrom('deliveries')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .limit(1)
      .executeTakeFirst();
    if (!any) return 0;
    const claimed = await db.transaction().execute(async (trx) => {
      let q = trx
        .selectFrom('deliveries')
        .selectAll()
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(this.batchSize);
      if (this.s.store.engine === 'postgres') q = q.forUpdate().skipLocked();
      const due = await q.execute();
      if (due.length)
        await trx
          .updateTable('deliveries')
          .set((eb) => ({ attempts: eb('attempts', '+', 1), next_attempt_at: lease }))
          .where(
            'id',
            'in',
            due.map((d) => d.id),
          )
          .execute();
      return due.map((d) => ({ ...d, attempts: d.attempts + 1 }));
    });
    await Promise.all(claimed.map((d) => this.attempt(d)));
    return claimed.length;
  }

  private async attempt(d: DeliveryRow): Promise<void> {
    const db = this.s.store.db;
    try {
      const outcome = await this.send(d);
      await db
        .updateTable('deliveries')
        .set(
          outcome === 'sent'
            ? { status: 'sent', sent_at: this.s.clock.now(), last_error: null }
            : { status: 'dropped', last_error: outcome.dropped },
        )
        .where('id', '=', d.id)
        .execute();
    } catch (error) {
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
      const failed = d.attempts >= this.config.maxAttempts;
      const delay = this.backoff(d.attempts);
      await db
        .updateTable('deliveries')
        .set(
          failed
            ? { status: 'failed', last_error: message }
            : { last_error: message, next_attempt_at: this.s.clock.now() + delay },
        )
        .where('id', '=', d.id)
        .execute();
    }
  }

  /** Sends one delivery; throws to be retried, returns `dropped` when there is nothing left worth sending. */
  private async send(d: DeliveryRow): Promise<'sent' | { dropped: string }> {
    const payload = JSON.parse(d.payload) as DeliveryPayload;
    const incident = await this.s.incidents.get(payload.incidentId);
    if (!incident) return { dropped: 'The incident no longer exists' };
    const events = await this.stillWorthSending(incident, payload.events);
    if (events.length === 0) return { dropped: 'Acknowledged or resolved before it was sent' };
    const ctx: MessageContext = { incident, events, locale: d.locale === 'en' ? 'en' : 'fr', publicUrl: this.s.site.publicUrl };

    let channel: Channel | undefined;
    let secret: string | null = null;
    if (d.channel_id !== null) {
      const row = await this.s.store.db
        .selectFrom('notification_channels')
        .selectAll()
        .where('id', '=', d.channel_id)
        .executeTakeFirst();
      if (!row || row.deleted_at !== null || row.enabled !== 1) return { dropped: 'The channel was disabled or deleted' };
      channel = channelOf(row);
      secret = row.secret;
    }

    if (d.kind === 'email') {
      if (!this.mailer) throw new Error('No SMTP server configured (PALIER_SMTP_URL)');
      const to = channel ? channel.target : d.recipient.replace(/^email:/, '');
      // The vendor the incident is handed to has no account: its message carries its signed page instead.
      if (!channel && incident.vendorId !== null) {
        const vendor = await this.s.vendors.byId(incident.vendorId);
        if (vendor && vendor.email.toLowerCase() === to.toLowerCase())
          ctx.link = vendorLink(this.s, { incidentId: incident.id, vendorId: vendor.id }).url;
      }
      const { signer, site } = this.s;
      const root = incidentReference(signer, incident.id, site.mailDomain);
      const mail = renderEmail(ctx);
      await this.mailer.sendMail({
        from: this.config.mailFrom ?? `Palier <palier@${site.mailDomain}>`,
        to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: notificationMessageId(signer, incident.id, Number(d.id), site.mailDomain),
        inReplyTo: root,
        references: [root],
        headers: {
          'Auto-Submitted': 'auto-generated',
          'X-Palier-Incident': String(incident.id),
          'Idempotency-Key': d.idempotency_key,
        },
      });
      return 'sent';
    }
    // A team's chat room from the directory, or a channel.
    const url = channel ? channel.target : (payload.chatUrl ?? null);
    if (!url) return { dropped: 'No channel' };
    const body = JSON.stringify(
      d.kind === 'slack' ? renderSlack(ctx) : d.kind === 'teams' ? renderTeams(ctx) : renderWebhook(ctx, d.idempotency_key),
    );
    const headers: Record<string, string> = { 'Idempotency-Key': d.idempotency_key };
    if (d.kind === 'webhook' && secret) {
      const timestamp = String(Math.floor(this.s.clock.now() / 1000));
      headers['X-Palier-Timestamp'] = timestamp;
      headers['X-Palier-Signature'] = `sha256=${signWebhook(secret, timestamp, body)}`;
    }
    // Checked again at every send: the name may resolve elsewhere now (DNS rebinding).
    const checked = await this.guard.check(url);
    const res = await this.guard.post(checked, body, headers, this.config.timeoutMs);
    if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status}: ${res.text.slice(0, 200)}`);
    return 'sent';
  }

  /** Drops reminders made pointless by an acknowledgement since, and every reminder of a closed incident. */
  private async stillWorthSending(incident: Incident, events: NotifiedEvent[]): Promise<NotifiedEvent[]> {
    if (!events.some((e) => UNTIL_ACKNOWLEDGED.has(e.kind))) return events;
    const row = await this.s.store.db
      .selectFrom('incident_events')
      .select((eb) => eb.fn.max('at').as('at'))
      .where('incident_id', '=', incident.id)
      .where('kind', '=', 'acknowledged')
      .executeTakeFirst();
    const ackAt = row?.at == null ? null : Number(row.at);
    const open = ['new', 'acknowledged', 'in_progress', 'pending'].includes(incident.status);
    return events.filter((e) => !UNTIL_ACKNOWLEDGED.has(e.kind) || (open && (ackAt === null || e.at > ackAt)));
  }
}

/** HMAC-SHA256 over "timestamp.body", hex: what a receiver recomputes to trust a webhook. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** Slack's incoming webhooks live under slack.com; other chat rooms are taken for Microsoft Teams. */
function chatKind(url: string): 'slack' | 'teams' {
  try {
    const host = new URL(url).hostname.toLowerCase();
    return host === 'slack.com' || host.endsWith('.slack.com') ? 'slack' : 'teams';
  } catch {
    return 'teams';
  }
}

function toNotified(e: IncidentEvent): NotifiedEvent {
  return {
    seq: e.seq,
    kind: e.kind,
    at: e.at,
    actorId: e.actorId,
    fromTier: e.fromTier,
    toTier: e.toTier,
    data: e.data as Record<string, unknown>,
  };
}

/** Puts a failed or dropped delivery back in line, as if new. */
export async function retryDelivery(s: Services, id: number): Promise<DeliveryRow | undefined> {
  // A dropped delivery may be sent anyway (over the hourly cap, channel enabled again): the send
  // still checks the channel and drops warnings made stale by an acknowledgement.
  return s.store.db
    .updateTable('deliveries')
    .set({ status: 'pending', attempts: 0, next_attempt_at: s.clock.now() })
    .where('id', '=', id)
    .where('status', 'in', ['failed', 'dropped'])
    .returningAll()
    .executeTakeFirst();
}
