import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startEmulator } from '../src/emulator/index.js';
import { deliveredAlertIds } from '../test/support/stack.js';
import { findAlertmanager, startAlertmanager } from './alertmanager.js';
import { alertmanagerBatchBody, alertmanagerBody, CONNECTIONS, DURATION_S, heraldBatchBody, heraldBody, type LoadResult, REPEAT_KEYS, runLoad, WARMUP_S, type Workload } from './load.js';
import { parseOptions } from './options.js';
import { profileReport, summariseProfile } from './profile.js';
import { type Build, HEAD_BUILD, prepareRevision, resolveRevision } from './revision.js';
import { fmt, killRunningServers, percentile, progress, rssMb, sleep, startHerald } from './support.js';

/**
 * Herald's benchmarks. Each prints figures; none asserts. Discord's real limits are used (30 messages
 * per channel per 60 s, 5 per webhook per 2 s) unless a bench says otherwise.
 *   npm run bench                        all of them (about 9 minutes)
 *   npm run bench -- ingest rss          some of them: ingest, storm, p0, rss, and (only when named) profile, profile-distinct
 *   npm run bench -- --against 64735d5   each of them for that revision and for this checkout, in one run
 *   --rounds N                           ingest rounds per build (default 2 with --against, 1 without)
 */
const options = parseOptions(process.argv.slice(2));
if (typeof options === 'string') {
  process.stderr.write(`bench: ${options}\n`);
  process.exit(2);
}
const { benches, against, rounds } = options;
const revision = against === undefined ? undefined : resolveRevision(against);
if (against !== undefined && !revision) {
  process.stderr.write(`bench: --against ${against}: not a commit in this repository\n`);
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
/** Run in reverse at the end, also on failure or a signal: the temporary worktree, then the databases. */
const cleanups: Array<() => void> = [() => rmSync(dir, { recursive: true, force: true })];
const cleanUp = () => {
  for (const c of cleanups.splice(0).reverse()) c();
};
let interrupted = false;
for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]] as const) {
  // `on`, not `once`: tsx relays the terminal's Ctrl-C, so a second SIGINT comes, and with no listener
  // left it would kill the bench half way through removing the worktree.
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    progress(`${signal}: stopping the servers and removing the temporary files`);
    killRunningServers();
    cleanUp();
    process.exit(128 + number);
  });
}

const alertBody = (i: number, severity = 'P2') =>
  JSON.stringify({ service: 'checkout', severity, title: `Error rate above threshold (${i})`, description: 'p95 latency 2.3 s on /pay', labels: { team: 'payments', region: 'eu-west-1' } });

const describeLoad = (workload: Workload) =>
  workload === 'repeats'
    ? `repeats: dedup keys drawn from ${fmt(REPEAT_KEYS)} (each stored once before), a unique label each`
    : 'distinct: a new dedup key each';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const times = (head: number, old: number) => `${fmt(head / old, 2)}×`;
/** `old → head unit (ratio)`: both figures and the ratio, so a ratio of two tiny numbers is seen as such. */
const change = (old: number, head: number, unit: string, digits = 0) => `${fmt(old, digits)} → ${fmt(head, digits)} ${unit} (${times(head, old)})`;

/** Alerts per CPU second the server used: less at the mercy of other work on the machine than alerts/s. */
const perCpuSecond = (r: LoadResult) => (r.alertsPerSecond * DURATION_S) / r.serverCpuS;

function loadLine(who: string, r: LoadResult): string {
  return (
    `  ${who.padEnd(28)} ${fmt(r.alertsPerSecond).padStart(7)} alerts/s (${fmt(perCpuSecond(r))} per server CPU second), latency p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms, ` +
    `non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}; RSS ${fmt(r.rssStartMb)} → ${fmt(r.rssBeforeMb)} → ${fmt(r.rssAfterMb)} MB ` +
    `(start → after warm-up → after); CPU in ${DURATION_S} s: server ${fmt(r.serverCpuS, 1)} s, bench process ${fmt(r.benchCpuS, 1)} s, ` +
    `other processes ${fmt(r.otherCpuS, 1)} s${r.otherCpuS > 0.1 * DURATION_S * cpus().length ? ' (a busy machine: this figure is noise)' : ''}`
  );
}

