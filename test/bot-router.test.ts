import { Writable } from 'node:stream';
import { MessageFlags, type Interaction } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { createRouter } from '../src/bot/router.js';
import type { BotContext, CommandModule } from '../src/bot/types.js';
import { createLogger } from '../src/log.js';
import { ServiceError } from '../src/services/errors.js';

/**
 * The router's timing and error paths, with a stand-in interaction (the emulator tests cover the rest
 * with real discord.js): these need a handler slower than Discord's 3 s or one that crashes.
 */
const GUILD = '200000000000000002';

function fakeCommand(name: string) {
  const calls: { kind: string; at: number; body?: any }[] = [];
  const start = Date.now();
  const i: any = {
    commandName: name,
    user: { id: '100000000000000001', username: 'u' },
    member: { roles: [] },
    memberPermissions: { has: () => true },
    deferred: false,
    replied: false,
    isChatInputCommand: () => true,
    isAutocomplete: () => false,
    isButton: () => false,
    inGuild: () => true,
    guildId: GUILD,
    options: { getSubcommandGroup: () => null, getSubcommand: () => null },
    async deferReply(body: any) {
      calls.push({ kind: 'defer', at: Date.now() - start, body });
      i.deferred = true;
    },
    async reply(body: any) {
      calls.push({ kind: 'reply', at: Date.now() - start, body });
      i.replied = true;
    },
    async editReply(body: any) {
      calls.push({ kind: 'edit', at: Date.now() - start, body });
    },
  };
  return { i: i as Interaction, calls };
}

function context() {
  const lines: string[] = [];
  const log = createLogger('info', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
  const ctx: BotContext = {
    herald: {} as never,
    log,
    access: { guildId: GUILD, adminRoleIds: [], oncallRoleIds: [] },
    actor: (i) => ({ kind: 'discord', userId: i.user.id, name: i.user.username }),
  };
  return { ctx, lines };
}

const route = (mod: CommandModule, ctx: BotContext) =>
  createRouter({ commands: new Map([[mod.data.name, mod]]), buttons: {}, ctx });

const data = (name: string) => ({ name, toJSON: () => ({ name, description: name }) });

describe('the interaction router', () => {
  it('defers a handler that runs long (before Discord\'s 3 s) and edits the reply when it is done', async () => {
    const { ctx } = context();
    const slow: CommandModule = { access: 'member', data: data('slow'), execute: () => new Promise((r) => setTimeout(() => r({ content: 'done' }), 2000)) };
    const { i, calls } = fakeCommand('slow');
    await route(slow, ctx)(i);
    expect(calls.map((c) => c.kind)).toEqual(['defer', 'edit']);
    expect(calls[0]!.at).toBeLessThan(2000);
    expect(calls[0]!.body.flags).toBe(MessageFlags.Ephemeral);
    expect(calls[1]!.body.content).toBe('done');
  });

  it('answers a quick handler directly, and a declared slow one is deferred at once', async () => {
    const { ctx } = context();
    const quick = fakeCommand('quick');
    await route({ access: 'member', data: data('quick'), execute: () => ({ content: 'hi' }) }, ctx)(quick.i);
    expect(quick.calls.map((c) => c.kind)).toEqual(['reply']);
    expect(quick.calls[0]!.body.flags).toBeUndefined();

    const declared = fakeCommand('hook');
    await route({ access: 'member', defer: true, data: data('hook'), execute: async () => ({ content: 'made' }) }, ctx)(declared.i);
    expect(declared.calls.map((c) => c.kind)).toEqual(['defer', 'edit']);
    expect(declared.calls[0]!.at).toBeLessThan(100);
  });

  it('shows a ServiceError as written, and an internal error only as a log reference', async () => {
    const { ctx, lines } = context();
    const person = fakeCommand('p');
    await route({ access: 'member', data: data('p'), execute: () => { throw new ServiceError(409, 'conflict', 'alert 3 is retracted'); } }, ctx)(person.i);
    expect(person.calls[0]!.body).toMatchObject({ content: 'alert 3 is retracted', flags: MessageFlags.Ephemeral });

    const crash = fakeCommand('c');
    await route({ access: 'member', data: data('c'), execute: () => { throw new Error('SQLITE_BUSY at /webhooks/1/secret-token'); } }, ctx)(crash.i);
    const shown = crash.calls[0]!.body.content as string;
    expect(shown).toMatch(/^Herald could not do that: an internal error \(logged with reference [0-9a-f]{8}\)\.$/);
    const ref = /reference ([0-9a-f]{8})/.exec(shown)![1]!;
    expect(lines.find((l) => l.includes(ref))).toMatch(/interaction failed/);
    expect(lines.join('')).not.toContain('secret-token');
  });

  it('a DM (no server) or another server changes nothing: a short ephemeral refusal, the handler never runs', async () => {
    const { ctx } = context();
    let ran = 0;
    const mod: CommandModule = { access: 'member', data: data('status'), execute: () => ((ran += 1), { content: 'ran' }) };
    const dm = fakeCommand('status');
    Object.assign(dm.i, { inGuild: () => false, guildId: null, member: null });
    await route(mod, ctx)(dm.i);
    expect(dm.calls[0]!.body).toMatchObject({ content: 'Herald works in a server channel only.', flags: MessageFlags.Ephemeral });
    const elsewhere = fakeCommand('status');
    Object.assign(elsewhere.i, { guildId: '300000000000000003' });
    await route(mod, ctx)(elsewhere.i);
    expect(elsewhere.calls[0]!.body).toMatchObject({ content: 'Herald does not act for this server.', flags: MessageFlags.Ephemeral });
    expect(ran).toBe(0);
  });
});
