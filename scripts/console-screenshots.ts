/**
 * Screenshots of every console page for docs/console/ (`npm run console:screenshots`): starts a demo
 * Herald in emulator mode (a temporary database, free ports), fills it through its public APIs (alerts
 * of each severity, a second channel, an acknowledgement pressed in the emulated channel, a mute, a dead
 * letter, an outbound target with a local receiver, a heartbeat, a storm of P3s), then drives Debian's
 * chromium with playwright-core through the pages. Run scripts/ensure-chromium.sh first if Chromium is missing.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'docs/console');
const CHROMIUM = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-shots-'));
  // A local receiver for the outbound target (the address policy allows loopback only by this allowlist).
  const receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end('ok')));
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks/ops`;

  // A configuration file with two maintenance windows (the demo's channel and routes stay API-made).
  const configFile = join(dir, 'herald.yaml');
  const windows = `version: 1
maintenance:
  - name: db-migration
    service: "db-*"
    start: "2030-01-07T22:00:00Z"
    end: "2030-01-08T02:00:00Z"
    reason: schema migration
  - name: weekly-deploys
    service: "reports-*"
    cron: "0 6 * * tue"
    duration: 1h
    timezone: Europe/Paris
`;
  writeFileSync(configFile, windows);

  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HERALD_DB: join(dir, 'herald.db'), HERALD_PORT: '0', HERALD_EMULATOR_PORT: '0', HERALD_MAX_ATTEMPTS: '1', HERALD_OUTBOUND_ALLOWLIST: '127.0.0.1', HERALD_LOG_LEVEL: 'info', HERALD_CONFIG: configFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`Herald did not start:\n${out}`)), 60_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /"address":"(http:\/\/[^"]+)","msg":"Herald is listening"/.exec(out);
      if (m && out.includes('demo channel ready')) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => fail(new Error(`Herald exited with ${code}:\n${out}`)));
  });
  await sleep(500);
  const env = Object.fromEntries(
    readFileSync(join(dir, 'demo.env'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  ) as Record<string, string>;
  const emu = `${env.HERALD_EMULATOR_URL}/_emulator`;
  const call = async (method: string, u: string, body?: unknown, token?: string) => {
    const res = await fetch(u, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${u}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  const admin = (method: string, path: string, body?: unknown) => call(method, url + path, body, env.HERALD_ADMIN_TOKEN);
  const alert = async (body: Record<string, unknown>) => (await call('POST', `${url}/v1/alerts`, body, env.HERALD_DEMO_SOURCE_TOKEN)).ids[0] as number;
  const messageOf = async (id: number) => {
    for (let i = 0; i < 100; i++) {
      const m = (await admin('GET', `/v1/admin/alerts/${id}`)).deliveries[0]?.discord_message_id;
      if (m) return m as string;
      await sleep(100);
    }
    throw new Error(`alert ${id} was not posted`);
  };

  try {
    // People in the emulated server.
    const alice = await call('POST', `${emu}/members`, { username: 'alice', permissions: 'ManageGuild' });
    await call('POST', `${emu}/members`, { username: 'bob' });

    // A second channel for payments, with a bot-made webhook, and its route.
    const payments = await call('POST', `${emu}/channels`, { name: 'payments' });
    const ch = await admin('POST', '/v1/admin/channels', { name: 'payments', discord_channel_id: payments.id });
    await admin('POST', `/v1/admin/channels/${ch.id}/webhooks/create`, {});
    const route = await admin('POST', '/v1/admin/routes', { channel_id: ch.id, service: 'payments-*', severities: ['P0', 'P1', 'P2'] });
    await admin('POST', `/v1/admin/routes/${route.id}/outbound`, { kind: 'webhook', url: receiverUrl });

    const paymentErrors = await alert({ service: 'payments-api', severity: 'P0', title: 'Payment errors above 5%', description: 'p95 latency 2.3 s, 5xx rate 6.1% over 5 min', labels: { team: 'payments', region: 'eu-west-1' }, links: [{ title: 'Dashboard', url: 'https://grafana.example/d/payments' }] });
    await alert({ service: 'payments-worker', severity: 'P1', title: 'Refund queue backing up', description: '2,140 refunds waiting' });
    const disk = await alert({ service: 'checkout', severity: 'P2', title: 'Disk 85% full on db-2', labels: { host: 'db-2' } });
    await alert({ service: 'search', severity: 'P3', title: 'Index lag 40 s' });

    // alice acknowledges in the emulated channel; the disk alert is resolved through the admin API.
    const msg = await messageOf(paymentErrors);
    await call('POST', `${emu}/interactions/button`, { user_id: alice.id, channel_id: payments.id, message_id: msg, custom_id: `herald:ack:${paymentErrors}` });
    await messageOf(disk);
    await admin('POST', `/v1/admin/alerts/${disk}/resolve`, { by: 'carol' });

    // A mute, a dead letter (one 500 with a single try allowed), a heartbeat.
    await admin('POST', '/v1/admin/mutes', { service: 'batch-*', duration_minutes: 120, reason: 'nightly re-index', by: 'alice' });
    await call('POST', `${emu}/faults`, { kind: 'error', status: 503, count: 1, channelId: env.HERALD_DEMO_CHANNEL });
    await alert({ service: 'checkout', severity: 'P2', title: 'Cart service 503s', description: 'upstream timeouts' });
    const sources = await admin('GET', '/v1/admin/sources');
    await admin('POST', '/v1/admin/heartbeats', { source_id: sources[0].id, name: 'nightly-backup', interval: '1d', grace: '1h', severity: 'P1' });

    // An incident: three alerts of one group land as one card (after group_wait); one member acknowledged.
    const group = await call('POST', `${url}/v1/alerts`, {
      alerts: [
        { service: 'db-1', severity: 'P1', title: 'Replication lag 94 s', group: 'db-outage' },
        { service: 'db-2', severity: 'P2', title: 'Replication lag 41 s', group: 'db-outage' },
        { service: 'checkout', severity: 'P2', title: 'Slow queries', group: 'db-outage' },
      ],
    }, env.HERALD_DEMO_SOURCE_TOKEN);
    const members = group.ids as number[];
    await messageOf(members[0]!);
    await admin('POST', `/v1/admin/alerts/${members[1]}/ack`, { by: 'bob' });
    const incident = (await admin('GET', `/v1/admin/alerts/${members[0]}`)).incident_id as number;

    await sleep(1500);
    mkdirSync(OUT, { recursive: true });
    const profile = mkdtempSync(join(tmpdir(), 'herald-shots-chromium-'));
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 860 } });
    const page = context.pages()[0] ?? (await context.newPage());
    const shot = async (name: string, path: string, fullPage = true) => {
      await page.goto(url + path);
      await page.waitForLoadState('networkidle');
      await page.screenshot({ path: join(OUT, `${name}.png`), fullPage });
      process.stdout.write(`docs/console/${name}.png\n`);
    };
    await shot('login', '/console/login', false);
    await page.fill('input[name=token]', env.HERALD_ADMIN_TOKEN!);
    await page.click('button[type=submit]');
    await page.waitForURL(`${url}/console`);
    // A storm of P3s into the demo channel (more than its hidden cap lets through in 10 s): storm mode,
    // compact lines and a summary card; the overview is taken while it drains.
    for (let i = 0; i < 400; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, j) => alert({ service: `web-${(i + j) % 4}`, severity: 'P3', title: `Synthetic check ${i + j + 1} slow`, dedup_key: `synthetic-${i + j + 1}` })),
      );
    }
    await sleep(3000);
    await shot('overview', '/console');
    await shot('alerts', '/console/alerts');
    await shot('alert', `/console/alerts/${paymentErrors}`);
    await shot('incidents', '/console/incidents');
    await shot('incident', `/console/incidents/${incident}`);
    await shot('dead-letters', '/console/dead-letters');
    await shot('channels', '/console/channels');
    await shot('routes', '/console/routes');
    await shot('mutes', '/console/mutes');
    // A test send first, so the page shows its answer.
    await page.goto(`${url}/console/outbound`);
    await page.click('button:has-text("Test send")');
    await page.locator('.flash').waitFor();
    await page.screenshot({ path: join(OUT, 'outbound.png'), fullPage: true });
    process.stdout.write('docs/console/outbound.png\n');
    await shot('heartbeats', '/console/heartbeats');
    await shot('emulator-payments', `/console/emulator/channels/${payments.id}`);
    // The storm's end of the channel, newest at the bottom as Discord shows it: compact lines and the summary card.
    await page.goto(`${url}/console/emulator/channels/${env.HERALD_DEMO_CHANNEL}`);
    await page.locator('.msg').last().scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(OUT, 'emulator-storm.png') });
    process.stdout.write('docs/console/emulator-storm.png\n');
    // A refused reload: the overview lists its problems, the windows applied before stay in force.
    writeFileSync(configFile, windows.replace('duration: 1h', 'duration: soon').replace('"2030-01-08T02:00:00Z"', '"tomorrow"'));
    await page.goto(`${url}/console`);
    await page.click('button:has-text("Reload")');
    await page.locator('.flash').waitFor();
    await page.screenshot({ path: join(OUT, 'config-refused.png') });
    process.stdout.write('docs/console/config-refused.png\n');
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  } finally {
    proc.kill('SIGTERM');
    receiver.close();
    await new Promise((r) => proc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`console-screenshots: ${err.message}\n`);
  process.exit(1);
});