/** Herald as `npm start` runs it, fsync per group commit, under one ingest workload. */
async function heraldUnderLoad(build: Build, workload: Workload, nodeFlags: string[] = []): Promise<LoadResult> {
  const emulator = await startEmulator();
  const h = await startHerald(emulator, join(dir, `ingest-${workload}-${Date.now()}.db`), { env: { HERALD_DB_SYNC: 'full' }, nodeFlags, root: build.root });
  try {
    return await runLoad(
      { url: `${h.herald.url}/v1/alerts`, headers: { authorization: `Bearer ${h.source}`, 'content-type': 'application/json' }, body: heraldBody, batchBody: heraldBatchBody, pid: h.herald.proc.pid! },
      workload,
    );
  } finally {
    await h.stop();
    await emulator.close();
  }
}

async function alertmanagerUnderLoad(binary: string, workload: Workload): Promise<{ result: LoadResult; version: string; notifications: number }> {
  const am = await startAlertmanager(binary);
  try {
    const result = await runLoad({ url: `${am.url}/api/v2/alerts`, headers: { 'content-type': 'application/json' }, body: alertmanagerBody, batchBody: alertmanagerBatchBody, pid: am.pid }, workload);
    return { result, version: am.version, notifications: am.notifications() };
  } finally {
    await am.stop();
  }
}

/**
 * The newer build against the older one over several rounds: the ratio of the means, and each round's
 * ratio, whose spread is the noise the mean hides.
 */
function compareLoads(old: Build, head: Build, olds: LoadResult[], heads: LoadResult[]): string {
  const perRound = (f: (r: LoadResult) => number) => (olds.length > 1 ? `; round by round ${heads.map((h, i) => times(f(h), f(olds[i]!))).join(', ')}` : '');
  const p99s = (rs: LoadResult[]) => rs.map((r) => r.p99).join(', ');
  return (
    `  ${head.label} / ${old.label}: alerts/s ${change(mean(olds.map((r) => r.alertsPerSecond)), mean(heads.map((r) => r.alertsPerSecond)), 'mean')}${perRound((r) => r.alertsPerSecond)}; ` +
    `per server CPU second ${change(mean(olds.map(perCpuSecond)), mean(heads.map(perCpuSecond)), 'mean')}${perRound(perCpuSecond)}; ` +
    `p99 ${p99s(olds)} → ${p99s(heads)} ms; highest RSS after the load ${change(Math.max(...olds.map((r) => r.rssAfterMb)), Math.max(...heads.map((r) => r.rssAfterMb)), 'MB')}`
  );
}

/**
 * The realistic ingest loads, Herald and Alertmanager one after the other in the same run, each freshly
 * started, with the same load generator, the same alert sequence and the same warm-up. With `--against`,
 * the two Herald builds alternate (old, HEAD, Alertmanager; again) so that drift on the machine falls on both.
 */
