import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { rssMb } from './support.js';

/**
 * The realistic ingest load: single-alert POSTs over 50 connections from one autocannon in the bench's
 * own process, the same for Herald and for Alertmanager. The machine has 2 cores, so the load generator
 * competes with the server it measures; neither server is pinned to a core, and the CPU seconds that the
 * server, the bench process and the rest of the machine used are printed with each figure, so the split
 * (and other work on the machine) is visible.
 */

export type Workload = 'repeats' | 'distinct';

/** Keys a repeat is drawn from: an Alertmanager re-sends each of its active alerts every group_interval. */
export const REPEAT_KEYS = 5_000;
export const CONNECTIONS = 50;
export const WARMUP_S = 3;
export const DURATION_S = 10;

/** One alert of a workload, in neutral terms; each system's format is made from this. */
export interface AlertSpec {
  key: string;
  /**
   * A label whose value no other alert has, so no two requests are the same bytes and a repeat carries
   * news to store (for Alertmanager, whose identity is the label set, it makes each alert a new one).
   */
  seq: string;
}

/**
 * The alerts of a workload, in order. `repeats`: the key drawn (seeded, so both systems get the same
 * sequence) from `REPEAT_KEYS`; `distinct`: a new key each.
 */
export function alertSequence(workload: Workload, seed = 9): () => AlertSpec {
  let n = 0;
  let state = seed >>> 0;
  // mulberry32: a tiny seeded generator; Math.random would give each system a different sequence.
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return () => {
    n++;
    const key = workload === 'repeats' ? `k${Math.floor(random() * REPEAT_KEYS)}` : `d${n}`;
    return { key, seq: String(n) };
  };
}

/** Every key of the repeats workload once, stored before it starts, so all its POSTs are repeats whatever the speed. */
export const primingAlerts = (): AlertSpec[] => Array.from({ length: REPEAT_KEYS }, (_, i) => ({ key: `k${i}`, seq: `prime-${i}` }));

/** Alerts per priming request (Herald takes at most 1,000 in one request). */
const PRIME_BATCH = 1_000;

export interface LoadTarget {
  url: string;
  headers: Record<string, string>;
  /** The request body for one alert, in the target's format. */
  body: (a: AlertSpec) => string;
  /** The request body for several alerts at once (priming only). */
  batchBody: (alerts: AlertSpec[]) => string;
  /** The server's pid, for its RSS and CPU time. */
  pid: number;
}

export interface LoadResult {
  alertsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  rssStartMb: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  serverCpuS: number;
  benchCpuS: number;
  /** CPU seconds the rest of the machine used meanwhile: other work on the cores makes a figure noise. */
  otherCpuS: number;
  /** The measured window on the machine's monotonic clock (µs), which V8's profiles also use. */
  windowUs: { start: number; end: number };
}

/** CLOCK_MONOTONIC in µs: the clock of V8's CPU profile timestamps, across processes of one machine. */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** CPU seconds (user + system, all threads) a process has used, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  // Fields after the command name (which is in parentheses and may hold spaces): utime is the 12th, stime the 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticksPerSecond = 100; // USER_HZ on Linux
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** CPU seconds all processes of the machine have used (busy time of every core), from /proc/stat. */
function machineCpuSeconds(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

function fire(target: LoadTarget, next: () => AlertSpec, seconds: number) {
  return autocannon({
    url: target.url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    headers: target.headers,
    requests: [{ setupRequest: (req) => ({ ...req, body: target.body(next()) }) }],
  });
}

async function prime(target: LoadTarget): Promise<void> {
  const all = primingAlerts();
  for (let i = 0; i < all.length; i += PRIME_BATCH) {
    const res = await fetch(target.url, { method: 'POST', headers: target.headers, body: target.batchBody(all.slice(i, i + PRIME_BATCH)) });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`priming the repeats workload: POST ${target.url} answered ${res.status}`);
  }
}

/**
 * In `repeats`, first stores every key once (an Alertmanager that has been sending for a while), then
 * warms the server up for `WARMUP_S` (JIT, caches), then measures `DURATION_S` of the same sequence.
 */
export async function runLoad(target: LoadTarget, workload: Workload): Promise<LoadResult> {
  const next = alertSequence(workload);
  const rssStartMb = rssMb(target.pid);
  if (workload === 'repeats') await prime(target);
  await fire(target, next, WARMUP_S);
  const rssBeforeMb = rssMb(target.pid);
  const cpu0 = cpuSeconds(target.pid);
  const bench0 = process.cpuUsage();
  const machine0 = machineCpuSeconds();
  const start = monotonicUs();
  const r = await fire(target, next, DURATION_S);
  const end = monotonicUs();
  const bench = process.cpuUsage(bench0);
  const serverCpuS = cpuSeconds(target.pid) - cpu0;
  const benchCpuS = (bench.user + bench.system) / 1e6;
  return {
    alertsPerSecond: r['2xx'] / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    rssStartMb,
    rssBeforeMb,
    rssAfterMb: rssMb(target.pid),
    serverCpuS,
    benchCpuS,
    otherCpuS: Math.max(0, machineCpuSeconds() - machine0 - serverCpuS - benchCpuS),
    windowUs: { start, end },
  };
}

/** Herald's native format: the key as `dedup_key`, the unique value as a label. */
const heraldAlert = (a: AlertSpec) => ({
  service: 'checkout',
  severity: 'P2',
  title: `Error rate above threshold on ${a.key}`,
  description: 'p95 latency 2.3 s on /pay',
  dedup_key: a.key,
  labels: { team: 'payments', region: 'eu-west-1', seq: a.seq },
});
export const heraldBody = (a: AlertSpec) => JSON.stringify(heraldAlert(a));
export const heraldBatchBody = (alerts: AlertSpec[]) => JSON.stringify({ alerts: alerts.map(heraldAlert) });

/** Alertmanager's API v2: a list with one alert; alertname, the key and the unique value as labels. */
const alertmanagerAlert = (a: AlertSpec) => ({
  labels: { alertname: 'ErrorRateHigh', service: 'checkout', severity: 'warning', team: 'payments', region: 'eu-west-1', key: a.key, seq: a.seq },
  annotations: { summary: `Error rate above threshold on ${a.key}`, description: 'p95 latency 2.3 s on /pay' },
});
export const alertmanagerBody = (a: AlertSpec) => JSON.stringify([alertmanagerAlert(a)]);
export const alertmanagerBatchBody = (alerts: AlertSpec[]) => JSON.stringify(alerts.map(alertmanagerAlert));
