/**
 * The pure decisions of src/cards/ and the Discord text/id helpers they rest on, one by one, with
 * hand-built inputs (no database, no server): how an embed is fitted to its budget, how a budget is
 * shared among a message's embeds, what a card's buttons are and how their ids read back, and the
 * message envelope. test/render.test.ts checks the same through whole cards.
 */
import { describe, expect, it } from 'vitest';
import type { StatefulAlert } from '../src/domain/alert-state.js';
import { buttonId, cardButtons, parseButtonId } from '../src/cards/buttons.js';
import { alertMessage } from '../src/cards/envelope.js';
import { type EmbedModel, fit, modelLength, slot, toEmbed } from '../src/cards/fit.js';
import { fairShare } from '../src/cards/pack.js';
import { DISCORD_ID, discordIdSchema, isDiscordId } from '../src/discord/ids.js';
import { embedLength, MESSAGE_LIMITS as L, SUPPRESS_NOTIFICATIONS } from '../src/discord/limits.js';
import { truncateEnd, truncateMiddle } from '../src/discord/truncate.js';

/** A model with a title, a description and `fields` name/value pairs of the given lengths. */
function model(o: { title?: number; description?: number; footer?: number; fields?: [number, number][] }): EmbedModel {
  const s = (n: number, ch: string, cap: number) => slot(ch.repeat(n), cap, truncateMiddle);
  return {
    title: slot('T'.repeat(o.title ?? 20), L.embedTitle, truncateEnd),
    ...(o.description === undefined ? {} : { description: s(o.description, 'D', L.embedDescription) }),
    fields: (o.fields ?? []).map(([n, v]) => ({ name: s(n, 'N', L.fieldName), value: s(v, 'V', L.fieldValue) })),
    footer: slot('F'.repeat(o.footer ?? 20), L.footerText, truncateEnd),
    color: 1,
  };
}

describe('fit: an embed within its character budget', () => {
  it('leaves a model that already fits untouched', () => {
    const m = model({ description: 100, fields: [[10, 100]] });
    const caps = (x: EmbedModel) => [x.title.cap, x.description?.cap, x.footer.cap, ...x.fields.flatMap((f) => [f.name.cap, f.value.cap])];
    const before = caps(m);
    expect(fit(m, modelLength(m))).toBe(m);
    expect(caps(m)).toEqual(before);
  });

  it('uses the budget when over it (less at most one character per text it cut), and the embed it gives counts the same', () => {
    for (const budget of [600, 1000, 2500, 6000]) {
      const m = fit(model({ title: 256, description: 4096, footer: 2048, fields: Array.from({ length: 10 }, () => [256, 1024] as [number, number]) }), budget);
      expect(modelLength(m)).toBeLessThanOrEqual(budget);
      expect(modelLength(m)).toBeGreaterThan(budget - 22);
      expect(embedLength(toEmbed(m))).toBe(modelLength(m));
    }
  });

  it('cuts the description first, down to 256, before any field value', () => {
    const m = fit(model({ description: 4000, fields: [[10, 1000]] }), 2000);
    expect(m.description!.cap).toBe(2000 - 40 - 1010);
    expect(m.fields[0]!.value.cap).toBe(L.fieldValue);
  });

  it('then field values, longest first (water-filling)', () => {
    // Description at its 256 floor, then 600 more to find among the values: the 1000-long one gives it all.
    const m = fit(model({ description: 4000, fields: [[10, 1000], [10, 200], [10, 50]] }), 40 + 256 + 30 + 400 + 200 + 50);
    expect(m.description!.cap).toBe(256);
    expect(m.fields.map((f) => f.value.cap)).toEqual([400, 200, 50]);
  });

  it('takes the description below 256 (to 64) before any value below 128', () => {
    const m = fit(model({ description: 4000, fields: [[10, 1000], [10, 1000]] }), 40 + 20 + 156 + 2 * 128);
    expect(m.fields.map((f) => f.value.cap)).toEqual([128, 128]);
    expect(m.description!.cap).toBe(156);
  });

  it('spreads a cut evenly over values of the same length', () => {
    const m = fit(model({ fields: [[10, 1000], [10, 1000], [10, 1000]] }), 40 + 30 + 1500);
    expect(m.fields.map((f) => f.value.cap)).toEqual([500, 500, 500]);
  });

  it('drops a description cut to nothing, but never takes a required text below one character', () => {
    const m = fit(model({ title: 256, description: 4096, footer: 2048, fields: Array.from({ length: 25 }, () => [256, 1024] as [number, number]) }), 60);
    expect(m.description).toBeUndefined();
    const e = toEmbed(m);
    expect(e.description).toBeUndefined();
    expect(embedLength(e)).toBeLessThanOrEqual(60);
    for (const text of [e.title!, e.footer!.text, ...e.fields!.flatMap((f) => [f.name, f.value])]) expect(text.length).toBeGreaterThan(0);
  });

  it('shows each cut with its own marker when the embed is built', () => {
    const e = toEmbed(fit(model({ title: 256, description: 3000 }), 1000));
    expect(e.description).toMatch(/…\[\d+ chars cut\]…/);
    expect(e.title).toBe('T'.repeat(256));
  });
});