async function ingestHeadToHead(builds: Build[]) {
  const binary = findAlertmanager();
  console.log(
    `ingest head to head: single-alert POSTs, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up then ${DURATION_S} s measured, Herald with HERALD_DB_SYNC=full; ` +
      `one autocannon in the bench process, no core pinning (the same for every system)` +
      (rounds > 1 ? `; ${rounds} rounds of ${[...builds.map((b) => b.label), ...(binary ? ['Alertmanager'] : [])].join(', ')}, in that order` : ''),
  );
  if (!binary) console.log('  Alertmanager column skipped: Alertmanager is not installed (no `alertmanager` or `prometheus-alertmanager` on PATH)');
  for (const workload of ['repeats', 'distinct'] as const) {
    console.log(` ${describeLoad(workload)}`);
    const results = builds.map(() => [] as LoadResult[]);
    const ams: LoadResult[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const [i, build] of builds.entries()) {
        progress(`ingest ${workload}, round ${round} of ${rounds}: ${build.label}`);
        const r = await heraldUnderLoad(build, workload);
        results[i]!.push(r);
        console.log(loadLine(builds.length > 1 || rounds > 1 ? `${build.label}${rounds > 1 ? `, round ${round}` : ''}` : 'Herald (HERALD_DB_SYNC=full)', r));
      }
      if (!binary) continue;
      progress(`ingest ${workload}, round ${round} of ${rounds}: Alertmanager`);
      const am = await alertmanagerUnderLoad(binary, workload);
      ams.push(am.result);
      console.log(loadLine(`Alertmanager ${am.version}${rounds > 1 ? `, round ${round}` : ''}`, am.result) + `; ${am.notifications} webhook notifications`);
    }
    if (builds.length > 1) console.log(compareLoads(builds[0]!, builds[1]!, results[0]!, results[1]!));
    if (!binary) continue;
    for (const [i, build] of builds.entries()) {
      const heralds = results[i]!;
      console.log(
        `  ${builds.length > 1 ? build.label : 'Herald'} / Alertmanager: ${times(mean(heralds.map((r) => r.alertsPerSecond)), mean(ams.map((r) => r.alertsPerSecond)))} alerts/s ` +
          `(${times(mean(heralds.map(perCpuSecond)), mean(ams.map(perCpuSecond)))} per server CPU second)${rounds > 1 ? `, means of ${rounds} rounds` : ''}`,
      );
    }
  }
}

/** Herald under the repeats (or distinct) load with `--cpu-prof`: where its CPU time goes. */
/** A CPU profile of each build under the load (the older first, with `--against`), each with its own report. */
async function profile(builds: Build[], workload: 'repeats' | 'distinct') {
  for (const build of builds) {
    const profDir = join(dir, `cpu-profile-${workload}-${builds.indexOf(build)}`);
    const r = await heraldUnderLoad(build, workload, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`profile: ${build.label} wrote no .cpuprofile into ${profDir}`);
    const p = summariseProfile(join(profDir, file), r.windowUs);
    console.log(
      `profile: ${build.label} under the ${workload} load with --cpu-prof, ` +
        (p.windowed ? `the ${DURATION_S} s measured only` : "the whole process life (no sample matched the measured window's clock)"),
    );
    console.log(loadLine(`${build.label}, profiled`, r));
    for (const line of profileReport(p)) console.log(`  ${line}`);
  }
}

/**
 * One bench for each build in turn (the older first), each line labelled, then how HEAD compares.
 * Without `--against`, the single line it has always printed.
 */
async function headToHead<R>(
  builds: Build[],
  what: { name: string; description: string; run: (b: Build) => Promise<R>; figures: (r: R) => string; compare: (old: R, head: R) => string },
): Promise<void> {
  const results: R[] = [];
  for (const build of builds) {
    progress(`${what.name}: ${build.label}`);
    results.push(await what.run(build));
  }
  if (builds.length === 1) {
    console.log(`${what.description}: ${what.figures(results[0]!)}`);
    return;
  }
  console.log(`${what.description}:`);
  for (const [i, build] of builds.entries()) console.log(`  ${build.label.padEnd(16)} ${what.figures(results[i]!)}`);
  console.log(`  ${builds[1]!.label} / ${builds[0]!.label}: ${what.compare(results[0]!, results[1]!)}`);
}

interface IdenticalResult {
  alertsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  rssMb: number;
}

/** The older ingest figure: one identical body without a dedup key, so every POST stores a new alert. */
async function identicalBody(build: Build, sync: 'full' | 'normal'): Promise<IdenticalResult> {
  const emulator = await startEmulator();
  const h = await startHerald(emulator, join(dir, `ingest-${sync}-${Date.now()}.db`), { env: { HERALD_DB_SYNC: sync }, root: build.root });
  try {
    const result = await autocannon({
      url: `${h.herald.url}/v1/alerts`,
      method: 'POST',
      connections: 50,
      duration: 10,
      headers: { authorization: `Bearer ${h.source}`, 'content-type': 'application/json' },
      body: alertBody(1),
    });
    const rss = rssMb(h.herald.proc.pid!);
    return { alertsPerSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max, non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts, rssMb: rss };
  } finally {
    await h.stop();
    await emulator.close();
  }
}

