import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { herald } from './support/cli.js';
import { ROOT } from './support/process.js';
import { ADMIN_TOKEN, alert, deliveredAlertIds, startStack, waitFor, type Stack, type TestChannel } from './support/stack.js';

/**
 * The `herald` executable, spawned for real (bin/herald.js, as `npx herald` runs it) against a real Herald on
 * loopback: every command's answers, exit codes and help, and that tokens are never printed.
 */
let stack: Stack;
let ch: TestChannel;
let sourceToken: string;
let cwd: string;
/** The CLI's environment: where Herald is and the admin token, as a user would export them. */
let env: Record<string, string>;

beforeAll(async () => {
  stack = await startStack({ env: { HERALD_MAX_ATTEMPTS: '1', HERALD_RETRY_BASE_MS: '20' } });
  ch = await stack.channel({ webhooks: 1 });
  sourceToken = await stack.source('cli');
  cwd = mkdtempSync(join(tmpdir(), 'herald-cli-'));
  env = { HERALD_URL: stack.url, HERALD_ADMIN_TOKEN: ADMIN_TOKEN };
});
afterAll(async () => {
  await stack?.close();
  rmSync(cwd, { recursive: true, force: true });
});

/**
 * Runs `fn` over `items` two at a time: a burst of a dozen CLI processes (node + tsx each) would starve the
 * timing-sensitive tests that run beside this file on a 2-core machine.
 */
async function inTurn<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += 2) out.push(...(await Promise.all(items.slice(i, i + 2).map(fn))));
  return out;
}
const run = (args: string[], extra: Record<string, string> = {}) => herald(args, { ...env, ...extra }, { cwd });
/** One line on stderr, nothing on stdout: how every error must look. */
const oneLineError = (r: { stdout: string; stderr: string }) => {
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
};

describe('herald help', () => {
  it('lists every command, and each command and subcommand has its own help (exit 0)', async () => {
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    for (const name of ['start', 'status', 'config', 'alerts', 'deadletters', 'register', 'backup']) expect(top.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    const helps = [
      ['status', '--help'],
      ['start', '--help'],
      ['alerts', '--help'],
      ['alerts', 'send', '--help'],
      ['alerts', 'list', '--help'],
      ['alerts', 'show', '--help'],
      ['deadletters', '--help'],
      ['deadletters', 'list', '--help'],
      ['deadletters', 'replay', '--help'],
      ['register', '--help'],
      ['backup', '--help'],
      ['help', 'alerts'],
      ['config', '--help'],
    ];
    const answers = await inTurn(helps, (args) => run(args));
    answers.forEach((r, i) => {
      expect(r.code, helps[i]!.join(' ')).toBe(0);
      expect(r.stdout, helps[i]!.join(' ')).toMatch(/^Usage: herald /);
    });
    expect(answers[3]!.stdout).toContain('--dedup-key');
    expect(answers[2]!.stdout).toMatch(/send .*\n.*list .*\n.*show /);
  });

  it('npx herald, from the checkout, runs the package bin from source (no build needed)', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin).toEqual({ herald: 'bin/herald.js' });
    const r = await new Promise<{ code: number; stdout: string }>((done) =>
      execFile('npx', ['--no-install', 'herald', '--help'], { cwd: ROOT, timeout: 60_000 }, (err, stdout) =>
        done({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout }),
      ),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: herald <command>/);
  });

  it('refuses an unknown command, subcommand, flag or bad value with one line on stderr and exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [[], /^Usage: herald/],
      [['frobnicate'], /^herald: unknown command "frobnicate": use one of start, status/],
      [['config', 'lint', 'x.yaml'], /^herald: unknown config command "lint"; use check, diff or export/],
      [['alerts'], /^herald alerts: a subcommand is missing: send, list or show/],
      [['alerts', 'lst'], /^herald alerts: unknown subcommand "lst"/],
      [['status', '--verbose'], /^herald status: unknown option --verbose \(see herald status --help\)/],
      [['alerts', 'list', '--limit'], /^herald alerts list: --limit needs a value/],
      [['alerts', 'list', '--limit', 'many'], /^herald alerts list: --limit must be a whole number from 1 to 1000 \(got "many"\)/],
      [['alerts', 'show'], /^herald alerts show: the alert id is missing/],
      [['alerts', 'show', 'x1'], /^herald alerts show: the alert id must be a positive whole number \(got "x1"\)/],
      [['alerts', 'send', '--severity', 'P9'], /^herald alerts send: --severity must be one of P0, P1, P2, P3 \(got "P9"\)/],
      [['alerts', 'send', '--label', 'novalue'], /^herald alerts send: --label must be key=value \(got "novalue"\)/],
      [['deadletters', 'replay', '1', '2'], /^herald deadletters replay: one dead letter id only/],
      [['status', '--url', 'ftp://x'], /^herald status: --url must be an http\(s\) URL/],
      [['backup'], /^herald backup: give one file/],
    ];
    const results = await inTurn(cases, ([args]) => run(args, { HERALD_SOURCE_TOKEN: sourceToken }));
    results.forEach((r, i) => {
      const [args, message] = cases[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      if (args.length === 0) return; // the bare command prints its usage, several lines, on stderr
      oneLineError(r);
      expect(r.stderr, args.join(' ')).toMatch(message);
    });
  });

  it('asks for the admin token plainly when there is none (exit 2)', async () => {
    const r = await herald(['status'], { HERALD_URL: stack.url }, { cwd });
    expect(r.code).toBe(2);
    oneLineError(r);
    expect(r.stderr).toMatch(/no admin token: set HERALD_ADMIN_TOKEN/);
  });
});

