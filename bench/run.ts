import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startEmulator } from '../src/emulator/index.js';
import { deliveredAlertIds } from '../test/support/stack.js';
import { findAlertmanager, startAlertmanager } from './alertmanager.js';
import { alertmanagerBatchBody, alertmanagerBody, CONNECTIONS, DURATION_S, heraldBatchBody, heraldBody, type LoadResult, REPEAT_KEYS, runLoad, WARMUP_S, type Workload } from './load.js';
import { profileReport, summariseProfile } from './profile.js';
import { fmt, percentile, rssMb, sleep, startHerald } from './support.js';

/**
 * Herald's benchmarks. Each prints figures; none asserts. Discord's real limits are used (30 messages
 * per channel per 60 s, 5 per webhook per 2 s) unless a bench says otherwise.
 *   npm run bench                 all of them (about 9 minutes)
 *   npm run bench -- ingest rss   some of them: ingest, storm, p0, rss, and (only when named) profile
 */
const all = ['ingest', 'storm', 'p0', 'rss'] as const;
/** Run only when named: a CPU profile of Herald under the repeats load, to guide optimisation. */
const optIn = ['profile'] as const;
const known: readonly string[] = [...all, ...optIn];
const chosen = process.argv.slice(2).filter((a) => known.includes(a));
const run = chosen.length ? chosen : [...all];
const unknown = process.argv.slice(2).filter((a) => !known.includes(a));
if (unknown.length) {
  process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')}; choose from ${known.join(', ')}\n`);
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
const alertBody = (i: number, severity = 'P2') =>
  JSON.stringify({ service: 'checkout', severity, title: `Error rate above threshold (${i})`, description: 'p95 latency 2.3 s on /pay', labels: { team: 'payments', region: 'eu-west-1' } });

const describeLoad = (workload: Workload) =>
  workload === 'repeats'
    ? `repeats: dedup keys drawn from ${fmt(REPEAT_KEYS)} (each stored once before), a unique label each`
    : 'distinct: a new dedup key each';

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
async function heraldUnderLoad(workload: Workload, nodeFlags: string[] = []): Promise<LoadResult> {
  const emulator = await startEmulator();
  const h = await startHerald(emulator, join(dir, `ingest-${workload}-${Date.now()}.db`), { HERALD_DB_SYNC: 'full' }, 2, nodeFlags);
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
 * The realistic ingest loads, Herald and Alertmanager one after the other in the same run, each freshly
 * started, with the same load generator, the same alert sequence and the same warm-up.
 */
async function ingestHeadToHead() {
  const binary = findAlertmanager();
  console.log(
    `ingest head to head: single-alert POSTs, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up then ${DURATION_S} s measured; ` +
      `one autocannon in the bench process, no core pinning (the same for both systems)`,
  );
  if (!binary) console.log('  Alertmanager column skipped: Alertmanager is not installed (no `alertmanager` or `prometheus-alertmanager` on PATH)');
  for (const workload of ['repeats', 'distinct'] as const) {
    console.log(` ${describeLoad(workload)}`);
    const herald = await heraldUnderLoad(workload);
    console.log(loadLine('Herald (HERALD_DB_SYNC=full)', herald));
    if (!binary) continue;
    const am = await alertmanagerUnderLoad(binary, workload);
    console.log(loadLine(`Alertmanager ${am.version}`, am.result) + `; ${am.notifications} webhook notifications`);
    console.log(
      `  Herald / Alertmanager: ${fmt(herald.alertsPerSecond / am.result.alertsPerSecond, 2)}× alerts/s ` +
        `(${fmt(perCpuSecond(herald) / perCpuSecond(am.result), 2)}× per server CPU second)`,
    );
  }
}

/** Herald under the repeats load with `--cpu-prof`: where its CPU time goes. */
async function profile() {
  const profDir = join(dir, 'cpu-profile');
  const r = await heraldUnderLoad('repeats', ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`profile: Herald wrote no .cpuprofile into ${profDir}`);
  const p = summariseProfile(join(profDir, file), r.windowUs);
  console.log(
    `profile: Herald under the repeats load with --cpu-prof, ` +
      (p.windowed ? `the ${DURATION_S} s measured only` : "the whole process life (no sample matched the measured window's clock)"),
  );
  console.log(loadLine('Herald, profiled', r));
  for (const line of profileReport(p)) console.log(`  ${line}`);
}

/** The older ingest figure: one identical body without a dedup key, so every POST stores a new alert. */
async function ingest(sync: 'full' | 'normal') {
  const emulator = await startEmulator();
  const h = await startHerald(emulator, join(dir, `ingest-${sync}.db`), { HERALD_DB_SYNC: sync });
  const result = await autocannon({
    url: `${h.herald.url}/v1/alerts`,
    method: 'POST',
    connections: 50,
    duration: 10,
    headers: { authorization: `Bearer ${h.source}`, 'content-type': 'application/json' },
    body: alertBody(1),
  });
  const rss = rssMb(h.herald.proc.pid!);
  await h.stop();
  await emulator.close();
  console.log(
    `ingest, one identical body without a key (HERALD_DB_SYNC=${sync}, single-alert POSTs, 50 connections, 10 s): ${fmt(result.requests.average)} alerts/s, ` +
      `latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms, ` +
      `non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}; Herald RSS ${fmt(rss)} MB`,
  );
}

async function storm() {
  const n = 1000;
  const cap = 30;
  const windowMs = 60_000;
  const emulator = await startEmulator();
  const h = await startHerald(emulator, join(dir, 'storm.db'));
  const started = Date.now();
  const queue = Array.from({ length: n }, (_, i) => i);
  await Promise.all(Array.from({ length: 50 }, async () => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      const res = await h.api.post(h.source, JSON.parse(alertBody(i)));
      if (res.status !== 202) throw new Error(`storm: POST answered ${res.status}`);
    }
  }));
  const postedMs = Date.now() - started;
  while (deliveredAlertIds(emulator, h.discordChannelId).length < n) await sleep(100);
  const drainMs = Date.now() - started;
  const messages = emulator.messages(h.discordChannelId).length;
  const stats = emulator.stats();
  // With 10 alerts per message, n alerts need ceil(n/10) messages; the cap lets `cap` through per window,
  // the first batch at once: the last batch can go no sooner than this.
  const floorMs = (Math.ceil(Math.ceil(n / 10) / cap) - 1) * windowMs;
  const limited = stats.rateLimited.user + stats.rateLimited.shared + stats.rateLimited.global;
  await h.stop();
  await emulator.close();
  console.log(
    `storm (${n} alerts into one channel, 2 webhooks, real limits ${cap}/${windowMs / 1000} s): all ${n} delivered in ${fmt(drainMs / 1000, 1)} s ` +
      `(posted in ${fmt(postedMs / 1000, 1)} s); floor ${fmt(floorMs / 1000, 1)} s → ${fmt(drainMs / floorMs, 2)}× floor; ` +
      `${messages} messages; ${limited} 429s in ${stats.requests} requests (${fmt((100 * limited) / stats.requests, 2)} per 100); 400s: ${stats.byStatus['400'] ?? 0}`,
  );
}