async function ingestIdenticalBody(builds: Build[], sync: 'full' | 'normal') {
  const description = `ingest, one identical body without a key (HERALD_DB_SYNC=${sync}, single-alert POSTs, 50 connections, 10 s)`;
  const figures = (r: IdenticalResult) =>
    `${fmt(r.alertsPerSecond)} alerts/s, latency p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms, non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}; Herald RSS ${fmt(r.rssMb)} MB`;
  const results = builds.map(() => [] as IdenticalResult[]);
  for (let round = 1; round <= rounds; round++) {
    for (const [i, build] of builds.entries()) {
      progress(`ingest, one identical body (${sync}), round ${round} of ${rounds}: ${build.label}`);
      results[i]!.push(await identicalBody(build, sync));
    }
  }
  if (builds.length === 1 && rounds === 1) {
    console.log(`${description}: ${figures(results[0]![0]!)}`);
    return;
  }
  console.log(`${description}:`);
  for (let round = 0; round < rounds; round++) {
    for (const [i, build] of builds.entries()) console.log(`  ${`${build.label}${rounds > 1 ? `, round ${round + 1}` : ''}`.padEnd(28)} ${figures(results[i]![round]!)}`);
  }
  if (builds.length < 2) return;
  const [olds, heads] = [results[0]!, results[1]!];
  const rate = (rs: IdenticalResult[]) => mean(rs.map((r) => r.alertsPerSecond));
  console.log(
    `  ${builds[1]!.label} / ${builds[0]!.label}: alerts/s ${change(rate(olds), rate(heads), 'mean')}` +
      (rounds > 1 ? `; round by round ${heads.map((h, i) => times(h.alertsPerSecond, olds[i]!.alertsPerSecond)).join(', ')}` : '') +
      `; p99 ${olds.map((r) => r.p99).join(', ')} → ${heads.map((r) => r.p99).join(', ')} ms`,
  );
}

/** Storm mode's bar (issue 10 §2): n P3 alerts into one channel, real limits, 3 webhooks, all visible within `withinMs`. */
const STORMS = [
  { n: 300, withinMs: 14_000 },
  { n: 1000, withinMs: 30_000 },
] as const;
const STORM_WEBHOOKS = 3;

interface StormRun {
  n: number;
  /** From the first POST until every alert is visible in the channel (a card or a compact line). */
  visibleMs: number;
  postedMs: number;
  messages: number;
  compactMessages: number;
  /** Alerts shown more than once. */
  twice: number;
  limited: number;
  requests: number;
  rejected: number;
  /** A P0 posted once the first compact message is up: until its own card is visible. */
  p0Ms: number;
  p0HasButtons: boolean;
}
type StormResult = StormRun[];

const isCompactMessage = (m: { embeds: unknown[] }) => ((m.embeds as { footer?: { text?: string } }[]).at(-1)?.footer?.text ?? '').startsWith('Storm mode');

