import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configCommand } from '../src/cli/commands/config.js';
import type { CliIo } from '../src/cli/types.js';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { jsonSchemaText, JSON_SCHEMA_PATH } from '../src/services/config/write-json-schema.js';
import { ADMIN_TOKEN, FAST, startStack, type Stack } from './support/stack.js';

/** `herald config check|diff|export` through the command module's `run` (the dispatcher's own cases are test/cli.test.ts's), and the committed JSON Schema. */

const ROOT = resolve(import.meta.dirname, '..');
let stack: Stack | undefined;
let emulator: Emulator | undefined;
let dir: string | undefined;
afterEach(async () => {
  await stack?.close();
  await emulator?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  stack = emulator = dir = undefined;
});

/** Runs `herald config …` and keeps what it printed. */
async function herald(args: string[], env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env };
  const code = await configCommand.run(args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** NAME='value' lines (as --secrets-file writes them) → an environment. */
const readEnvFile = (path: string): Record<string, string> =>
  Object.fromEntries(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const at = l.indexOf('=');
        return [l.slice(0, at), l.slice(at + 2, -1).replace(/'\\''/g, "'")];
      }),
  );

describe('herald config check', () => {
  it('accepts deploy/herald.yaml, the commented example of every section, with its references set', async () => {
    const hook = (id: string) => `https://discord.com/api/webhooks/${id}/${'x'.repeat(68)}`;
    const env = { OPS_WEBHOOK_1: hook('123456789012345001'), OPS_WEBHOOK_2: hook('123456789012345002'), PAYMENTS_WEBHOOK: hook('123456789012345003'), PAYMENTS_SLACK_URL: 'https://hooks.slack.com/services/T0/B0/abc' };
    const r = await herald(['check', join(ROOT, 'deploy/herald.yaml')], env);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/herald.yaml: valid \(2 channels, 2 routes, 1 escalation chain, 2 sources, 1 heartbeat, 2 maintenance windows, 1 digest\)$/);
    expect(r.code).toBe(0);
    // Every top-level section of the format is in the example.
    const text = readFileSync(join(ROOT, 'deploy/herald.yaml'), 'utf8');
    const sections = Object.keys((JSON.parse(jsonSchemaText()) as { properties: object }).properties);
    for (const s of sections) expect(text).toMatch(new RegExp(`^${s}:`, 'm'));
  });

  it('exits 2 with every problem as file:line:column, and names an unset reference', async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, ['channels:', '  - name: ops', '    discord_channel_id: "42"', '    webhooks:', '      - ${NOT_SET}', 'routes:', '  - channel: ops', '    severity: P1', ''].join('\n'));
    const r = await herald(['check', file], {});
    expect(r.code).toBe(2);
    expect(r.err).toBe(`${file}:5:9: \${NOT_SET} is not set in the environment\n${file}: 1 problem`);
    const again = await herald(['check', file], { NOT_SET: 'https://discord.com/api/webhooks/123456789012345678/' + 'y'.repeat(68) });
    expect(again.code).toBe(2);
    expect(again.err.split('\n')).toEqual([
      `${file}:3:25: channels[0].discord_channel_id: must be a Discord id (17 to 20 digits)`,
      `${file}:8:5: routes[0].severity: unknown key "severity"`,
      `${file}: 2 problems`,
    ]);
  });

  it('warns about a credential written in clear, and answers usage errors with one line and exit 2', async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-cli-'));
    const file = join(dir, 'clear.yaml');
    writeFileSync(file, `channels:\n  - name: ops\n    discord_channel_id: "123456789012345678"\n    webhooks:\n      - https://discord.com/api/webhooks/123456789012345678/${'z'.repeat(68)}\n`);
    const r = await herald(['check', file], {});
    expect(r.code).toBe(0);
    expect(r.err).toBe(`warning: ${file}:5:9: channels[0].webhooks[0]: a webhook URL (it holds the webhook token) is written in clear; write it as a \${NAME} reference so the file can be kept in git`);
    for (const args of [['check'], ['frobnicate'], ['check', file, '--nope'], ['diff', file]]) {
      const u = await herald(args, {});
      expect(u.code, args.join(' ')).toBe(2);
      expect(u.err.split('\n'), args.join(' ')).toHaveLength(1);
      expect(u.err).toMatch(/^herald: /);
    }
    expect((await herald(['--help'], {})).out).toContain('herald config check <file>');
  });
});

