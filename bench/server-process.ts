/**
 * A Palier server in its own process, for load tests: configured from the environment like
 * `palier serve` (PALIER_DB or DATABASE_URL, PORT, HOST, LOG_LEVEL), it prints `port=<n>` on
 * stdout once listening. When forked with an IPC channel it also sends { type: 'ready', port },
 * samples its RSS every 100 ms and answers:
 *   { type: 'rss:reset' }  -> { type: 'rss:reset' }            starts a new peak window
 *   { type: 'rss' }        -> { type: 'rss', peakBytes, currentBytes, maxRssBytes, heapUsedBytes, cpuMs, wallMs,
 *                               loopDelayP99Ms, loopDelayMaxMs }   (all since the last reset)
 *   { type: 'profile:start' } / { type: 'profile:stop', file }   V8 CPU profile of the window, written to file
 *   { type: 'shutdown' }   -> closes the server and the database, then exits 0
 *
 *   node --import tsx bench/server-process.ts     (PORT defaults to 0 here: any free port)
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
// The built server, as `npm start` runs it (npm run bench builds first); typed from its sources.
const { createPalier } = (await import('../dist/app.js' as string)) as typeof import('../src/app.js');
const { loadConfig } = (await import('../dist/config.js' as string)) as typeof import('../src/config.js');

export type ServerRequest =
  | { type: 'rss:reset' }
  | { type: 'rss' }
  | { type: 'profile:start' }
  | { type: 'profile:stop'; file: string }
  | { type: 'shutdown' };
export type ServerReply =
  | { type: 'ready'; port: number; pid: number }
  | { type: 'rss:reset' }
  | {
      type: 'rss';
      peakBytes: number;
      currentBytes: number;
      maxRssBytes: number;
      heapUsedBytes: number;
      cpuMs: number;
      wallMs: number;
      loopDelayP99Ms: number;
      loopDelayMaxMs: number;
    }
  | { type: 'profile:start' }
  | { type: 'profile:stop'; file: string }
  | { type: 'error'; message: string };

const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...process.env });
const palier = await createPalier(config);
await palier.server.listen({ host: config.host, port: config.port });
const address = palier.server.server.address();
const port = typeof address === 'object' && address ? address.port : config.port;

let peak = process.memoryUsage.rss();
// CPU time (user + system) and wall time since the last reset: how busy the server really was.
let cpuSince = process.cpuUsage();
let wallSince = performance.now();
// How long callbacks waited for the event loop (a blocked loop delays every request).
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const sampler = setInterval(() => {
  const rss = process.memoryUsage.rss();
  if (rss > peak) peak = rss;
}, 100);
sampler.unref();

let closing: Promise<void> | undefined;
function shutdown(code = 0): Promise<void> {
  closing ??= (async () => {
    clearInterval(sampler);
    try {
      await palier.close();
    } catch (error) {
      console.error('server-process: close failed', error);
      code = 1;
    }
    // process.exit (not a natural exit) so that --cpu-prof still writes its profile and IPC does not keep us alive.
    process.exit(code);
  })();
  return closing;
}

const send = (message: ServerReply) => process.send?.(message);

let profiler: Session | undefined;
async function profile(message: Extract<ServerRequest, { type: 'profile:start' | 'profile:stop' }>) {
  try {
    if (message.type === 'profile:start') {
      profiler ??= new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
      await profiler.post('Profiler.start');
      send({ type: 'profile:start' });
    } else {
      if (!profiler) throw new Error('profile:stop without profile:start');
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      profiler = undefined;
      writeFileSync(message.file, JSON.stringify(profile));
      send({ type: 'profile:stop', file: message.file });
    }
  } catch (error) {
    send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
}

process.on('message', (message: ServerRequest) => {
  switch (message.type) {
    case 'rss:reset':
      peak = process.memoryUsage.rss();
      cpuSince = process.cpuUsage();
      wallSince = performance.now();
      loopDelay.reset();
      send({ type: 'rss:reset' });
      break;
    case 'rss': {
      const current = process.memoryUsage.rss();
      if (current > peak) peak = current;
      const cpu = process.cpuUsage(cpuSince);
      send({
        type: 'rss',
        peakBytes: peak,
        currentBytes: current,
        // Kernel-tracked high-water mark since the process started (kilobytes on Linux).
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
        heapUsedBytes: process.memoryUsage().heapUsed,
        cpuMs: (cpu.user + cpu.system) / 1000,
        wallMs: performance.now() - wallSince,
        loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
        loopDelayMaxMs: loopDelay.max / 1e6,
      });
      break;
    }
    case 'profile:start':
    case 'profile:stop':
      void profile(message);
      break;
    case 'shutdown':
      void shutdown(0);
      break;
  }
});
process.on('disconnect', () => void shutdown(0)); // the parent went away
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));

console.log(`port=${port}`);
send({ type: 'ready', port, pid: process.pid });
