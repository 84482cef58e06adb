import { readFileSync } from 'node:fs';
import { fmt } from './support.js';

/**
 * Reads a V8 CPU profile (`node --cpu-prof`) and sums time per function: self time (where the samples
 * were) and total time (self plus callees, each sample counted once per function on its stack).
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  name: string;
  /** Where it is: a Herald source file, a package, or node's internals. */
  where: string;
  selfMs: number;
  totalMs: number;
}

export interface ProfileSummary {
  sampledMs: number;
  /** False when no sample fell in the window asked for (then the whole profile is summed). */
  windowed: boolean;
  functions: FunctionTime[];
  /** Self time per area (package, Herald folder, node internals, GC…). */
  areas: { area: string; selfMs: number }[];
  /** Every sample charged to the innermost Herald function on its stack: what Herald's own code costs, callees included. */
  heraldCallers: { name: string; where: string; ms: number }[];
}

/** `file:///…/node_modules/fastify/lib/route.js` → `fastify/lib/route.js:12`; Herald's own as `src/…`. */
function placeOf(url: string, line: number): string {
  if (!url) return '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
  if (pkg) return `${pkg[1]}/${pkg[2]}:${line + 1}`;
  const own = /\/dist\/(src\/.*)$/.exec(url) ?? /\/(src\/.*)$/.exec(url);
  if (own) return `${own[1]}:${line + 1}`;
  return `${url.replace(/^file:\/\//, '')}:${line + 1}`;
}

/** The area a function's self time is charged to. */
function areaOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : `native: ${functionName || '(anonymous)'}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/(?:dist\/)?src\/([^/]+)\//.exec(url);
  if (own) return `herald ${own[1]}/`;
  if (/\/(?:dist\/)?src\/[^/]+$/.test(url)) return 'herald src/';
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

const isHerald = (n: ProfileNode) => /\/(?:dist\/)?src\//.test(n.callFrame.url) && !n.callFrame.url.includes('node_modules');

/** Sums the samples taken within `windowUs` (the machine's monotonic clock, as V8 stamps samples), else all of them. */
export function summariseProfile(path: string, windowUs?: { start: number; end: number }): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const sum = (inWindow: (t: number) => boolean) => {
    const self = new Map<number, number>();
    let t = profile.startTime;
    profile.samples.forEach((id, i) => {
      const dt = profile.timeDeltas[i] ?? 0;
      t += dt;
      if (inWindow(t)) self.set(id, (self.get(id) ?? 0) + dt);
    });
    return self;
  };
  let selfUs = windowUs ? sum((t) => t >= windowUs.start && t <= windowUs.end) : new Map<number, number>();
  const windowed = selfUs.size > 0;
  if (!windowed) selfUs = sum(() => true);

  const keyOf = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'}\u0000${placeOf(n.callFrame.url, n.callFrame.lineNumber)}`;
  const fns = new Map<string, FunctionTime>();
  const fn = (n: ProfileNode) => {
    const key = keyOf(n);
    let f = fns.get(key);
    if (!f) fns.set(key, (f = { name: n.callFrame.functionName || '(anonymous)', where: placeOf(n.callFrame.url, n.callFrame.lineNumber), selfMs: 0, totalMs: 0 }));
    return f;
  };
  const areas = new Map<string, number>();
  const callers = new Map<string, { name: string; where: string; ms: number }>();
  let sampledUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    sampledUs += us;
    fn(node).selfMs += us / 1000;
    const area = areaOf(node);
    areas.set(area, (areas.get(area) ?? 0) + us / 1000);
    // Total time: this node's samples count once for every distinct function on its stack.
    const seen = new Set<string>();
    let charged = false;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at)!;
      if (!charged && isHerald(n)) {
        charged = true;
        const f = fn(n);
        const c = callers.get(keyOf(n)) ?? { name: f.name, where: f.where, ms: 0 };
        c.ms += us / 1000;
        callers.set(keyOf(n), c);
      }
      const key = keyOf(n);
      if (seen.has(key)) continue;
      seen.add(key);
      fn(n).totalMs += us / 1000;
    }
  }
  return {
    sampledMs: sampledUs / 1000,
    windowed,
    functions: [...fns.values()],
    heraldCallers: [...callers.values()].sort((a, b) => b.ms - a.ms),
    areas: [...areas].map(([area, selfMs]) => ({ area, selfMs })).sort((a, b) => b.selfMs - a.selfMs),
  };
}

/** The summary as lines: areas, the top functions by self time, Herald's functions by what they cost. */
export function profileReport(p: ProfileSummary, top = 25): string[] {
  const pct = (ms: number) => `${fmt((100 * ms) / p.sampledMs, 1)}%`.padStart(6);
  const own = p.functions.filter((f) => f.where.startsWith('src/'));
  return [
    `${fmt(p.sampledMs / 1000, 1)} s of the main thread sampled (wall clock: time blocked in a call, such as fsync in COMMIT, counts as that call's).`,
    'Self time by area:',
    ...p.areas.slice(0, 20).map((a) => `  ${pct(a.selfMs)}  ${a.area}`),
    'Top functions by self time:',
    ...[...p.functions].sort((a, b) => b.selfMs - a.selfMs).slice(0, top).map((f) => `  ${pct(f.selfMs)}  ${f.name}  ${f.where}`),
    'Charged to the innermost Herald function on the stack (its own time plus the libraries it called):',
    ...p.heraldCallers.slice(0, top).map((c) => `  ${pct(c.ms)}  ${c.name}  ${c.where}`),
    "Herald's own functions by total time (self + callees):",
    ...own.sort((a, b) => b.totalMs - a.totalMs).slice(0, top).map((f) => `  ${pct(f.totalMs)}  ${f.name}  ${f.where}`),
  ];
}
