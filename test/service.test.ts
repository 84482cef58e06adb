import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { createLogger, resolveLogFormat } from '../src/log.js';
import { unknownVariableWarnings } from '../src/config.js';
import { ROOT, client, spawnHerald } from './support/process.js';
import { ADMIN_TOKEN, alert, deliveredAlertIds, waitFor } from './support/stack.js';

/** Running Herald as a service: its log formats (secrets redacted in both), and plain start-up errors. */
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'herald-service-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('log format', () => {
  it('auto is JSON unless stdout is a terminal; json and pretty are what they say', () => {
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });

  it('pretty lines redact what the JSON lines redact', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _e, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = createLogger('trace', sink, 'pretty');
    const secret = 'T0k3n_' + 'x'.repeat(62);
    log.info({ token: secret, url: `https://discord.com/api/webhooks/123456789012345678/${secret}` }, 'top level');
    log.info({ webhook: { token: secret, webhookUrl: `https://x/webhooks/1/${secret}` } }, 'nested');
    log.info({ req: { headers: { authorization: `Bearer ${secret}` } }, headers: { authorization: `Bearer ${secret}` } }, 'headers');
    log.info({ DISCORD_TOKEN: secret, adminToken: secret }, 'config');
    const text = lines.join('');
    expect(text).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: top level$/m);
    expect(text).not.toContain('{"level"');
    expect(text).not.toContain(secret);
    expect(text.match(/\[redacted\]/g)!.length).toBeGreaterThanOrEqual(8);
  });
});

describe('a real Herald logging in the pretty format', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ channelCap: { limit: 30, windowMs: 1000 }, webhookBucket: { limit: 5, windowMs: 100 } });
  });
  afterAll(async () => emulator?.close());

  it('writes readable lines and no token, through webhooks added, alerts posted, Discord failing and a webhook deleted', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        HERALD_PORT: '0',
        HERALD_DB: join(dir, 'pretty', 'herald.db'),
        HERALD_ADMIN_TOKEN: ADMIN_TOKEN,
        DISCORD_API_URL: emulator.url,
        HERALD_LOG_FORMAT: 'pretty',
        HERALD_LOG_LEVEL: 'trace',
        HERALD_DB_SYNC: 'normal',
        HERALD_CHANNEL_WINDOW_MS: '1000',
        HERALD_RETRY_BASE_MS: '20',
        HERALD_REQUEST_TIMEOUT_MS: '300',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    try {
      let url = '';
      await waitFor('Herald listening (pretty)', () => {
        url = /INFO: Herald is listening\n\s+address: "(http:\/\/[^"]+)"/.exec(out)?.[1] ?? '';
        return url !== '';
      });
      const h = client(url, ADMIN_TOKEN);
      const source = (await h.admin('POST', '/v1/admin/sources', { name: 'pretty' })).body.token as string;
      const emu = emulator.createChannel({ name: 'pretty' });
      const ch = (await h.admin('POST', '/v1/admin/channels', { name: 'pretty', discord_channel_id: emu.id, default: true })).body.id as number;
      const hooks = [emulator.createWebhook(emu.id), emulator.createWebhook(emu.id)];
      for (const hook of hooks) expect((await h.admin('POST', `/v1/admin/channels/${ch}/webhooks`, { url: hook.url })).status).toBe(201);
      emulator.injectFault({ kind: 'error', status: 500, count: 2 });
      emulator.injectFault({ kind: 'hang', count: 1 });
      expect((await h.post(source, { alerts: [alert(1), alert(2), alert(3)] })).status).toBe(202);
      expect((await h.post('hrl_wrong-token-for-the-pretty-log', alert(4))).status).toBe(401);
      emulator.deleteWebhook(hooks[0]!.id);
      expect((await h.post(source, alert(5))).status).toBe(202);
      await waitFor('delivered', () => deliveredAlertIds(emulator, emu.id).length >= 4, 15_000);
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);

      expect(out).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] (INFO|DEBUG|TRACE|WARN): /m);
      expect(out).not.toMatch(/^\{"level"/m);
      for (const secret of [source, ADMIN_TOKEN, 'hrl_wrong-token-for-the-pretty-log', ...hooks.map((k) => k.token)]) expect(out).not.toContain(secret);
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
  });
});

describe('start-up errors name what to fix', () => {
  it('a database that cannot be opened: one line naming the path and the cause, exit 2', async () => {
    const notADb = join(dir, 'not-a-database.db');
    writeFileSync(notADb, 'this is a text file, not SQLite\n'.repeat(200));
    const aFile = join(dir, 'a-file');
    writeFileSync(aFile, '');
    for (const [path, cause] of [
      [notADb, /file is not a database \(SQLITE_NOTADB\)$/],
      [join(aFile, 'sub', 'herald.db'), /ENOTDIR: not a directory/],
    ] as const) {
      const p = await spawnHerald({ HERALD_DB: path, HERALD_EMULATOR_PORT: '0' }, { expectExit: true });
      expect(await p.exited).toBe(2);
      const stderrLines = p
        .output()
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('{'));
      expect(stderrLines).toEqual([expect.stringMatching(new RegExp(`^herald: cannot open the database ${path.replace(/[.]/g, '\\.')} \\(HERALD_DB\\): `))]);
      expect(stderrLines[0]).toMatch(cause);
    }
  });

  it('a HERALD_* variable Herald does not know is warned about by name, with the closest known one', async () => {
    expect(unknownVariableWarnings({ HERALD_PROT: '9090', HERALD_PORT: '1', HERALD_URL: 'x', HERALD_DEMO_CHANNEL: '1', PATH: '/bin', HERALD_ZZZZZZZZZZZZ: '1' })).toEqual([
      'HERALD_PROT is set but is not a Herald variable, so it is ignored; did you mean HERALD_PORT? (every variable: docs/configuration.md)',
      'HERALD_ZZZZZZZZZZZZ is set but is not a Herald variable, so it is ignored (every variable: docs/configuration.md)',
    ]);
    const p = await spawnHerald({ HERALD_DB: join(dir, 'typo', 'herald.db'), HERALD_EMULATOR_PORT: '0', HERALD_LOG_LEVL: 'debug' });
    try {
      expect(p.output()).toMatch(/"level":40,.*"msg":"HERALD_LOG_LEVL is set but is not a Herald variable, so it is ignored; did you mean HERALD_LOG_LEVEL\?/);
    } finally {
      p.proc.kill('SIGTERM');
      expect(await p.exited).toBe(0);
    }
  });

  it('npm run build says what it is doing before tsc runs (npm start builds through it)', async () => {
    const r = await promisify(execFile)('npm', ['run', 'prebuild', '--silent'], { cwd: ROOT });
    expect(r.stderr).toMatch(/^herald: compiling the TypeScript to dist\/ \(tsc -p tsconfig\.build\.json/);
  });
});