async function stormRun(build: Build, n: number): Promise<StormRun> {
  const emulator = await startEmulator();
  const h = await startHerald(emulator, join(dir, `storm-${n}-${Date.now()}.db`), { root: build.root, webhooks: STORM_WEBHOOKS });
  try {
    const started = Date.now();
    const queue = Array.from({ length: n }, (_, i) => i);
    const accepted: number[] = [];
    let p0: Promise<{ id: number; sentAt: number }> | undefined;
    const postP0 = async () => {
      const sentAt = Date.now();
      const res = await h.api.post(h.source, { ...JSON.parse(alertBody(n, 'P0')), service: 'payments', title: 'Payments down' });
      if (res.status !== 202) throw new Error(`storm: P0 POST answered ${res.status}`);
      return { id: res.body.ids[0] as number, sentAt };
    };
    await Promise.all(Array.from({ length: 50 }, async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
        const res = await h.api.post(h.source, JSON.parse(alertBody(i, 'P3')));
        if (res.status !== 202) throw new Error(`storm: POST answered ${res.status}`);
        accepted.push(...(res.body.ids as number[]));
      }
    }));
    const postedMs = Date.now() - started;
    // A build that never delivers them all must not hang the bench (an old build without storm mode takes minutes).
    const deadline = started + 300_000;
    let p0Ms = NaN;
    for (;;) {
      const shown = new Set(deliveredAlertIds(emulator, h.discordChannelId));
      // Mid-storm: once the first compact message is up (or, for a build without storm mode, a tenth is shown).
      if (!p0 && (emulator.messages(h.discordChannelId).some(isCompactMessage) || shown.size >= n / 10)) p0 = postP0();
      if (p0 && Number.isNaN(p0Ms)) {
        const sent = await p0;
        if (shown.has(sent.id)) p0Ms = Date.now() - sent.sentAt;
      }
      if (accepted.every((id) => shown.has(id)) && !Number.isNaN(p0Ms)) break;
      if (Date.now() > deadline) throw new Error(`storm: ${build.label} showed ${shown.size} of ${n} in ${fmt((deadline - started) / 1000)} s`);
      await sleep(p0 && Number.isNaN(p0Ms) ? 5 : 20);
    }
    const visibleMs = Date.now() - started;
    const ids = deliveredAlertIds(emulator, h.discordChannelId);
    const stats = emulator.stats();
    const messages = emulator.messages(h.discordChannelId);
    const p0Id = (await p0!).id;
    const p0Message = messages.find((m) => (m.embeds as { footer?: { text?: string } }[]).some((e) => (e.footer?.text ?? '').includes(`alert #${p0Id}`)));
    return {
      n,
      visibleMs,
      postedMs,
      messages: messages.length,
      compactMessages: messages.filter(isCompactMessage).length,
      twice: ids.length - new Set(ids).size,
      limited: stats.rateLimited.user + stats.rateLimited.shared + stats.rateLimited.global,
      requests: stats.requests,
      rejected: stats.byStatus['400'] ?? 0,
      p0Ms,
      p0HasButtons: (p0Message?.components.length ?? 0) > 0,
    };
  } finally {
    await h.stop();
    await emulator.close();
  }
}

async function storm(build: Build): Promise<StormResult> {
  const runs: StormRun[] = [];
  for (const { n } of STORMS) runs.push(await stormRun(build, n));
  return runs;
}

const stormRunFigures = (r: StormRun) => {
  const bar = STORMS.find((x) => x.n === r.n)!.withinMs;
  return (
    `${fmt(r.n)} P3 all visible in ${fmt(r.visibleMs / 1000, 1)} s (bar ${bar / 1000} s; posted in ${fmt(r.postedMs / 1000, 1)} s); ` +
    `${r.messages} messages (${r.compactMessages} compact); shown twice: ${r.twice}; ${r.limited} 429s in ${r.requests} requests ` +
    `(${fmt((100 * r.limited) / r.requests, 2)} per 100); 400s: ${r.rejected}; P0 mid-storm visible in ${fmt(r.p0Ms)} ms${r.p0HasButtons ? ' with buttons' : ''}`
  );
};

const stormBench = {
  name: 'storm (300 and 1,000 alerts; seconds with storm mode, minutes for a build without it)',
  description: `storm (P3 alerts into one channel, ${STORM_WEBHOOKS} webhooks, real limits 30/60 s per channel, 5/2 s per webhook)`,
  run: storm,
  figures: (r: StormResult) => r.map(stormRunFigures).join('\n    '),
  compare: (old: StormResult, head: StormResult) =>
    head
      .map((h, i) => `${fmt(h.n)}: all visible in ${change(old[i]!.visibleMs / 1000, h.visibleMs / 1000, 's', 1)}, lower is better; P0 ${fmt(old[i]!.p0Ms)} → ${fmt(h.p0Ms)} ms; 429s ${old[i]!.limited} → ${h.limited}; messages ${old[i]!.messages} → ${h.messages}; 400s ${old[i]!.rejected} → ${h.rejected}`)
      .join('; '),
};

