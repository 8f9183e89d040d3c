import { readFile, writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createPalier } from '../app.js';
import { loadConfig } from '../config.js';
import { DomainError } from '../domain/errors.js';
import { detectFormat, EXPORT_FORMATS, exportMatrix, importMatrix, type ExportFormat, type Lang } from '../exchange/matrix-files.js';
import { ROLES, type Role } from '../domain/policy.js';
import { addUser } from '../services/auth.service.js';
import { createServices } from '../services/context.js';
import { loadSecret } from '../services/secret.js';
import { currentMatrix, ensureSeedMatrix, matrixVersion, saveMatrix } from '../services/matrix.service.js';
import { systemClock } from '../domain/clock.js';
import { openStore } from '../store/database.js';
import { migrateToLatest } from '../store/migrate.js';
import { EscalationWorker } from '../engine/worker.js';
import { Dispatcher } from '../notify/dispatcher.js';
import { TeamContactDirectory } from '../notify/recipients.js';
import { verifyAuditChains } from '../services/audit.service.js';
import { startIntake } from '../intake/runtime.js';

const integer = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
};

/** Runs a task against a migrated database with the default matrix, then closes it. */
async function withServices<T>(task: (s: ReturnType<typeof createServices>) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const store = openStore(config.database);
  try {
    await migrateToLatest(store);
    const services = createServices(store, systemClock);
    await ensureSeedMatrix(services);
    return await task(services);
  } finally {
    await store.close();
  }
}

const program = new Command('palier').description('Palier, the IT escalation desk').showHelpAfterError();

program
  .command('serve')
  .description('Serve the app and API')
  .option('--port <n>', 'port to listen on (default: $PORT or 3000)', integer)
  .option('--no-worker', 'do not run the escalation worker in this process')
  .action(async (opts: { port?: number; worker: boolean }) => {
    const config = loadConfig(process.env, {
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      ...(opts.worker ? {} : { worker: false }),
    });
    const palier = await createPalier(config);
    const stop = async () => {
      await palier.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await palier.server.listen({ host: config.host, port: config.port });
  });

program
  .command('worker')
  .description('Run the escalation worker alone (any number may share one PostgreSQL database)')
  .option('--name <name>', 'recorded in the events it applies (default: host:pid)')
  .action(async (opts: { name?: string }) => {
    const config = loadConfig();
    const store = openStore(config.database);
    await migrateToLatest(store);
    // The instance secret: e-mail replies processed here are checked against the references the server signed.
    const secret = await loadSecret(store.db, config.secret);
    const services = createServices(store, systemClock, { secret, site: { publicUrl: config.publicUrl } });
    await ensureSeedMatrix(services);
    const worker = new EscalationWorker(services, {
      pollMs: config.workerPollMs,
      ...(opts.name ? { name: opts.name } : {}),
      log: { error: (obj, msg) => console.error(msg, obj) },
    });
    // Alongside deadlines, the worker processes inbound messages left unprocessed and polls IMAP mailboxes.
    const intake = await startIntake(services, { ...config, worker: true, intake: { ...config.intake, smtpPort: null } }, {
      error: (obj, msg) => console.error(msg, obj),
    });
    // And it sends the notifications the outbox holds.
    const dispatcher = new Dispatcher(services, config.notify, new TeamContactDirectory(services), {
      log: { error: (obj, msg) => console.error(msg, obj) },
    });
    const stop = async () => {
      await dispatcher.stop();
      await intake.close();
      await worker.stop();
      await store.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    worker.start();
    dispatcher.start();
    console.log(`Escalation worker ${worker.name} running`);
  });

program
  .command('migrate')
  .description('Bring the database to the latest schema and load the default matrix if it has none')
  .action(async () => {
    const config = loadConfig();
    const store = openStore(config.database);
    try {
      const applied = await migrateToLatest(store);
      await ensureSeedMatrix(createServices(store, systemClock));
      console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database already up to date');
    } finally {
      await store.close();
    }
  });

type UserAddOptions = { email: string; password?: string; role: Role; tier?: string[]; vendor?: number; name?: string; locale?: 'fr' | 'en' };
const user = program.command('user').description('Manage users');
user
  .command('add')
  .description('Create a user')
  .requiredOption('--email <email>')
  .option('--password <password>')
  .addOption(new Option('--role <role>').choices(ROLES).makeOptionMandatory())
  .option('--tier <tier...>', 'tier(s) an agent works at, e.g. --tier L1 L2')
  .option('--vendor <id>', 'the vendor a vendor contact speaks for (role vendor)', integer)
  .option('--name <name>', 'display name')
  .addOption(new Option('--locale <locale>').choices(['fr', 'en']))
  .action(async (opts: UserAddOptions) => {
    const created = await withServices((s) =>
      addUser(s, {
        email: opts.email,
        password: opts.password,
        role: opts.role,
        displayName: opts.name,
        locale: opts.locale,
        tiers: opts.tier?.flatMap((t) => t.split(',')),
        vendorId: opts.vendor,
      }),
    );
    console.log(`Created ${created.role} ${created.email} (id ${created.id})`);
  });

const matrix = program.command('matrix').description('Export and import the escalation matrix');
matrix
  .command('export')
  .description('Print (or write) the current matrix as JSON, CSV, XLSX or a printable PDF')
  .addOption(new Option('--format <format>').choices(EXPORT_FORMATS).default('json'))
  .addOption(new Option('--lang <lang>', 'language of the XLSX overview sheet and of the PDF').choices(['fr', 'en']).default('fr'))
  .option('--output <file>', 'write to a file instead of standard output')
  .option('--matrix-version <n>', 'an earlier version instead of the current one', integer)
  .action(async (opts: { format: ExportFormat; lang: Lang; output?: string; matrixVersion?: number }) => {
    const m = await withServices((s) => (opts.matrixVersion ? matrixVersion(s, opts.matrixVersion) : currentMatrix(s)));
    const data = await exportMatrix(m, opts.format, opts.lang);
    if (opts.output) await writeFile(opts.output, data);
    else process.stdout.write(data);
  });

matrix
  .command('import')
  .description('Store the matrix in FILE (JSON, CSV or XLSX, told by its extension or content) as a new version')
  .argument('<file>')
  .option('--comment <text>', 'why the matrix changes')
  .action(async (file: string, opts: { comment?: string }) => {
    const data = await readFile(file);
    const format = detectFormat(data, file);
    let definition;
    try {
      definition = await importMatrix(data, format);
    } catch (error) {
      if (error instanceof DomainError) error.message = `${file}: ${error.message}`;
      throw error;
    }
    const saved = await withServices((s) => saveMatrix(s, null, definition, { comment: opts.comment ?? `Imported from ${file}` }));
    console.log(`Stored matrix version ${saved.version}`);
  });

const audit = program.command('audit').description('Check the audit trail');
audit
  .command('verify')
  .description("Recompute every incident's event hash chain; exit 1 at the first broken link")
  .action(async () => {
    const report = await withServices((s) => verifyAuditChains(s.store));
    if (report.broken) {
      const { incidentId, seq, reason } = report.broken;
      console.error(`Broken audit chain: incident ${incidentId}, event ${seq} (${reason.replaceAll('_', ' ')})`);
      process.exitCode = 1;
      return;
    }
    console.log(`Audit chains verified: ${report.incidents} incidents, ${report.events} events`);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof DomainError) {
    console.error(`palier: ${error.message}`);
    for (const d of error.details ?? []) console.error(`  ${d.path}: ${d.message}`);
    process.exit(2);
  }
  console.error(`palier: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
