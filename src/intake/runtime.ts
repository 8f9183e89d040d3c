import type { Config } from '../config.js';
import type { Services } from '../services/context.js';
import { ImapPoller } from './imap-poller.js';
import { sweep } from './inbox.js';
import { SmtpListener } from './smtp-listener.js';

export interface IntakeRuntime {
  /** The port the SMTP listener listens on, when it runs. */
  smtpPort: number | null;
  /** Processes every message still marked received. */
  sweep(): Promise<number>;
  close(): Promise<void>;
}

/** Messages younger than this are left to the request that stored them; the sweep takes the rest. */
const SWEEP_GRACE_MS = 10_000;

/**
 * Inbound channels that run beside the HTTP server: at start, every message a crash left
 * unprocessed is processed; then a periodic sweep (where the worker runs), the SMTP listener
 * (when configured) and IMAP polling.
 */
export async function startIntake(
  s: Services,
  config: Config,
  log: { error(obj: unknown, msg?: string): void },
): Promise<IntakeRuntime> {
  await sweep(s);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  if (config.worker) {
    timer = setInterval(() => {
      running ??= sweep(s, s.clock.now() - SWEEP_GRACE_MS)
        .catch((error: unknown) => log.error({ err: error }, 'inbound sweep failed'))
        .finally(() => (running = undefined));
    }, config.intake.sweepMs);
    timer.unref();
  }
  let smtp: SmtpListener | undefined;
  let smtpPort: number | null = null;
  if (config.intake.smtpPort !== null) {
    smtp = new SmtpListener(s, {
      host: config.intake.smtpHost,
      port: config.intake.smtpPort,
      maxBytes: config.intake.smtpMaxBytes,
      log,
    });
    smtpPort = await smtp.listen();
  }
  const imap = config.worker && config.intake.imap ? new ImapPoller(s, log, config.intake.imapTickMs) : undefined;
  imap?.start();
  return {
    smtpPort,
    sweep: () => sweep(s),
    close: async () => {
      clearInterval(timer);
      await imap?.stop();
      await smtp?.close();
      await running;
    },
  };
}