describe('fairShare: one budget among several embeds', () => {
  it('gives everything when all fit', () => {
    expect(fairShare([100, 200, 300], 6000)).toBe(300);
  });

  it('lets small embeds keep everything and cuts the largest to the same cap', () => {
    const lengths = [100, 5000, 5000];
    const cap = fairShare(lengths, 6000);
    expect(cap).toBe(2950);
    expect(lengths.reduce((s, n) => s + Math.min(n, cap), 0)).toBe(6000);
  });

  it('is the largest cap that fits, never over the total', () => {
    for (const lengths of [[6000, 6000, 6000], [1, 2, 3, 7000], Array.from({ length: 10 }, (_, i) => 600 + i * 97)]) {
      const cap = fairShare(lengths, 6000);
      const used = (c: number) => lengths.reduce((s, n) => s + Math.min(n, c), 0);
      expect(used(cap)).toBeLessThanOrEqual(6000);
      if (cap < Math.max(...lengths)) expect(used(cap + 1)).toBeGreaterThan(6000);
    }
  });
});

const alert = (over: Partial<StatefulAlert> = {}): StatefulAlert => ({ id: 5, service: 's', severity: 'P2', title: 't', status: 'firing', receivedAt: 0, ...over });
const ids = (a: StatefulAlert) => cardButtons(a).flatMap((r) => r.components.map((c) => c.custom_id));

describe('buttons: which ones a card offers, and their custom ids', () => {
  it('firing: Acknowledge, Resolve, Mute; acknowledged: Resolve only; resolved or retracted: none', () => {
    expect(ids(alert())).toEqual(['herald:ack:5', 'herald:resolve:5', 'herald:mute:5']);
    expect(ids(alert({ acknowledgedAt: 1 }))).toEqual(['herald:resolve:5']);
    expect(cardButtons(alert({ status: 'resolved' }))).toEqual([]);
    expect(cardButtons(alert({ resolvedAt: 1 }))).toEqual([]);
    expect(cardButtons(alert({ retractedAt: 1 }))).toEqual([]);
  });

  it('reads back every id it builds, within Discord’s 100 characters', () => {
    for (const action of ['ack', 'resolve', 'mute'] as const) {
      for (const alertId of [1, 42, 999_999_999_999_999]) {
        const id = buttonId(action, alertId);
        expect(id.length).toBeLessThanOrEqual(L.customId);
        expect(parseButtonId(id)).toEqual({ action, alertId });
      }
    }
  });

  it('refuses ids that are not its own', () => {
    for (const id of ['herald:drop:5', 'herald:ack:', 'herald:ack:x5', 'herald:ack:5 ', 'other:ack:5', 'herald:ack:1234567890123456', 'HERALD:ack:5']) {
      expect(parseButtonId(id)).toBeUndefined();
    }
  });
});

describe('alertMessage: the envelope around a card', () => {
  const embeds = [{ title: 'x' }];

  it('pings nobody, and is silent only when every alert is P3', () => {
    expect(alertMessage([alert({ severity: 'P3' })], embeds, 'Herald')).toEqual({ embeds, allowed_mentions: { parse: [] }, username: 'Herald', flags: SUPPRESS_NOTIFICATIONS });
    expect(alertMessage([alert({ severity: 'P3' }), alert({ severity: 'P1' })], embeds, 'Herald').flags).toBeUndefined();
  });

  it('sends a name Discord would refuse as no name at all (the webhook’s own), and cuts a long one to 80', () => {
    expect(alertMessage([alert()], embeds, 'My Discord bot').username).toBeUndefined();
    expect(alertMessage([alert()], embeds, '   ').username).toBeUndefined();
    expect(alertMessage([alert()], embeds, 'h'.repeat(200)).username).toHaveLength(L.username);
  });
});

describe('truncateEnd', () => {
  it('keeps short text, else ends with … within max, never splitting an escape', () => {
    expect(truncateEnd('abc', 3)).toBe('abc');
    expect(truncateEnd('abcdef', 4)).toBe('abc…');
    expect(truncateEnd('ab\\*cd', 4)).toBe('ab…');
    expect(truncateEnd('abc', 0)).toBe('');
  });
});

describe('Discord ids', () => {
  it('are 17 to 20 digits, nothing else', () => {
    expect(isDiscordId('1'.repeat(16))).toBe(false);
    expect(isDiscordId('1'.repeat(17))).toBe(true);
    expect(isDiscordId('1'.repeat(20))).toBe(true);
    expect(isDiscordId('1'.repeat(21))).toBe(false);
    expect(isDiscordId(' 12345678901234567')).toBe(false);
    expect(isDiscordId('1234567890123456a')).toBe(false);
    expect(DISCORD_ID.test('123456789012345678')).toBe(true);
  });

  it('are refused in a request body with one plain sentence', () => {
    const r = discordIdSchema.safeParse('general');
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toBe('must be a Discord id (17 to 20 digits)');
  });
});
