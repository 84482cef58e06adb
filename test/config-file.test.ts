import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { loadConfig } from '../src/config.js';
import { listRoutes } from '../src/services/routes.js';
import { opt, startBotStack, sub, T } from './support/bot.js';
import { deliveredAlertIds, FAST, startStack, waitFor, type Stack } from './support/stack.js';

/**
 * The configuration file against a real Herald (SQLite, HTTP on loopback, delivery) and the emulator:
 * applied at start, reloaded without a restart, refused whole when invalid, dropped channels dead-lettered,
 * file-managed objects refused to the API, maintenance windows by the injectable clock.
 */

let stack: Stack | undefined;
let emulator: Emulator | undefined;
let dir: string | undefined;
afterEach(async () => {
  await stack?.close();
  await emulator?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  stack = emulator = dir = undefined;
});

interface World {
  file: string;
  env: Record<string, string>;
  ops: string;
  payments: string;
}

/** Two emulated Discord channels with a webhook each, their URLs in the environment (never in the file). */
async function world(): Promise<World> {
  emulator = await startEmulator(FAST.emulator);
  dir = mkdtempSync(join(tmpdir(), 'herald-config-'));
  const ops = emulator.createChannel({ name: 'ops' });
  const payments = emulator.createChannel({ name: 'payments' });
  const env = { OPS_HOOK: emulator.createWebhook(ops.id).url, PAYMENTS_HOOK: emulator.createWebhook(payments.id).url };
  const file = join(dir, 'herald.yaml');
  writeFileSync(file, 'version: 1\n');
  return { file, env, ops: ops.id, payments: payments.id };
}

const yaml = (w: World, o: { paymentsRouteTo?: string; extraChannel?: boolean; routeExtra?: string } = {}) => `# yaml-language-server: $schema=../schema/herald.schema.json
version: 1
channels:
  - name: ops
    discord_channel_id: "${w.ops}"
    default: true
    webhooks:
      - \${OPS_HOOK}
${
  o.extraChannel === false
    ? ''
    : `  - name: payments
    discord_channel_id: "${w.payments}"
    webhooks:
      - \${PAYMENTS_HOOK}
`
}sources:
  - name: prometheus
routes:
  - name: payments-critical
    channel: ${o.paymentsRouteTo ?? 'payments'}
    service: "payments-*"
    severities: [P0, P1]
${o.routeExtra ?? ''}`;

async function start(w: World, clock?: () => number): Promise<Stack> {
  stack = await startStack({ ...FAST, emulatorInstance: emulator, env: { ...FAST.env, HERALD_CONFIG: w.file }, configEnv: w.env, ...(clock ? { clock } : {}) });
  return stack;
}

/** The file's source gets its first token (the file never holds one). */
async function tokenOf(s: Stack, name: string): Promise<string> {
  const sources = await s.admin('GET', '/v1/admin/sources');
  const id = (sources.body as { id: number; name: string }[]).find((x) => x.name === name)!.id;
  const res = await s.admin('POST', `/v1/admin/sources/${id}/token`);
  expect(res.status).toBe(200);
  return res.body.token as string;
}

async function reload(s: Stack) {
  return s.admin('POST', '/v1/admin/config/reload');
}

async function sendAndWait(s: Stack, token: string, body: Record<string, unknown>, discordChannelId: string): Promise<number> {
  const res = await s.post(token, { title: 'x', ...body });
  expect(res.status).toBe(202);
  const id = res.body.ids[0] as number;
  await waitFor(`alert ${id} in ${discordChannelId}`, () => deliveredAlertIds(emulator!, discordChannelId).includes(id));
  return id;
}

