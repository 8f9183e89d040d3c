import { fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerReply, ServerRequest } from '../server-process.js';

const SCRIPT = fileURLToPath(new URL('../server-process.ts', import.meta.url));
const MB = 1024 * 1024;

export interface RssReport {
  /** Highest RSS sampled (every 100 ms) since the last reset, in MB. */
  peakMb: number;
  currentMb: number;
  /** Kernel high-water mark over the whole life of the process, in MB. */
  maxRssMb: number;
  heapUsedMb: number;
  /** CPU time of the server process (all threads) over wall time since the last reset, in % of one core. */
  cpuPct: number;
  /** CPU time of the server process since the last reset, in ms. */
  cpuMs: number;
  /** Event-loop delay since the last reset (perf_hooks, 10 ms resolution), in ms. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export interface ServerProcess {
  url: string;
  port: number;
  pid: number;
  /** Starts a new measurement window: RSS peak, CPU time. */
  resetRss(): Promise<void>;
  rss(): Promise<RssReport>;
  /** Starts a V8 CPU profile in the server process (the measured window only, unlike --cpu-prof). */
  startProfile(): Promise<void>;
  /** Stops it and has the server write it to `file` (.cpuprofile, opens in Chrome DevTools). */
  stopProfile(file: string): Promise<void>;
  /** Asks the server to close and waits for the process to end (killed after 10 s). */
  stop(): Promise<number | null>;
}

export interface SpawnOptions {
  /** Database selection: { PALIER_DB } or { DATABASE_URL }. */
  env: Record<string, string>;
  startTimeoutMs?: number;
}

type Reply<T extends ServerReply['type']> = Extract<ServerReply, { type: T }>;

/** Starts bench/server-process.ts in a child process (tsx loader) and waits until it listens. */
export async function spawnServer(options: SpawnOptions): Promise<ServerProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Nothing inherited may choose another database than the one given.
  delete env.DATABASE_URL;
  delete env.PALIER_DB;
  Object.assign(env, { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'production' }, options.env);

  const child = fork(SCRIPT, [], { env, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  child.stdout?.resume(); // the port line is also sent over IPC; keep the pipe drained

  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      for (const w of waiters.splice(0))
        w.reject(new Error(`server process exited (code ${code}) while waiting for "${w.type}"`));
      resolve(code);
    }),
  );
  // Requests are answered in order, so replies go to the oldest waiter of their type; an error to the oldest waiter.
  const waiters: Array<{ type: ServerReply['type']; resolve: (m: ServerReply) => void; reject: (e: Error) => void }> = [];
  child.on('message', (m: ServerReply) => {
    const i = m.type === 'error' ? 0 : waiters.findIndex((w) => w.type === m.type);
    const waiter = i >= 0 ? waiters.splice(i, 1)[0] : undefined;
    if (!waiter) return;
    if (m.type === 'error') waiter.reject(new Error(`server process: ${m.message}`));
    else waiter.resolve(m);
  });

  const request = <T extends ServerReply['type']>(
    type: T,
    message: ServerRequest | undefined,
    timeoutMs: number,
  ): Promise<Reply<T>> =>
    new Promise<Reply<T>>((resolve, reject) => {
      if (exitCode !== undefined) return reject(new Error(`server process has exited (code ${exitCode})`));
      const timer = setTimeout(() => {
        const i = waiters.indexOf(waiter);
        if (i >= 0) waiters.splice(i, 1);
        reject(new Error(`server process: no "${type}" reply within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        type,
        resolve: (m: ServerReply) => {
          clearTimeout(timer);
          resolve(m as Reply<T>);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      waiters.push(waiter);
      if (message) child.send(message);
    });

  let ready: Reply<'ready'>;
  try {
    ready = await request('ready', undefined, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }

  let stopping: Promise<number | null> | undefined;
  return {
    url: `http://127.0.0.1:${ready.port}`,
    port: ready.port,
    pid: ready.pid,
    async resetRss() {
      await request('rss:reset', { type: 'rss:reset' }, 5000);
    },
    async rss() {
      const r = await request('rss', { type: 'rss' }, 5000);
      return {
        peakMb: r.peakBytes / MB,
        currentMb: r.currentBytes / MB,
        maxRssMb: r.maxRssBytes / MB,
        heapUsedMb: r.heapUsedBytes / MB,
        cpuPct: (100 * r.cpuMs) / r.wallMs,
        cpuMs: r.cpuMs,
        loopDelayP99Ms: r.loopDelayP99Ms,
        loopDelayMaxMs: r.loopDelayMaxMs,
      };
    },
    async startProfile() {
      await request('profile:start', { type: 'profile:start' }, 5000);
    },
    async stopProfile(file) {
      mkdirSync(dirname(file), { recursive: true });
      await request('profile:stop', { type: 'profile:stop', file }, 30_000);
    },
    stop() {
      stopping ??= (async () => {
        if (exitCode !== undefined) return exitCode;
        if (child.connected) child.send({ type: 'shutdown' } satisfies ServerRequest);
        else child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      })();
      return stopping;
    },
  };
}