interface P0Result {
  p50: number;
  max: number;
  shared429s: number;
}

async function p0(build: Build): Promise<P0Result> {
  const emulator = await startEmulator();
  const h = await startHerald(emulator, join(dir, `p0-${Date.now()}.db`), { root: build.root });
  try {
    const flood = 5000;
    for (let i = 0; i < flood; i += 500) {
      const alerts = Array.from({ length: 500 }, (_, k) => JSON.parse(alertBody(i + k, 'P3')));
      await h.api.post(h.source, { alerts });
    }
    await sleep(2000);
    const latencies: number[] = [];
    for (let s = 0; s < 10; s++) {
      const t0 = Date.now();
      const res = await h.api.post(h.source, { service: 'db', severity: 'P0', title: `Primary database down (${s})` });
      const id = res.body.ids[0] as number;
      // Two minutes is far past the 2 s bar: a build that never delivers the P0 must not hang the bench.
      while (!deliveredAlertIds(emulator, h.discordChannelId).includes(id)) {
        if (Date.now() - t0 > 120_000) throw new Error(`p0: ${build.label} did not deliver P0 ${s + 1} within 120 s`);
        await sleep(5);
      }
      latencies.push(Date.now() - t0);
      await sleep(2500);
    }
    latencies.sort((a, b) => a - b);
    return { p50: percentile(latencies, 50), max: latencies.at(-1)!, shared429s: emulator.stats().rateLimited.shared };
  } finally {
    await h.stop();
    await emulator.close();
  }
}

const p0Bench = {
  name: 'p0 (about 40 s per build)',
  description: 'p0 latency during a P3 flood (5000 P3 queued, real limits, 10 P0s 2.5 s apart)',
  run: p0,
  figures: (r: P0Result) => `p50 ${r.p50} ms, max ${r.max} ms; shared 429s ${r.shared429s}`,
  compare: (old: P0Result, head: P0Result) => `p50 ${change(old.p50, head.p50, 'ms')}, max ${change(old.max, head.max, 'ms')}, lower is better; shared 429s ${old.shared429s} → ${head.shared429s}`,
};

interface RssResult {
  beforeMb: number;
  afterMb: number;
  /** The main thread's heap after a full GC (the sum of a heap snapshot's objects): what is really kept, without garbage not yet collected. */
  liveMb: number;
  postMs: number;
  queued: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
}

const RSS_TOTAL = 100_000;
const RSS_BATCH = 1000;

/**
 * Has the process write a heap snapshot (V8 runs a full GC first) and sums its objects' sizes. The snapshot is
 * written on the event loop once it begins, so an answer to a request sent after its file appeared means it is complete.
 */
async function liveHeapMb(url: string, pid: number, folder: string): Promise<number> {
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 60_000;
  let file: string | undefined;
  while (!(file = readdirSync(folder).find((f) => f.endsWith('.heapsnapshot')))) {
    if (Date.now() > deadline) throw new Error('rss: the heap snapshot was not written within 60 s');
    await sleep(100);
  }
  await fetch(`${url}/healthz`);
  const snap = JSON.parse(readFileSync(join(folder, file), 'utf8')) as { snapshot: { meta: { node_fields: string[] } }; nodes: number[] };
  const fields = snap.snapshot.meta.node_fields;
  const self = fields.indexOf('self_size');
  let bytes = 0;
  for (let i = self; i < snap.nodes.length; i += fields.length) bytes += snap.nodes[i]!;
  rmSync(join(folder, file));
  return bytes / 1_048_576;
}