describe('herald config export → check → diff', () => {
  it('exports what a file applied as a file check accepts, whose diff against the same Herald is empty', async () => {
    emulator = await startEmulator(FAST.emulator);
    dir = mkdtempSync(join(tmpdir(), 'herald-cli-'));
    const ops = emulator.createChannel({ name: 'ops' });
    const pay = emulator.createChannel({ name: 'payments' });
    const serverEnv = { OPS: emulator.createWebhook(ops.id).url, PAY: emulator.createWebhook(pay.id).url, PAY_2: emulator.createWebhook(pay.id, { applicationOwned: true }).url };
    const file = join(dir, 'herald.yaml');
    writeFileSync(
      file,
      `channels:
  - name: ops
    discord_channel_id: "${ops.id}"
    default: true
    webhooks:
      - \${OPS}
  - name: payments
    discord_channel_id: "${pay.id}"
    kind: forum
    webhooks:
      - \${PAY}
      - url: \${PAY_2}
        owner: app
sources:
  - name: prometheus
    format: alertmanager
    auto_resolve_after: 4h
    mapping: { severity_words: { critical: P0 }, default_severity: P3 }
  - name: jobs
escalations:
  - name: oncall
    repeats: 1
    rearm_after_ms: 600000
    steps:
      - { kind: role, target: "323456789012345678", delay_ms: 60000 }
      - { kind: channel, channel: ops, delay_ms: 120000 }
routes:
  - name: payments-critical
    channel: payments
    service: "payments-*"
    severities: [P0, P1]
    labels: { team: payments }
    escalation: oncall
    group_by: [alertname, cluster]
    group_wait: 30s
  - channel: ops
    environment: production
    auto_resolve_after: 1d
    business_hours: { timezone: Europe/Paris, days: [mon, tue], start: "09:00", end: "18:00", outside: digest }
heartbeats:
  - { source: jobs, name: nightly, interval: 1d, grace: 30m, severity: P2 }
maintenance:
  - { name: weekly, route: payments-critical, cron: "0 6 * * tue", duration: 1h, timezone: Europe/Paris }
  - { name: once, service: "db-*", start: "2030-01-01T00:00:00Z", end: "2030-01-01T02:00:00Z", reason: migration }
digests:
  - { channel: ops, time: "08:30", timezone: UTC }
`,
    );
    stack = await startStack({ ...FAST, emulatorInstance: emulator, env: { ...FAST.env, HERALD_CONFIG: file }, configEnv: serverEnv });
    expect((await stack.herald.configFile!.reload('start')).problems).toEqual([]);
    const cli = { HERALD_URL: stack.url, HERALD_ADMIN_TOKEN: ADMIN_TOKEN };
    // The file's chain, heartbeat and digest are its own: the API refuses to change them.
    const chain = (await stack.admin('GET', '/v1/admin/escalation-chains')).body[0].id;
    const beat = (await stack.admin('GET', '/v1/admin/heartbeats')).body[0].id;
    for (const [method, path, body] of [
      ['POST', `/v1/admin/escalation-chains/${chain}/steps`, { kind: 'user', target: '423456789012345678', delay_ms: 0 }],
      ['DELETE', `/v1/admin/escalation-chains/${chain}`, undefined],
      ['DELETE', `/v1/admin/heartbeats/${beat}`, undefined],
      ['PUT', '/v1/admin/channels/1/digest', { time: '10:00' }],
    ] as const) {
      expect((await stack.admin(method, path, body)).status, `${method} ${path}`).toBe(409);
    }

    // Export: credentials as references; their values only in the secrets file, readable by its owner only.
    const out = join(dir, 'exported.yaml');
    const secrets = join(dir, 'secrets.env');
    const exported = await herald(['export', '--out', out, '--secrets-file', secrets], cli);
    expect(exported).toMatchObject({ code: 0, err: `wrote 3 credentials to ${secrets} (keep it out of git)\nwrote ${out}` });
    const text = readFileSync(out, 'utf8');
    for (const url of Object.values(serverEnv)) expect(text).not.toContain(url.split('/').at(-1)!);
    expect(text).toContain('${WEBHOOK_OPS_1}');
    expect(statSync(secrets).mode & 0o777).toBe(0o600);
    const env = readEnvFile(secrets);
    expect(Object.values(env).sort()).toEqual(Object.values(serverEnv).sort());

    // check accepts it (with the secrets set and the emulator's host allowed for webhook URLs) ...
    const checked = await herald(['check', out, '--api-url', emulator.url], { ...env });
    expect(checked.err).toBe('');
    expect(checked.code).toBe(0);
    // ... and against the Herald it came from, it changes nothing (the references go with the file).
    const diff = await herald(['diff', out], { ...cli, ...env });
    expect(diff).toMatchObject({ code: 0, out: `${out}: no changes` });

    // A change shows, and nothing was written by diff.
    writeFileSync(out, text.replace('time: 08:30', 'time: 09:15'));
    expect((await herald(['diff', out], { ...cli, ...env })).out).toBe('~ digest channel "ops": time: 08:30 → 09:15');
    expect((await stack.admin('GET', `/v1/admin/channels/${1}/digest`)).body).toMatchObject({ time: '08:30' });
    // Herald refuses a file it cannot expand: exit 2, the problem at its line.
    const noEnv = await herald(['diff', out], cli);
    expect(noEnv.code).toBe(2);
    expect(noEnv.err).toMatch(/exported\.yaml:\d+:\d+: \$\{WEBHOOK_OPS_1\} is not set in the environment/);
  });

  it('exports a database configured through the API; applying it takes the objects over and changes nothing else', async () => {
    emulator = await startEmulator(FAST.emulator);
    dir = mkdtempSync(join(tmpdir(), 'herald-cli-'));
    const file = join(dir, 'herald.yaml');
    writeFileSync(file, 'version: 1\n');
    // Herald's environment: the secrets file's values are put in it before the reload, as a deployment would.
    const heraldEnv: Record<string, string> = {};
    stack = await startStack({ ...FAST, emulatorInstance: emulator, env: { ...FAST.env, HERALD_CONFIG: file }, configEnv: heraldEnv });
    await stack.channel({ name: 'ops', webhooks: 2 });
    await stack.source('grafana');
    const cli = { HERALD_URL: stack.url, HERALD_ADMIN_TOKEN: ADMIN_TOKEN };
    const secrets = join(dir, 'secrets.env');
    expect((await herald(['export', '--out', file, '--secrets-file', secrets], cli)).code).toBe(0);
    const env = readEnvFile(secrets);
    const diff = await herald(['diff', file], { ...cli, ...env });
    const lines = diff.out.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines).toEqual(
      expect.arrayContaining([
        '= channel "ops" (made through the API; now managed by the file)',
        '= source "grafana" (made through the API; now managed by the file)',
        '= route routes[0] (* → ops) (made through the API; now managed by the file)',
      ]),
    );
    expect(lines.filter((l) => /^= webhook \d{6}…\d{4} in channel "ops" \(made through the API; now managed by the file\)$/.test(l))).toHaveLength(2);

    // Applied (with the references in Herald's environment): the objects are the file's, and nothing else changed.
    const before = (await stack.admin('GET', '/v1/admin/channels')).body;
    Object.assign(heraldEnv, env);
    expect((await stack.admin('POST', '/v1/admin/config/reload')).body).toMatchObject({ applied: true });
    const after = (await stack.admin('GET', '/v1/admin/channels')).body as { managed_by?: string }[];
    expect(after).toEqual(before.map((c: object) => ({ ...c, managed_by: 'file' })));
    expect((await herald(['diff', file], { ...cli, ...env })).out).toBe(`${file}: no changes`);

    // Naming the (unnamed) route keeps it: same id, now known by its name.
    const [route] = (await stack.admin('GET', '/v1/admin/routes')).body as { id: number }[];
    writeFileSync(file, readFileSync(file, 'utf8').replace('routes:\n  - channel: ops', 'routes:\n  - name: everything\n    channel: ops'));
    expect((await herald(['diff', file], { ...cli, ...env })).out).toBe('~ route everything: name: none → everything');
    expect((await stack.admin('POST', '/v1/admin/config/reload')).body).toMatchObject({ applied: true });
    expect((await stack.admin('GET', '/v1/admin/routes')).body).toEqual([expect.objectContaining({ id: route!.id, name: 'everything', managed_by: 'file' })]);
  });
});

describe('the JSON Schema of the file', () => {
  it(`is committed up to date in ${JSON_SCHEMA_PATH} (npm run config:schema rewrites it)`, () => {
    expect(readFileSync(join(ROOT, JSON_SCHEMA_PATH), 'utf8')).toBe(jsonSchemaText());
  });
});
