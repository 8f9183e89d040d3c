import { ImapFlow } from 'imapflow';
import type { Services } from '../services/context.js';
import { processMessage, receive } from './inbox.js';
import { integrationOf, type Integration } from './integrations.js';

/**
 * Polls the IMAP mailbox of each e-mail integration that has one. Each unseen message is stored
 * first, then flagged \Seen, then processed: a crash before the flag fetches it again next time,
 * and its Message-ID keeps the second copy from opening a second incident.
 *
 * The list of mailboxes is read again at every tick, so an integration added, changed or disabled
 * through the API is taken into account without a restart.
 */
export class ImapPoller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** When each integration's mailbox is next due, by integration id. */
  private nextPoll = new Map<number, number>();

  constructor(
    private readonly s: Services,
    private readonly log: { error(obj: unknown, msg?: string): void },
    private readonly tickMs = 5_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
    void this.tick();
  }

  /** Polls every mailbox that is due; one tick at a time. */
  tick(): Promise<void> {
    this.running ??= this.pollDue().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pollDue(): Promise<void> {
    let rows;
    try {
      rows = await this.s.intake.integrations(1000, 0, 'email');
    } catch (error) {
      this.log.error({ err: error }, 'imap: cannot list integrations');
      return;
    }
    const polled = rows.map(integrationOf).filter((i) => i.enabled && i.config.imap);
    const ids = new Set(polled.map((i) => i.id));
    for (const id of this.nextPoll.keys()) if (!ids.has(id)) this.nextPoll.delete(id);
    for (const integration of polled) {
      const now = this.s.clock.now();
      if ((this.nextPoll.get(integration.id) ?? 0) > now) continue;
      this.nextPoll.set(integration.id, now + integration.config.imap!.pollSeconds * 1000);
      try {
        await pollOnce(this.s, integration);
      } catch (error) {
        this.log.error({ err: error, integration: integration.id }, 'imap poll failed');
      }
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}

/** Fetches the unseen messages of one integration's mailbox once; returns the stored message ids. */
export async function pollOnce(s: Services, integration: Integration): Promise<number[]> {
  const imap = integration.config.imap;
  if (!imap) return [];
  const client = new ImapFlow({
    host: imap.host,
    port: imap.port,
    secure: imap.secure,
    auth: { user: imap.user, pass: imap.password },
    logger: false,
  });
  await client.connect();
  const stored: number[] = [];
  try {
    const lock = await client.getMailboxLock(imap.mailbox);
    try {
      const uids = (await client.search({ seen: false }, { uid: true })) || [];
      for (const uid of uids.slice(0, 200)) {
        const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
        if (!message || !message.source) continue;
        stored.push(await receive(s, integration, message.source, null));
        await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => undefined);
  }
  for (const id of stored) await processMessage(s, id);
  return stored;
}
