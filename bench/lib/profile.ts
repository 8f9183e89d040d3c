import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Self time by package (node_modules/<pkg>), project file (src/…), or V8/Node category. */
  byOwner: Array<{ owner: string; ms: number; pct: number }>;
  /** Self time by function. */
  byFunction: Array<{ fn: string; ms: number; pct: number }>;
}

function owner(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : `native ${fn}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const project = /\/(src|bench|test)\/(.*)$/.exec(url);
  if (project) return `${project[1]}/${project[2]}`;
  if (url.startsWith('node:'))
    return url
      .replace(/^node:(internal\/)?/, 'node:')
      .split('/')
      .slice(0, 2)
      .join('/');
  return url;
}

/** Where the CPU went in a .cpuprofile: self time per owner and per function. */
export function summarizeProfile(file: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const time = new Map<number, number>();
  profile.samples.forEach((id, i) => time.set(id, (time.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const owners = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const t = time.get(node.id) ?? 0;
    if (!t) continue;
    total += t;
    const f = node.callFrame;
    const o = owner(f.url, f.functionName);
    owners.set(o, (owners.get(o) ?? 0) + t);
    const name = `${f.functionName || '(anonymous)'} ${o}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    fns.set(name, (fns.get(name) ?? 0) + t);
  }
  const rank = <K extends string>(m: Map<string, number>, key: K) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([k, us]) =>
          ({ [key]: k, ms: Math.round(us / 1000), pct: Math.round((1000 * us) / total) / 10 }) as { [P in K]: string } & {
            ms: number;
            pct: number;
          },
      );
  return { totalMs: Math.round(total / 1000), byOwner: rank(owners, 'owner'), byFunction: rank(fns, 'fn') };
}
