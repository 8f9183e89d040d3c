import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { systemClock, type Clock } from './domain/clock.js';
import { EscalationWorker } from './engine/worker.js';
import { buildServer } from './http/server.js';
import { startIntake, type IntakeRuntime } from './intake/runtime.js';
import { Dispatcher } from './notify/dispatcher.js';
import { TeamContactDirectory, type ContactDirectory } from './notify/recipients.js';
import { createServices, type Services } from './services/context.js';
import { loadSecret } from './services/secret.js';
import { ensureSeedMatrix } from './services/matrix.service.js';
import { openStore } from './store/database.js';
import { migrateToLatest } from './store/migrate.js';

export interface Palier {
  services: Services;
  server: FastifyInstance;
  worker: EscalationWorker;
  /** Inbound channels: the sweep of unprocessed messages, the SMTP listener, IMAP polling. */
  intake: IntakeRuntime;
  /** Outbound notifications: consumes the outbox where the worker runs. */
  dispatcher: Dispatcher;
  close(): Promise<void>;
}

export interface PalierOptions {
  /** Who works at each tier; by default drawn from user accounts. */
  directory?: ContactDirectory;
}

/** Opens the database, brings it to the latest schema with the default matrix, and builds the server. */
export async function createPalier(config: Config, clock: Clock = systemClock, options: PalierOptions = {}): Promise<Palier> {
  const store = openStore(config.database);
  try {
    await migrateToLatest(store);
    const secret = await loadSecret(store.db, config.secret);
    const services = createServices(store, clock, { secret, site: { publicUrl: config.publicUrl }, vendorLinkDays: config.vendorLinkDays });
    await ensureSeedMatrix(services);
    const server = await buildServer(services, config);
    const worker = new EscalationWorker(services, { pollMs: config.workerPollMs, log: server.log });
    if (config.worker) worker.start();
    const intake = await startIntake(services, config, server.log);
    const dispatcher = new Dispatcher(services, config.notify, options.directory ?? new TeamContactDirectory(services), {
      log: server.log,
    });
    if (config.worker) dispatcher.start();
    return {
      services,
      server,
      worker,
      intake,
      dispatcher,
      close: async () => {
        await dispatcher.stop();
        await intake.close();
        await worker.stop();
        await server.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