describe('a Herald that cannot be reached, or refuses', () => {
  it('names the URL in one line and exits 1', async () => {
    // A port that was just free: nothing listens there.
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
    const r = await run(['status', '--url', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    oneLineError(r);
    expect(r.stderr).toMatch(new RegExp(`^herald status: cannot reach Herald at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); is it running\\?`));
  });

  it('says the admin token was refused, without printing it, and warns about --token on the command line', async () => {
    const wrong = 'wrong-token-for-the-cli-0123456789';
    const r = await herald(['alerts', 'list', '--token', wrong], { HERALD_URL: stack.url }, { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/warning: a token given with --token is visible to other users/);
    expect(r.stderr).toMatch(/refused the admin token \(401\): check HERALD_ADMIN_TOKEN/);
    expect(r.stdout + r.stderr).not.toContain(wrong);
  });
});

describe('herald alerts', () => {
  let id: number;

  it('send: posts a test alert with the source token from the environment; it is delivered', async () => {
    const r = await run(
      ['alerts', 'send', '--service', 'payments', '--severity', 'p1', '--title', 'CLI test alert', '--dedup-key', 'cli-1', '--label', 'team=pay', '--label', 'region=eu-west'],
      { HERALD_SOURCE_TOKEN: sourceToken },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = /^accepted: alert #(\d+) \(P1 payments: CLI test alert\); see: herald alerts show \1$/m.exec(r.stdout);
    expect(m).not.toBeNull();
    id = Number(m![1]);
    expect(r.stdout).not.toContain(sourceToken);
    await waitFor('the CLI alert in Discord', () => deliveredAlertIds(stack.emulator, ch.discordChannelId).includes(id), 15_000);
    const stored = await stack.admin('GET', `/v1/admin/alerts/${id}`);
    expect(stored.body).toMatchObject({ service: 'payments', severity: 'P1', title: 'CLI test alert', dedup_key: 'cli-1', labels: { team: 'pay', region: 'eu-west' } });
  });

  it('send: a wrong source token is one line naming HERALD_SOURCE_TOKEN, exit 1; none at all is exit 2', async () => {
    const wrong = await run(['alerts', 'send'], { HERALD_SOURCE_TOKEN: 'hrl_not-a-real-source-token' });
    expect(wrong.code).toBe(1);
    oneLineError(wrong);
    expect(wrong.stderr).toMatch(/refused the source token \(401 unauthorized\): check HERALD_SOURCE_TOKEN/);
    const none = await run(['alerts', 'send']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no source token: set HERALD_SOURCE_TOKEN/);
  });

  it('list: the alert in a table, and --json gives the API answer', async () => {
    const r = await run(['alerts', 'list', '--limit', '5']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^ID +SEV +STATE +SERVICE +TITLE +RECEIVED$/);
    expect(r.stdout).toMatch(new RegExp(`^${id} +P1 +firing +payments +CLI test alert +\\d{4}-\\d\\d-\\d\\dT`, 'm'));
    const j = await run(['alerts', 'list', '--json']);
    expect(JSON.parse(j.stdout)).toEqual((await stack.admin('GET', '/v1/admin/alerts')).body);
  });

  it('show: the alert with its delivery and the Discord message it was posted as; an unknown id is exit 1', async () => {
    const detail = (await stack.admin('GET', `/v1/admin/alerts/${id}`)).body;
    const r = await run(['alerts', 'show', String(id)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`alert #${id}: P1 payments: CLI test alert`);
    expect(r.stdout).toMatch(/labels: +team=pay region=eu-west/);
    expect(r.stdout).toMatch(new RegExp(`^ +${detail.deliveries[0].id} +${ch.id} +sent +1 +\\S+ +${detail.deliveries[0].discord_message_id}`, 'm'));
    const missing = await run(['alerts', 'show', '999999']);
    expect(missing.code).toBe(1);
    oneLineError(missing);
    expect(missing.stderr).toMatch(/^herald alerts show: .*999999.*\(HTTP 404\)$/m);
  });
});

describe('herald status', () => {
  it('shows the figures of GET /v1/admin/status, with readiness and channel names', async () => {
    const r = await run(['status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Herald at ${stack.url.replace(/[.]/g, '\\.')}: ready \\(discord\\)$`, 'm'));
    expect(r.stdout).toMatch(/^queued or in flight: P0 0 {2}P1 0 {2}P2 0 {2}P3 0$/m);
    expect(r.stdout).toMatch(/^dead letters not replayed: \d+$/m);
    expect(r.stdout).toMatch(/^webhook breakers: closed 1, open 0, half_open 0$/m);
    expect(r.stdout).toMatch(new RegExp(`^ +ch-\\w+ \\(#${ch.id}\\) +0 +1 +\\d+/30`, 'm'));
    const j = JSON.parse((await run(['status', '--json'])).stdout);
    const api = (await stack.admin('GET', '/v1/admin/status')).body;
    expect(j.status.queue_depth_by_priority).toEqual(api.queue_depth_by_priority);
    expect(j.status.dead_letters_pending).toBe(api.dead_letters_pending);
    expect(j.status.breakers).toEqual(api.breakers);
    expect(j.ready).toEqual({ ok: true, mode: 'discord', problems: [] });
  });
});

describe('herald deadletters', () => {
  it('lists a delivery given up on and replays it, which delivers it; a second replay is refused (exit 1)', async () => {
    // HERALD_MAX_ATTEMPTS=1: one 500 from Discord and the delivery is a dead letter.
    stack.emulator.injectFault({ kind: 'error', status: 500, count: 1, channelId: ch.discordChannelId });
    const posted = await stack.post(sourceToken, alert(1, { title: 'Will die once' }));
    const alertId = posted.body.ids[0] as number;
    let letterId = 0;
    await waitFor('the dead letter', async () => {
      const list = (await stack.admin('GET', '/v1/admin/dead-letters?pending=true')).body as { id: number; alert_id: number }[];
      letterId = list.find((d) => d.alert_id === alertId)?.id ?? 0;
      return letterId > 0;
    });
    const listed = await run(['deadletters', 'list', '--pending']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${letterId} +#${alertId} Will die once +P2 +${ch.id} +\\S`, 'm'));
    expect(JSON.parse((await run(['deadletters', 'list', '--json'])).stdout)[0]).toMatchObject({ id: letterId, alert_id: alertId });

    const replayed = await run(['deadletters', 'replay', String(letterId)]);
    expect(replayed.stderr).toBe('');
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toMatch(new RegExp(`^dead letter ${letterId} queued again as delivery \\d+$`, 'm'));
    await waitFor('the replayed alert in Discord', () => deliveredAlertIds(stack.emulator, ch.discordChannelId).includes(alertId), 15_000);

    const again = await run(['deadletters', 'replay', String(letterId)]);
    expect(again.code).toBe(1);
    oneLineError(again);
    expect(again.stderr).toMatch(/^herald deadletters replay: .*\(HTTP 409\)$/m);
    expect((await run(['deadletters', 'list', '--pending'])).stdout).toBe('no dead letters waiting for a replay\n');
  });
});

describe('herald register', () => {
  it("registers the slash commands in the emulator's guild, reading the environment as npm run register does", async () => {
    const r = await herald(
      ['register'],
      { DISCORD_API_URL: stack.emulator.url, DISCORD_TOKEN: stack.emulator.botToken, DISCORD_GUILD_ID: stack.emulator.guildId, HERALD_ADMIN_TOKEN: ADMIN_TOKEN },
      { cwd },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^registered \d+ commands \(guild \d+\): \/\w+.* \/ack /m);
    expect(r.stdout + r.stderr).not.toContain(stack.emulator.botToken);
  });

  it('without a bot token: one line, exit 2', async () => {
    const r = await herald(['register'], { DISCORD_API_URL: stack.emulator.url, HERALD_ADMIN_TOKEN: ADMIN_TOKEN }, { cwd });
    expect(r.code).toBe(2);
    oneLineError(r);
    expect(r.stderr).toMatch(/^herald register: DISCORD_TOKEN is not set/);
  });
});

describe('herald backup', () => {
  it("copies the running Herald's database online into a 0600 file that holds its alerts, and never overwrites one", async () => {
    const file = join(cwd, 'backup.db');
    const r = await run(['backup', file], { HERALD_DB: join(stack.dir, 'herald.db') });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^backed up .*herald\.db to .*backup\.db \(\d+ pages, \d+\.\d MiB\)$/m);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const copy = new Database(file, { readonly: true });
    try {
      const alerts = (await stack.admin('GET', '/v1/admin/alerts?limit=1000')).body as unknown[];
      expect(copy.prepare('select count(*) from alerts').pluck().get()).toBe(alerts.length);
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      copy.close();
    }
    const again = await run(['backup', file], { HERALD_DB: join(stack.dir, 'herald.db') });
    expect(again.code).toBe(1);
    oneLineError(again);
    expect(again.stderr).toMatch(/exists already: choose a new file name/);
  });
});
