import { ImapFlow } from 'imapflow';
import type { Services } from '../services/context.js';
import { processMessage, receive } from './inbox.js';
import { integrationOf, type Integration } from './integrations.js';

/**
 * Polls the IMAP mailbox of each e-mail integration that has one. Each unseen message is stored
 * first, then flagged \Seen, then processed: a crash before the flag fetches it again next time,
 * and its Message-ID keeps the second copy from opening a second incident.
 */
export class ImapPoller {
  private timers = new Map<number, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly s: Services,
    private readonly log: { error(obj: unknown, msg?: string): void },
  ) {}

  /** Starts one polling loop per e-mail integration with IMAP settings. */
  async start(): Promise<void> {
    for (const row of await this.s.intake.integrations(1000, 0, 'email')) {
      const integration = integrationOf(row);
      if (integration.enabled && integration.config.imap) this.schedule(integration.id, 0);
    }
  }

  private schedule(id: number, delayMs: number) {
    if (this.stopped) return;
    this.timers.set(
      id,
      setTimeout(() => {
        void this.pollLatest(id).then((nextMs) => nextMs !== null && this.schedule(id, nextMs));
      }, delayMs),
    );
  }

  /** Polls with the integration's current settings; stops when it is disabled or loses them. */
  private async pollLatest(id: number): Promise<number | null> {
    const row = await this.s.intake.integration(id).catch(() => undefined);
    if (!row) return 60_000;
    const integration = integrationOf(row);
    if (!integration.enabled || !integration.config.imap) return null;
    try {
      await pollOnce(this.s, integration);
    } catch (error) {
      this.log.error({ err: error, integration: id }, 'imap poll failed');
    }
    return integration.config.imap.pollSeconds * 1000;
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
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
