import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { client, spawnHerald, type HeraldProcess } from './support/process.js';
import { ADMIN_TOKEN, waitFor } from './support/stack.js';

/** The real process: the file is applied at start and again on SIGHUP; a bad file at start does not stop Herald. */

let herald: HeraldProcess | undefined;
let emulator: Emulator | undefined;
let dir: string | undefined;
afterEach(async () => {
  herald?.proc.kill('SIGTERM');
  await herald?.exited;
  await emulator?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  herald = emulator = dir = undefined;
});

const file = (channelId: string, service: string) => `channels:
  - name: ops
    discord_channel_id: "${channelId}"
    webhooks:
      - \${OPS_HOOK}
routes:
  - name: main
    channel: ops
    service: "${service}"
`;

describe('the configuration file in the Herald process', () => {
  it('is applied at start and again on SIGHUP, without a restart; a refused reload keeps the last good one', async () => {
    emulator = await startEmulator();
    dir = mkdtempSync(join(tmpdir(), 'herald-sighup-'));
    const ch = emulator.createChannel({ name: 'ops' });
    const path = join(dir, 'herald.yaml');
    writeFileSync(path, file(ch.id, 'checkout'));
    herald = await spawnHerald({
      HERALD_DB: join(dir, 'herald.db'),
      HERALD_ADMIN_TOKEN: ADMIN_TOKEN,
      DISCORD_API_URL: emulator.url,
      HERALD_CONFIG: path,
      OPS_HOOK: emulator.createWebhook(ch.id).url,
    });
    const api = client(herald.url, ADMIN_TOKEN);
    const services = async () => ((await api.admin('GET', '/v1/admin/routes')).body as { service: string }[]).map((r) => r.service);
    await waitFor('the file applied at start', async () => (await api.admin('GET', '/v1/admin/config')).body.state === 'applied');
    expect(await services()).toEqual(['checkout']);

    writeFileSync(path, file(ch.id, 'payments-*'));
    herald.proc.kill('SIGHUP');
    await waitFor('the route changed by SIGHUP', async () => (await services())[0] === 'payments-*');

    writeFileSync(path, 'routes: [\n');
    herald.proc.kill('SIGHUP');
    await waitFor('the refused file in /readyz', async () => ((await (await fetch(`${herald!.url}/readyz`)).json()) as { config: { state: string } }).config.state === 'failed');
    expect(await services()).toEqual(['payments-*']);
    expect(herald.output()).toContain('configuration file refused (1 problem); the configuration in force stays');
    expect(herald.proc.exitCode).toBeNull();
  });
});