describe('configuration file', () => {
  it('is applied at start: its objects exist, file-managed, and an alert follows its route; a route edit is followed after a reload, without a restart', async () => {
    const w = await world();
    writeFileSync(w.file, yaml(w));
    const s = await start(w);
    const first = await s.herald.configFile!.reload('start');
    expect(first).toMatchObject({ applied: true, problems: [] });
    expect(first.changes).toEqual(expect.arrayContaining(['+ channel "ops"', '+ channel "payments"', '+ route payments-critical', expect.stringMatching(/^\+ source "prometheus"/)]));

    const channels = (await s.admin('GET', '/v1/admin/channels')).body as { name: string; managed_by?: string; webhooks: { active: number }; default: boolean }[];
    expect(channels.map((c) => [c.name, c.managed_by, c.webhooks.active, c.default])).toEqual([
      ['ops', 'file', 1, true],
      ['payments', 'file', 1, false],
    ]);
    const routes = (await s.admin('GET', '/v1/admin/routes')).body as { name?: string; channel_name: string; managed_by?: string }[];
    expect(routes).toEqual([expect.objectContaining({ name: 'payments-critical', channel_name: 'payments', managed_by: 'file' })]);

    const token = await tokenOf(s, 'prometheus');
    const a = await sendAndWait(s, token, { service: 'payments-api', severity: 'P1' }, w.payments);
    expect(deliveredAlertIds(emulator!, w.ops)).not.toContain(a);

    // The route now sends to ops: the next alert goes there, with no restart.
    writeFileSync(w.file, yaml(w, { paymentsRouteTo: 'ops' }));
    const again = await reload(s);
    expect(again.status).toBe(200);
    expect(again.body.changes).toEqual(['~ route payments-critical: channel: payments → ops']);
    const b = await sendAndWait(s, token, { service: 'payments-api', severity: 'P1' }, w.ops);
    expect(deliveredAlertIds(emulator!, w.payments)).not.toContain(b);

    // The same file again changes nothing.
    expect((await reload(s)).body).toMatchObject({ applied: true, changes: [] });
  });

  it('refuses an invalid file whole, every problem at its line and column; the configuration in force stays and /readyz shows the failure', async () => {
    const w = await world();
    writeFileSync(w.file, yaml(w));
    const s = await start(w);
    await s.herald.configFile!.reload('start');
    const token = await tokenOf(s, 'prometheus');

    // Three problems at once, and a valid-looking change that must not be applied with them.
    writeFileSync(
      w.file,
      yaml(w, { paymentsRouteTo: 'ops' }).replace('severities: [P0, P1]', 'severities: [P0, P9]') +
        '  - channel: nowhere\n' +
        '  - channel: ops\n    colour: red\n',
    );
    const refused = await reload(s);
    expect(refused.status).toBe(422);
    expect(refused.body.applied).toBe(false);
    expect(refused.body.problems).toEqual([
      `${w.file}:19:22: routes[0].severities[1]: Invalid option: expected one of "P0"|"P1"|"P2"|"P3"`,
      `${w.file}:22:5: routes[2].colour: unknown key "colour"`,
    ]);
    const ready = await fetch(`${s.url}/readyz`).then((r) => (r.json() as Promise<any>));
    expect(ready.ok).toBe(true); // Herald serves the last good configuration: not a 503
    expect(ready.config).toMatchObject({ file: w.file, state: 'failed', problems: refused.body.problems });
    expect(s.logs.join('')).toContain('configuration file refused (2 problems); the configuration in force stays');

    // Still routed as before the refused file: payments.
    await sendAndWait(s, token, { service: 'payments-api', severity: 'P0' }, w.payments);

    // A reference problem is found once the shape is right, with where it is.
    writeFileSync(w.file, `${yaml(w)}  - channel: nowhere\n`);
    expect((await reload(s)).body.problems).toEqual([`${w.file}:20:14: routes[1].channel: no channel named "nowhere" in this file`]);

    // Fixed: applied, and /readyz says so.
    writeFileSync(w.file, yaml(w));
    expect((await reload(s)).status).toBe(200);
    expect((await fetch(`${s.url}/readyz`).then((r) => (r.json() as Promise<any>))).config).toMatchObject({ state: 'applied', problems: [] });
  });

  it('names an unset ${NAME} reference and its line', async () => {
    const w = await world();
    writeFileSync(w.file, yaml(w).replace('${PAYMENTS_HOOK}', '${PAYMENTS_HOOK_TYPO}'));
    const s = await start(w);
    const answer = await s.herald.configFile!.reload('start');
    expect(answer.problems).toEqual([`${w.file}:12:9: \${PAYMENTS_HOOK_TYPO} is not set in the environment`]);
    expect((await s.admin('GET', '/v1/admin/channels')).body).toEqual([]);
    // The answer and the log name the variable, never a webhook token.
    const token = w.env.OPS_HOOK!.split('/').at(-1)!;
    expect(s.logs.join('')).not.toContain(token);
  });

  it('dead-letters the queued deliveries of a channel dropped from the file, with the reason; the alerts stay', async () => {
    const w = await world();
    // Business hours on Sundays only, and the clock on a Monday: a P2 waits, queued.
    const sundays = '    business_hours: { timezone: UTC, days: [sun], start: "09:00", end: "17:00" }\n';
    const waiting = `  - channel: payments\n    service: "billing"\n${sundays}`;
    writeFileSync(w.file, yaml(w, { routeExtra: waiting }));
    const monday = Date.parse('2026-11-23T10:00:00Z');
    const started = Date.now();
    const s = await start(w, () => monday + (Date.now() - started));
    await s.herald.configFile!.reload('start');
    const token = await tokenOf(s, 'prometheus');
    const queued = await s.post(token, { service: 'billing', severity: 'P2', title: 'invoices late' });
    expect(queued.status).toBe(202);
    const alertId = queued.body.ids[0] as number;
    expect((await s.admin('GET', `/v1/admin/alerts/${alertId}`)).body.deliveries).toEqual([expect.objectContaining({ state: 'pending' })]);

    // An API-made route to that channel, and the file drops the channel (and its routes).
    const channels = (await s.admin('GET', '/v1/admin/channels')).body as { id: number; name: string }[];
    const paymentsId = channels.find((c) => c.name === 'payments')!.id;
    expect((await s.admin('POST', '/v1/admin/routes', { channel_id: paymentsId, service: 'refunds' })).status).toBe(201);
    writeFileSync(w.file, yaml(w, { extraChannel: false, paymentsRouteTo: 'ops' }));
    const diff = await s.admin('POST', '/v1/admin/config/diff', { yaml: readFileSync(w.file, 'utf8') });
    expect(diff.body.changes).toContain('- channel "payments": 1 queued delivery dead-lettered; 1 route made through the API to it deleted; its webhooks forgotten');
    const applied = await reload(s);
    expect(applied.status).toBe(200);

    const alert = (await s.admin('GET', `/v1/admin/alerts/${alertId}`)).body;
    expect(alert.deliveries).toEqual([expect.objectContaining({ state: 'dead' })]);
    const dead = (await s.admin('GET', '/v1/admin/dead-letters')).body as { reason: string; alert_id: number }[];
    expect(dead).toEqual([expect.objectContaining({ alert_id: alertId, reason: 'channel "payments" was removed from the configuration file' })]);
    expect(((await s.admin('GET', '/v1/admin/channels')).body as { name: string }[]).map((c) => c.name)).toEqual(['ops']);
    // /readyz does not count the dropped channel (it has no webhook left, by design).
    expect((await fetch(`${s.url}/readyz`).then((r) => (r.json() as Promise<any>))).problems).toEqual([]);

    // Back in the file: the same channel again (its dead letters replay into it).
    writeFileSync(w.file, yaml(w, { paymentsRouteTo: 'ops' }));
    expect((await reload(s)).body.changes).toContain('+ channel "payments": brought back (it was dropped from the file earlier)');
    expect(((await s.admin('GET', '/v1/admin/channels')).body as { id: number; name: string }[]).find((c) => c.name === 'payments')!.id).toBe(paymentsId);
  });

  it('refuses API changes of file-managed objects (409, pointing at the file) and keeps API-made objects across reloads', async () => {
    const w = await world();
    writeFileSync(w.file, yaml(w));
    const s = await start(w);
    await s.herald.configFile!.reload('start');
    const routes = (await s.admin('GET', '/v1/admin/routes')).body as { id: number }[];
    const managed = routes[0]!.id;
    const ops = (await s.admin('GET', '/v1/admin/channels')).body[0].id as number;
    const hook = (await s.admin('GET', `/v1/admin/channels/${ops}/webhooks`)).body[0].id as number;
    const source = (await s.admin('GET', '/v1/admin/sources')).body[0].id as number;
    for (const [method, path, body] of [
      ['PATCH', `/v1/admin/routes/${managed}`, { threads: false }],
      ['DELETE', `/v1/admin/routes/${managed}`, undefined],
      ['PUT', `/v1/admin/routes/${managed}/escalation-chain`, { chain_id: null }],
      ['POST', `/v1/admin/routes/${managed}/outbound`, { kind: 'slack', url: 'https://hooks.slack.com/services/T/B/x' }],
      ['PATCH', `/v1/admin/channels/${ops}`, { kind: 'forum' }],
      ['DELETE', `/v1/admin/channels/${ops}`, undefined],
      ['DELETE', `/v1/admin/webhooks/${hook}`, undefined],
      ['POST', `/v1/admin/webhooks/${hook}/rotate`, {}],
      ['PATCH', `/v1/admin/sources/${source}`, { format: 'pagerduty' }],
      ['DELETE', `/v1/admin/sources/${source}`, undefined],
    ] as const) {
      const res = await s.admin(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(409);
      expect(res.body.message).toMatch(/is managed by the configuration file \(HERALD_CONFIG\); change it there and reload/);
    }
    // What the file does not hold stays open: the source's token.
    expect((await s.admin('POST', `/v1/admin/sources/${source}/token`)).status).toBe(200);

    // A route made through the API, to a file channel: not the file's, kept by reloads that change the file.
    const channels = (await s.admin('GET', '/v1/admin/channels')).body as { id: number; name: string }[];
    const made = await s.admin('POST', '/v1/admin/routes', { channel_id: channels.find((c) => c.name === 'ops')!.id, service: 'search' });
    expect(made.status).toBe(201);
    writeFileSync(w.file, yaml(w, { paymentsRouteTo: 'ops' }));
    expect((await reload(s)).body.changes).toEqual(['~ route payments-critical: channel: payments → ops']);
    const after = (await s.admin('GET', '/v1/admin/routes')).body as { id: number; service: string; managed_by?: string }[];
    expect(after.find((r) => r.id === made.body.id)).toMatchObject({ service: 'search' });
    expect(after.find((r) => r.id === made.body.id)!.managed_by).toBeUndefined();
    // And it stays changeable through the API.
    expect((await s.admin('DELETE', `/v1/admin/routes/${made.body.id}`)).status).toBe(204);
  });

  it('mutes with a maintenance window only while it is open, one-off and recurring, by the wall clock', async () => {
    const w = await world();
    const windows = `maintenance:
  - name: migration
    service: "db-*"
    start: "2030-01-07T22:00:00Z"
    end: "2030-01-08T02:00:00Z"
  - name: weekly-deploys
    route: payments-critical
    cron: "0 6 * * tue"
    duration: 1h
    timezone: Europe/Paris
`;
    writeFileSync(w.file, yaml(w) + windows);
    let wall = Date.parse('2030-01-07T21:59:00Z');
    const s = await start(w, () => wall);
    expect((await s.herald.configFile!.reload('start')).applied).toBe(true);
    const token = await tokenOf(s, 'prometheus');
    const mutedBy = async (body: Record<string, unknown>) => {
      const res = await s.post(token, { title: `t${Math.random()}`, ...body });
      expect(res.status).toBe(202);
      return (await s.admin('GET', `/v1/admin/alerts/${res.body.ids[0]}`)).body.muted_by_mute_id ?? null;
    };
    const mutes = (await s.admin('GET', '/v1/admin/mutes')).body as { id: number; name?: string; managed_by?: string; recurrence?: unknown; starts_at?: number }[];
    const migration = mutes.find((m) => m.name === 'migration')!;
    const weekly = mutes.find((m) => m.name === 'weekly-deploys')!;
    expect(migration).toMatchObject({ managed_by: 'file', starts_at: Date.parse('2030-01-07T22:00:00Z') });
    expect(weekly).toMatchObject({ recurrence: { cron: '0 6 * * tue', duration_ms: 3_600_000, timezone: 'Europe/Paris' } });

    expect(await mutedBy({ service: 'db-main', severity: 'P2' })).toBeNull(); // a minute before it opens
    wall = Date.parse('2030-01-07T23:00:00Z');
    expect(await mutedBy({ service: 'db-main', severity: 'P2' })).toBe(migration.id);
    expect(await mutedBy({ service: 'web', severity: 'P2' })).toBeNull(); // not its service
    wall = Date.parse('2030-01-08T02:00:00Z');
    expect(await mutedBy({ service: 'db-main', severity: 'P2' })).toBeNull(); // closed at its end

    // Tuesday 2030-01-08, 06:00 in Paris is 05:00 UTC: open for an hour, for the route it silences.
    wall = Date.parse('2030-01-08T04:59:00Z');
    expect(await mutedBy({ service: 'payments-api', severity: 'P1' })).toBeNull();
    wall = Date.parse('2030-01-08T05:30:00Z');
    expect(await mutedBy({ service: 'payments-api', severity: 'P1' })).toBe(weekly.id);
    wall = Date.parse('2030-01-08T06:00:00Z');
    expect(await mutedBy({ service: 'payments-api', severity: 'P1' })).toBeNull();
    wall = Date.parse('2030-01-15T05:10:00Z'); // the next Tuesday
    expect(await mutedBy({ service: 'payments-api', severity: 'P1' })).toBe(weekly.id);

    // Lifting it through the API is refused: it is the file's.
    expect((await s.admin('DELETE', `/v1/admin/mutes/${weekly.id}`)).status).toBe(409);
    // Dropped from the file: it ends.
    writeFileSync(w.file, yaml(w));
    expect((await reload(s)).body.changes).toEqual(expect.arrayContaining(['- maintenance window migration: ends now', '- maintenance window weekly-deploys: ends now']));
    expect(await mutedBy({ service: 'payments-api', severity: 'P1' })).toBeNull();
  });

  it('answers 409 on reload without a file; a diff of a given file works all the same', async () => {
    emulator = await startEmulator(FAST.emulator);
    stack = await startStack({ ...FAST, emulatorInstance: emulator });
    const res = await stack.admin('POST', '/v1/admin/config/reload');
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(/without a configuration file: set HERALD_CONFIG/);
    expect((await fetch(`${stack.url}/readyz`).then((r) => (r.json() as Promise<any>))).config).toBeUndefined();
    // A diff needs no file of Herald's own: it says what a given file would change.
    const diff = await stack.admin('POST', '/v1/admin/config/diff', { yaml: 'sources:\n  - name: grafana\n' });
    expect(diff.body).toEqual({ valid: true, changes: ['+ source "grafana": its token: POST /v1/admin/sources/{id}/token'], problems: [], warnings: [] });
    expect((await stack.admin('GET', '/v1/admin/sources')).body).toEqual([]);
  });
});

describe('configuration file and slash commands', () => {
  it('refuses /route remove of a file-managed route, pointing at the file; an API-made route is removed as before', async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-config-bot-'));
    const file = join(dir, 'herald.yaml');
    writeFileSync(file, 'version: 1\n');
    const b = await startBotStack({ ...FAST, env: { ...FAST.env, HERALD_CONFIG: file } });
    try {
      const ch = b.emulator.createChannel({ name: 'ops' });
      const hook = b.emulator.createWebhook(ch.id, { applicationOwned: true });
      // In clear here (a test); the check warns about it and applies it.
      writeFileSync(file, `channels:\n  - name: ops\n    discord_channel_id: "${ch.id}"\n    webhooks:\n      - { url: "${hook.url}", owner: app }\nroutes:\n  - name: main\n    channel: ops\n    service: web\n`);
      const applied = await b.herald.configFile!.reload('api');
      expect(applied).toMatchObject({ applied: true, warnings: [expect.stringMatching(/is written in clear/)] });
      const managed = (await listRoutes(b.herald))[0]!.id;
      const remove = (id: number) => b.emulator.runCommand({ userId: b.admin_.id, channelId: ch.id, name: 'route', options: [sub('remove', opt('route', T.INTEGER, id))] });
      const refused = await remove(managed);
      expect(refused.content).toMatch(/route \d+ is managed by the configuration file \(HERALD_CONFIG\); change it there and reload/);
      expect((await listRoutes(b.herald)).map((r) => r.id)).toContain(managed);

      const made = await b.admin('POST', '/v1/admin/routes', { channel_id: (await listRoutes(b.herald))[0]!.channel_id, service: 'search' });
      expect((await remove(made.body.id)).content).toBe(`Route #${made.body.id} removed.`);
    } finally {
      await b.close();
    }
  });
});

describe('HERALD_CONFIG', () => {
  it('names a path that is not a file at start (exit 2 from main), and is optional', () => {
    const missing = loadConfig({ HERALD_CONFIG: '/nonexistent/herald.yaml' });
    expect(missing).toEqual({ ok: false, problems: ['HERALD_CONFIG: no configuration file at /nonexistent/herald.yaml'] });
    const none = loadConfig({});
    expect(none.ok && none.config.configFile).toBeUndefined();
  });
});
