import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { Services } from '../services/context.js';
import { processMessage, storeMessage } from './inbox.js';
import { integrationForRecipient, type Integration } from './integrations.js';

export interface SmtpListenerOptions {
  host: string;
  port: number;
  /** Largest message accepted, in bytes (announced in EHLO SIZE, 552 beyond). */
  maxBytes: number;
  log: { error(obj: unknown, msg?: string): void };
}

const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

/**
 * Palier's own SMTP listener. A recipient is accepted only if it reaches an enabled e-mail
 * integration (anything+<key>@…, or the integration's configured address); anyone else gets 550
 * at RCPT TO, before any data. A message is answered 250 only once it is stored, so a sending
 * server keeps and retries what Palier could not store.
 */
export class SmtpListener {
  private readonly server: SMTPServer;
  private readonly recipients = new Map<string, Map<number, Integration>>();

  constructor(
    private readonly s: Services,
    private readonly options: SmtpListenerOptions,
  ) {
    this.server = new SMTPServer({
      name: s.site.mailDomain,
      banner: 'Palier',
      // Mail arrives from the organisation's mail server, unauthenticated, as between MTAs.
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      size: options.maxBytes,
      logger: false,
      onRcptTo: (address, session, callback) => {
        integrationForRecipient(this.s, address.address)
          .then((integration) => {
            if (!integration) return callback(smtpError(550, `No mailbox here for ${address.address}`));
            const set = this.recipients.get(session.id) ?? new Map<number, Integration>();
            set.set(integration.id, integration);
            this.recipients.set(session.id, set);
            callback();
          })
          .catch((error: unknown) => {
            this.options.log.error({ err: error }, 'smtp recipient lookup failed');
            callback(smtpError(451, 'Temporary failure, try again later'));
          });
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const targets = [...(this.recipients.get(session.id)?.values() ?? [])];
          this.recipients.delete(session.id);
          if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded)
            return callback(smtpError(552, `Message larger than ${this.options.maxBytes} bytes`));
          this.accept(Buffer.concat(chunks), targets)
            .then((ids) => callback(null, `Stored as ${ids.map((id) => `#${id}`).join(', ')}`))
            .catch((error: unknown) => {
              this.options.log.error({ err: error }, 'smtp message could not be stored');
              callback(smtpError(451, 'Temporary failure, try again later'));
            });
        });
      },
      onClose: (session: SMTPServerSession) => {
        this.recipients.delete(session.id);
      },
    });
    this.server.on('error', (error) => this.options.log.error({ err: error }, 'smtp listener error'));
  }

  /** Stores the message once per integration it reached, then processes each; processing failures are left to the sweep. */
  private async accept(raw: Buffer, targets: Integration[]): Promise<number[]> {
    const stored = [];
    for (const integration of targets) stored.push({ message: await storeMessage(this.s, integration, raw, null), integration });
    for (const known of stored)
      await processMessage(this.s, known.message.id, known).catch((error: unknown) =>
        this.options.log.error({ err: error, messageId: known.message.id }, 'inbound e-mail not processed yet'),
      );
    return stored.map((k) => k.message.id);
  }

  /** Starts listening; resolves with the port (useful with port 0). */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.server.off('error', reject);
        resolve((this.server.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
