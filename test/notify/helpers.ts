import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { loadConfig, type NotifyConfig } from '../../src/config.js';

/** Notification settings for tests: the defaults, local listeners allowed, quick retries. */
export function notifyConfig(overrides: Partial<NotifyConfig> = {}): NotifyConfig {
  return {
    ...loadConfig({}).notify,
    webhookAllow: ['127.0.0.0/8', '::1'],
    backoffBaseMs: 1000,
    backoffMaxMs: 8000,
    ...overrides,
  };
}

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Listener {
  url: string;
  port: number;
  received: Received[];
  /** Status the listener answers with (200 unless a test makes it fail). */
  status: number;
  close(): Promise<void>;
}

/** A real HTTP listener on 127.0.0.1 that records every request; on `port` when given. */
export async function startListener(port = 0): Promise<Listener> {
  const received: Received[] = [];
  const self: Listener = { url: '', port: 0, received, status: 200, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = self.status;
      res.end(self.status < 300 ? 'ok' : 'down for maintenance');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  self.port = (server.address() as AddressInfo).port;
  self.url = `http://127.0.0.1:${self.port}`;
  self.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return self;
}

/** A port nothing listens on (taken, then released). */
export async function freePort(): Promise<number> {
  const l = await startListener();
  await l.close();
  return l.port;
}

export interface SmtpSink {
  port: number;
  messages: Array<{ from: string; to: string[]; mail: ParsedMail }>;
  close(): Promise<void>;
}

/** A real SMTP server (smtp-server) keeping what it receives, envelope and parsed message. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: SmtpSink['messages'] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          messages.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            mail,
          });
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, messages, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
