import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/** Machine-wide CPU counters (Linux /proc/stat, in ticks); undefined elsewhere. */
function cpuTicks(): { total: number; steal: number; idle: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user)
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { total, steal: v[7] ?? 0, idle: (v[3] ?? 0) + (v[4] ?? 0) };
  } catch {
    return undefined;
  }
}

export interface HostSample {
  /** Highest 1-minute load average seen at the start or end of the window. */
  load1m: number;
  /** Share of CPU time the hypervisor gave to other guests during the window (%), Linux only. */
  stealPct: number | null;
  /** Share of CPU time nobody used during the window (%), Linux only. */
  idlePct: number | null;
}

/** Starts a window over machine-wide contention indicators; call the result to close it. */
export function hostWindow(): () => HostSample {
  const load = loadavg()[0]!;
  const before = cpuTicks();
  return () => {
    const after = cpuTicks();
    const total = before && after ? after.total - before.total : 0;
    return {
      load1m: Math.max(load, loadavg()[0]!),
      stealPct: before && after && total > 0 ? (100 * (after.steal - before.steal)) / total : null,
      idlePct: before && after && total > 0 ? (100 * (after.idle - before.idle)) / total : null,
    };
  };
}