async function rss(build: Build): Promise<RssResult> {
  const emulator = await startEmulator();
  // A heap snapshot on SIGUSR2 (written to its own folder) tells what the heap holds after a full GC.
  const snapshots = mkdtempSync(join(dir, 'heap-'));
  const h = await startHerald(emulator, join(dir, `rss-${Date.now()}.db`), {
    env: { HERALD_DB_SYNC: 'normal' },
    root: build.root,
    nodeFlags: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshots}`],
  });
  try {
    const pid = h.herald.proc.pid!;
    const beforeMb = rssMb(pid);
    const t0 = Date.now();
    for (let i = 0; i < RSS_TOTAL; i += RSS_BATCH) {
      const alerts = Array.from({ length: RSS_BATCH }, (_, k) => JSON.parse(alertBody(i + k, ['P0', 'P1', 'P2', 'P3'][(i + k) % 4])));
      const res = await h.api.post(h.source, { alerts });
      if (res.status !== 202) throw new Error(`rss: POST answered ${res.status}`);
    }
    const postMs = Date.now() - t0;
    await sleep(5000);
    const metrics = await (await fetch(`${h.herald.url}/metrics`)).text();
    const queued = [...metrics.matchAll(/herald_queue_depth\{priority="P\d"\} (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
    const afterMb = rssMb(pid);
    // The standard name (docs/metrics.md), or the herald_process_ one of revisions before the rename (bench --against).
    const gauge = (name: string) => Number((new RegExp(`^${name} (\\S+)`, 'm').exec(metrics) ?? new RegExp(`^herald_process_${name} (\\S+)`, 'm').exec(metrics))?.[1] ?? NaN) / 1_048_576;
    const liveMb = await liveHeapMb(h.herald.url, pid, snapshots);
    return {
      beforeMb,
      afterMb,
      liveMb,
      postMs,
      queued,
      heapUsedMb: gauge('nodejs_heap_size_used_bytes'),
      heapTotalMb: gauge('nodejs_heap_size_total_bytes'),
      externalMb: gauge('nodejs_external_memory_bytes'),
    };
  } finally {
    await h.stop();
    await emulator.close();
  }
}

const rssBench = {
  name: 'rss (about 30 s per build)',
  description: `rss (${fmt(RSS_TOTAL)} alerts posted in batches of ${fmt(RSS_BATCH)}, HERALD_DB_SYNC=normal, measured 5 s after)`,
  run: rss,
  figures: (r: RssResult) =>
    `Herald RSS ${fmt(r.afterMb)} MB (at start ${fmt(r.beforeMb)} MB) with ${fmt(r.queued)} deliveries queued, posted in ${fmt(r.postMs / 1000, 1)} s; ` +
    `heap used ${fmt(r.heapUsedMb)} MB of ${fmt(r.heapTotalMb)} MB, external ${fmt(r.externalMb)} MB; live after a full GC ${fmt(r.liveMb)} MB`,
  compare: (old: RssResult, head: RssResult) =>
    `RSS ${change(old.afterMb, head.afterMb, 'MB')}, lower is better; at start ${change(old.beforeMb, head.beforeMb, 'MB')}; heap used ${change(old.heapUsedMb, head.heapUsedMb, 'MB')}; live after a full GC ${change(old.liveMb, head.liveMb, 'MB')}; queued ${fmt(old.queued)} → ${fmt(head.queued)}`,
};

try {
  const builds: Build[] = [HEAD_BUILD];
  if (revision) builds.unshift(await prepareRevision(revision, (b) => cleanups.push(() => b.remove())));
  console.log(`herald bench: ${benches.join(', ')} — ${builds.map((b) => b.label).join(' against ')}; node ${process.version}, ${cpus().length} cores`);
  if (revision) console.log(`  ${builds[0]!.label}${revision.rev === revision.short ? '' : ` (${revision.rev})`} is built in a temporary worktree with this checkout's node_modules; Herald HEAD is this checkout's dist/ (uncommitted changes included)`);
  for (const b of benches) {
    if (b === 'ingest') {
      await ingestHeadToHead(builds);
      await ingestIdenticalBody(builds, 'full');
      await ingestIdenticalBody(builds, 'normal');
    }
    if (b === 'storm') await headToHead(builds, stormBench);
    if (b === 'p0') await headToHead(builds, p0Bench);
    if (b === 'rss') await headToHead(builds, rssBench);
    if (b === 'profile') await profile(builds, 'repeats');
    if (b === 'profile-distinct') await profile(builds, 'distinct');
  }
} finally {
  cleanUp();
}
