import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startEmulator } from '../src/emulator/index.js';
import { deliveredAlertIds } from '../test/support/stack.js';
import { fmt, percentile, rssMb, sleep, startHerald } from './support.js';

/**
 * Herald's benchmarks. Each prints figures; none asserts. Discord's real limits are used (30 messages
 * per channel per 60 s, 5 per webhook per 2 s) unless a bench says otherwise.
 *   npm run bench                 all of them (about 6 minutes)
 *   npm run bench -- ingest rss   some of them: ingest, storm, p0, rss
 */
const all = ['ingest', 'storm', 'p0', 'rss'] as const;
const chosen = process.argv.slice(2).filter((a) => (all as readonly string[]).includes(a));
const run = chosen.length ? chosen : [...all];
const unknown = process.argv.slice(2).filter((a) => !(all as readonly string[]).includes(a));
if (unknown.length) {
  process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')}; choose from ${all.join(', ')}\n`);
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
const alertBody = (i: number, severity = 'P2') =>
  JSON.stringify({ service: 'checkout', severity, title: `Error rate above threshold (${i})`, description: 'p95 latency 2.3 s on /pay', labels: { team: 'payments', region: 'eu-west-1' } });

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
    `ingest (HERALD_DB_SYNC=${sync}, single-alert POSTs, 50 connections, 10 s): ${fmt(result.requests.average)} alerts/s, ` +
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
  console.log(`herald bench: ${run.join(', ')} — node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
  for (const b of run) {
    if (b === 'ingest') {
      await ingest('full');
      await ingest('normal');
    }
    if (b === 'storm') await storm();
    if (b === 'p0') await p0();
    if (b === 'rss') await rss();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
