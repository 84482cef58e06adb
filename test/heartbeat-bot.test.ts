import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { listRoutes } from '../src/services/routes.js';
import { opt, startBotStack, sub, T, type BotStack } from './support/bot.js';
import { FAST, type TestChannel } from './support/stack.js';

describe('/heartbeat add|list|remove, and /route add auto_resolve_after', () => {
  let s: BotStack;
  let ch: TestChannel;

  beforeAll(async () => {
    s = await startBotStack({ ...FAST });
    ch = await s.channel({ webhooks: 1 });
  });
  afterAll(async () => s?.close());

  const run = (userId: string, name: string, ...options: ReturnType<typeof opt>[]) => s.emulator.runCommand({ userId, channelId: ch.discordChannelId, name, options });

  it('refuses a member without Manage Server', async () => {
    s.emulator.setCommandPermissions({ name: 'heartbeat', permissions: [{ id: s.emulator.guildId, type: 1, permission: true }] });
    onTestFinished(() => s.emulator.setCommandPermissions({ name: 'heartbeat', permissions: [] }));
    const r = await run(s.member.id, 'heartbeat', sub('list'));
    expect(r).toMatchObject({ type: 4, ephemeral: true });
    expect(r.content).toMatch(/You need the Manage Server permission to use \/heartbeat list/);
  });

  it('declares a heartbeat for the only source, lists it, refuses bad input, and removes it', async () => {
    await s.source('backups');
    const added = await run(
      s.admin_.id,
      'heartbeat',
      sub('add', opt('name', T.STRING, 'nightly-backup'), opt('every', T.STRING, '1d'), opt('grace', T.STRING, '1h'), opt('severity', T.STRING, 'P1'), opt('service', T.STRING, 'backup')),
    );
    expect(added.content).toMatch(/^Heartbeat added: #\d+ \*\*nightly-backup\*\* \(backups\) every 1 d \+ 1 h grace, P1: no beat yet, due <t:\d+:R>\./);
    expect(added.content).toContain('POST /v1/heartbeats/nightly-backup');
    expect(await s.herald.heartbeats.list()).toMatchObject([{ name: 'nightly-backup', interval_ms: 86_400_000, grace_ms: 3_600_000, service: 'backup', severity: 'P1' }]);

    const dup = await run(s.admin_.id, 'heartbeat', sub('add', opt('name', T.STRING, 'nightly-backup'), opt('every', T.STRING, '1d')));
    expect(dup).toMatchObject({ ephemeral: true });
    expect(dup.content).toContain('already has a heartbeat named "nightly-backup"');
    const fast = await run(s.admin_.id, 'heartbeat', sub('add', opt('name', T.STRING, 'probe'), opt('every', T.STRING, '5s')));
    expect(fast.content).toContain('the interval is at least 10 s');

    // With two sources, the command must be told which one beats.
    await s.source('other');
    const which = await run(s.admin_.id, 'heartbeat', sub('add', opt('name', T.STRING, 'etl'), opt('every', T.STRING, '1h')));
    expect(which.content).toContain('give the source that beats');
    const named = await run(s.admin_.id, 'heartbeat', sub('add', opt('name', T.STRING, 'etl'), opt('every', T.STRING, '1h'), opt('source', T.STRING, 'other')));
    expect(named.content).toMatch(/\*\*etl\*\* \(other\) every 1 h, P1/);

    const list = await run(s.admin_.id, 'heartbeat', sub('list'));
    expect(list).toMatchObject({ ephemeral: true });
    expect(list.content!.split('\n').map((l) => /\*\*(.+?)\*\*/.exec(l)?.[1])).toEqual(['nightly-backup', 'etl']);

    const id = (await s.herald.heartbeats.list()).find((h) => h.name === 'etl')!.id;
    const removed = await run(s.admin_.id, 'heartbeat', sub('remove', opt('heartbeat', T.STRING, String(id))));
    expect(removed.content).toBe('Heartbeat **etl** removed.');
    expect((await s.herald.heartbeats.list()).map((h) => h.name)).toEqual(['nightly-backup']);
  });

  it('/route add takes auto_resolve_after', async () => {
    const r = await run(s.admin_.id, 'route', sub('add', opt('channel', T.CHANNEL, ch.discordChannelId), opt('service', T.STRING, 'cron-*'), opt('auto_resolve_after', T.STRING, '4h')));
    expect(r.content).toMatch(/Route added: #\d+ → .*: service cron-\*, stale after 4 h\./);
    expect((await listRoutes(s.herald)).find((x) => x.service === 'cron-*')?.auto_resolve_after_ms).toBe(4 * 3_600_000);
    const bad = await run(s.admin_.id, 'route', sub('add', opt('channel', T.CHANNEL, ch.discordChannelId), opt('auto_resolve_after', T.STRING, 'whenever')));
    expect(bad.content).toContain('"whenever" is not a duration');
  });
});