async function p0() {
  const emulator = await startEmulator();
  const h = await startHerald(emulator, join(dir, 'p0.db'));
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
    while (!deliveredAlertIds(emulator, h.discordChannelId).includes(id)) await sleep(5);
    latencies.push(Date.now() - t0);
    await sleep(2500);
  }
  latencies.sort((a, b) => a - b);
  const stats = emulator.stats();
  await h.stop();
  await emulator.close();
  console.log(
    `p0 latency during a P3 flood (${flood} P3 queued, real limits, 10 P0s 2.5 s apart): p50 ${percentile(latencies, 50)} ms, max ${latencies.at(-1)} ms; ` +
      `shared 429s ${stats.rateLimited.shared}`,
  );
}

async function rss() {
  const emulator = await startEmulator();
  const h = await startHerald(emulator, join(dir, 'rss.db'), { HERALD_DB_SYNC: 'normal' });
  const pid = h.herald.proc.pid!;
  const before = rssMb(pid);
  const total = 100_000;
  const batch = 1000;
  const t0 = Date.now();
  for (let i = 0; i < total; i += batch) {
    const alerts = Array.from({ length: batch }, (_, k) => JSON.parse(alertBody(i + k, ['P0', 'P1', 'P2', 'P3'][(i + k) % 4])));
    const res = await h.api.post(h.source, { alerts });
    if (res.status !== 202) throw new Error(`rss: POST answered ${res.status}`);
  }
  const postMs = Date.now() - t0;
  await sleep(5000);
  const metrics = await (await fetch(`${h.herald.url}/metrics`)).text();
  const queued = [...metrics.matchAll(/herald_queue_depth\{priority="P\d"\} (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
  const after = rssMb(pid);
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(metrics)?.[1] ?? NaN) / 1_048_576;
  console.log(`  heap used ${fmt(gauge('herald_process_nodejs_heap_size_used_bytes'))} MB of ${fmt(gauge('herald_process_nodejs_heap_size_total_bytes'))} MB, external ${fmt(gauge('herald_process_nodejs_external_memory_bytes'))} MB`);
  await h.stop();
  await emulator.close();
  console.log(
    `rss with ${fmt(queued)} deliveries queued (posted ${fmt(total)} in batches of ${batch} in ${fmt(postMs / 1000, 1)} s): ` +
      `Herald RSS ${fmt(after)} MB (at start ${fmt(before)} MB)`,
  );
}

try {
  console.log(`herald bench: ${run.join(', ')} — node ${process.version}, ${cpus().length} cores`);
  for (const b of run) {
    if (b === 'ingest') {
      await ingestHeadToHead();
      await ingest('full');
      await ingest('normal');
    }
    if (b === 'storm') await storm();
    if (b === 'p0') await p0();
    if (b === 'rss') await rss();
    if (b === 'profile') await profile();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
