import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { alert, deliveredAlertIds, startStack, waitFor, type Stack } from './support/stack.js';
import { opt, startBotStack, sub, T } from './support/bot.js';

/**
 * Storm mode end to end (issue 10 §2), against the emulator with Discord's real limits: 5 requests per 2 s
 * per webhook, 30 messages per 60 s per channel, 3 webhooks.
 */
type Msg = ReturnType<Emulator['messages']>[number];
type Embed = { title?: string; description?: string; footer?: { text?: string } };

const embedsOf = (m: Msg) => m.embeds as Embed[];
const isSummary = (m: Msg) => /^Storm (in progress|over)/.test(embedsOf(m)[0]?.title ?? '');
const isCompact = (m: Msg) => embedsOf(m).at(-1)?.footer?.text?.startsWith('Storm mode') ?? false;
const summaries = (e: Emulator, ch: string) => e.messages(ch).filter((m) => !m.deleted && isSummary(m));

async function postStorm(s: Stack, token: string, n: number, from = 0): Promise<number[]> {
  const ids: number[] = [];
  // 25 senders at once, like an Alertmanager fan-out.
  let next = from;
  const sender = async () => {
    while (next < from + n) {
      const i = next++;
      // Titles as long as real ones, so a compact message holds about 60 lines (not 170 short ones).
      const title = `Disk usage above 90% on node-${i} in eu-west-1 (partition /var/lib/postgresql/data)`;
      const res = await s.post(token, alert(i, { severity: 'P3', service: `storage-${i % 4}`, title }));
      expect(res.status).toBe(202);
      ids.push(...res.body.ids);
    }
  };
  await Promise.all(Array.from({ length: 25 }, sender));
  return ids;
}

let stack: Stack | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await stack?.close();
  stack = undefined;
  for (const c of cleanups.splice(0)) await c();
});

describe('storm mode (real limits, 3 webhooks)', () => {
  it('300 P3 into one channel: all visible quickly as compact lines, exactly once; a P0 mid-storm keeps its card with buttons within 2 s', async () => {
    stack = await startStack();
    const s = stack;
    const token = await s.source();
    const ch = await s.channel({ webhooks: 3, applicationOwned: true });
    const started = Date.now();
    const accepted = await postStorm(s, token, 300);
    expect(accepted).toHaveLength(300);

    // Mid-storm: once the first compact message is up, a page.
    await waitFor('a compact storm message', () => s.emulator.messages(ch.discordChannelId).some(isCompact), 14_000, 10);
    const p0Sent = Date.now();
    const p0 = (await s.post(token, alert(999, { severity: 'P0', service: 'payments', title: 'Payments down' }))).body.ids[0] as number;
    await waitFor('the P0 as its own card', () => deliveredAlertIds(s.emulator, ch.discordChannelId).includes(p0), 2000, 10);
    const p0Latency = Date.now() - p0Sent;
    const p0Message = s.emulator.messages(ch.discordChannelId).find((m) => embedsOf(m).some((e) => e.footer?.text?.includes(`alert #${p0}`)))!;
    expect(isCompact(p0Message)).toBe(false);
    expect(p0Message.embeds).toHaveLength(1);
    expect(p0Message.components.length).toBeGreaterThan(0); // Acknowledge / Resolve / Mute
    expect(p0Latency).toBeLessThan(2000);

    await waitFor('all 300 visible', () => accepted.every((id) => deliveredAlertIds(s.emulator, ch.discordChannelId).includes(id)), 14_000 - (Date.now() - started), 20);
    const visibleMs = Date.now() - started;
    expect(visibleMs).toBeLessThan(14_000);
    const shown = deliveredAlertIds(s.emulator, ch.discordChannelId);
    // None twice, none missing (the P0 once too).
    expect(new Set(shown).size).toBe(shown.length);
    expect([...shown].sort((a, b) => a - b)).toEqual([...accepted, p0].sort((a, b) => a - b));

    // One summary card, edited in place; it says the storm is over once the backlog is gone.
    await waitFor('the summary card says the storm is over', () => summaries(s.emulator, ch.discordChannelId).some((m) => embedsOf(m)[0]!.title!.startsWith('Storm over')), 10_000);
    const [summary, ...more] = summaries(s.emulator, ch.discordChannelId);
    expect(more).toHaveLength(0);
    expect(summary!.editedAt).toBeDefined();
    expect(embedsOf(summary!)[0]!.title).toBe(`Storm over: ${shown.filter((id) => id !== p0).length - cardsOutsideStorm(s, ch.discordChannelId, p0)} alerts in ${s.emulator.messages(ch.discordChannelId).filter(isCompact).length} storm messages`);
    expect(summary!.components).toEqual([]);

    const stats = s.emulator.stats();
    expect(stats.byStatus['400'] ?? 0).toBe(0);
    const limited = stats.rateLimited.user + stats.rateLimited.shared + stats.rateLimited.global;
    expect(limited).toBeLessThan(Math.max(1, stats.requests / 100));

    // A storm alert is findable by id, naming the compact message that shows it.
    const last = accepted.at(-1)!;
    const view = await s.admin('GET', `/v1/admin/alerts/${last}`);
    const messageId = view.body.deliveries[0].discord_message_id as string;
    const holder = s.emulator.messages(ch.discordChannelId).find((m) => m.id === messageId)!;
    expect(isCompact(holder)).toBe(true);
    expect(embedsOf(holder).some((e) => (e.description ?? '').split('\n').some((l) => l.endsWith(` · #${last}`)))).toBe(true);

    // Acting on a storm alert edits its line in the compact message, through the webhook that posted it.
    expect((await s.admin('POST', `/v1/admin/alerts/${last}/ack`, { by: 'ops' })).status).toBeLessThan(300);
    await waitFor('the line says acked', () => {
      const m = s.emulator.messages(ch.discordChannelId).find((x) => x.id === messageId)!;
      return embedsOf(m).some((e) => (e.description ?? '').split('\n').some((l) => l.endsWith(` · acked · #${last}`)));
    }, 10_000);
    const after = deliveredAlertIds(s.emulator, ch.discordChannelId);
    expect(after.length).toBe(shown.length);
  });

  it('a restart mid-storm goes on editing the same summary card', { timeout: 120_000 }, async () => {
    const emulator = await startEmulator();
    const dir = mkdtempSync(join(tmpdir(), 'herald-storm-'));
    cleanups.push(() => emulator.close(), () => rmSync(dir, { recursive: true, force: true }));
    let s = await startStack({ emulatorInstance: emulator, dir });
    stack = s;
    const token = await s.source();
    const ch = await s.channel({ webhooks: 3 });
    // More than the first minute's budget can post, so the storm outlives the restart.
    const accepted = await postStorm(s, token, 700);
    await waitFor('the summary card and a storm message', () => summaries(emulator, ch.discordChannelId).length === 1 && emulator.messages(ch.discordChannelId).some(isCompact), 14_000, 10);
    const card = summaries(emulator, ch.discordChannelId)[0]!;
    await stack.close();
    // Stopped mid-storm: the card still says it goes on, and alerts are still waiting.
    expect(embedsOf(emulator.message(card.id)!)[0]!.title).toMatch(/^Storm in progress/);
    expect(new Set(deliveredAlertIds(emulator, ch.discordChannelId)).size).toBeLessThan(accepted.length);
    stack = undefined;

    s = await startStack({ emulatorInstance: emulator, dir });
    stack = s;
    await waitFor('every alert visible after the restart', () => {
      const got = new Set(deliveredAlertIds(emulator, ch.discordChannelId));
      return accepted.every((id) => got.has(id));
    }, 60_000, 50);
    await waitFor('the same card says the storm is over', () => (embedsOf(emulator.message(card.id)!)[0]?.title ?? '').startsWith('Storm over'), 15_000);
    expect(summaries(emulator, ch.discordChannelId).map((m) => m.id)).toEqual([card.id]);
    expect(emulator.message(card.id)!.editedAt).toBeGreaterThan(card.createdAt);
    expect(emulator.stats().byStatus['400'] ?? 0).toBe(0);
  });
});

