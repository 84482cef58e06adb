import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { sleep, track } from './support.js';

/**
 * Prometheus Alertmanager as the bench's yardstick: started by the bench on loopback, in memory only
 * (no gossip), with a webhook receiver pointed at a sink in the bench. Herald never needs it.
 */

/** Debian installs it as `prometheus-alertmanager`; upstream's binary is `alertmanager`. */
const NAMES = ['alertmanager', 'prometheus-alertmanager'];

/** The Alertmanager binary on PATH, or undefined. */
export function findAlertmanager(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of NAMES) {
      const path = join(dir, name);
      try {
        accessSync(path, constants.X_OK);
        return path;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export interface BenchAlertmanager {
  url: string;
  pid: number;
  version: string;
  /** Notifications its webhook receiver has delivered to the sink. */
  notifications(): number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createTcpServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

async function startSink(): Promise<{ server: Server; url: string; count: () => number }> {
  let count = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count++;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, count: () => count };
}

/** Starts Alertmanager on a free loopback port and resolves once it answers /-/ready. */
export async function startAlertmanager(binary: string): Promise<BenchAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-am-'));
  const sink = await startSink();
  // One group (by alertname), so notifications are few and the figure is that of ingest, as Herald's is.
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    [
      'route:',
      '  receiver: sink',
      "  group_by: ['alertname']",
      '  group_wait: 1s',
      '  group_interval: 5s',
      '  repeat_interval: 1h',
      'receivers:',
      '  - name: sink',
      '    webhook_configs:',
      `      - url: '${sink.url}'`,
      '        send_resolved: false',
      '        max_alerts: 10',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc: ChildProcess = spawn(
    binary,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=', // empty: no gossip, no cluster port
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  track(proc);
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => proc.on('exit', () => r()));
  let gone = false;
  void exited.then(() => (gone = true));
  const cleanup = () => {
    sink.server.close();
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (gone) {
      cleanup();
      throw new Error(`Alertmanager exited before it was ready:\n${stderr}`);
    }
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      await exited;
      cleanup();
      throw new Error(`Alertmanager was not ready within 15 s:\n${stderr}`);
    }
    await sleep(50);
  }
  const status = (await (await fetch(`${url}/api/v2/status`)).json()) as { versionInfo?: { version?: string } };
  return {
    url,
    pid: proc.pid!,
    version: status.versionInfo?.version ?? 'unknown',
    notifications: sink.count,
    async stop() {
      if (!gone) {
        proc.kill('SIGTERM');
        await exited;
      }
      cleanup();
    },
  };
}