describe('/alert show of a storm alert', () => {
  it('shows its full card and names the compact message it is a line of', async () => {
    const s = await startBotStack();
    stack = s;
    const token = await s.source();
    const ch = await s.channel({ webhooks: 3, applicationOwned: true });
    const accepted = await postStorm(s, token, 300);
    await waitFor('all 300 visible', () => accepted.every((id) => deliveredAlertIds(s.emulator, ch.discordChannelId).includes(id)), 14_000, 20);
    const id = accepted.at(-1)!;
    const holder = s.emulator.messages(ch.discordChannelId).find((m) => isCompact(m) && embedsOf(m).some((e) => (e.description ?? '').split('\n').some((l) => l.endsWith(` · #${id}`))))!;
    expect(holder).toBeDefined();
    const shown = await s.emulator.runCommand({ userId: s.admin_.id, channelId: ch.discordChannelId, name: 'alert', options: [sub('show', opt('alert', T.STRING, String(id)))] });
    expect(shown.content).toContain(`Alert #${id} is in:`);
    expect(shown.content).toContain(`https://discord.com/channels/${s.emulator.guildId}/${ch.discordChannelId}/${holder.id}`);
    expect((shown.embeds as Embed[])[0]!.footer!.text).toContain(`alert #${id}`);
    expect(shown.ephemeral).toBe(true);
  });
});

/** Alerts shown as cards in the channel (outside the storm's lines), besides the P0: those posted before the storm began. */
function cardsOutsideStorm(s: Stack, ch: string, p0: number): number {
  let n = 0;
  for (const m of s.emulator.messages(ch)) {
    if (m.deleted || isCompact(m) || isSummary(m)) continue;
    for (const e of embedsOf(m)) {
      const match = /alert #(\d+)/.exec(e.footer?.text ?? '');
      if (match && Number(match[1]) !== p0) n++;
    }
  }
  return n;
}
