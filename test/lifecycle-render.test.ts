import { describe, expect, it } from 'vitest';
import { embedLength, MESSAGE_LIMITS as L } from '../src/discord/limits.js';
import { renderAlertCard, RESOLVED_COLOR, RETRACTED_COLOR, SEVERITY_COLOR } from '../src/cards/alert-card.js';
import type { StatefulAlert } from '../src/domain/alert-state.js';
import { cardButtons, parseButtonId } from '../src/cards/buttons.js';
import { packMessage } from '../src/cards/pack.js';

function mk(over: Partial<StatefulAlert> = {}): StatefulAlert {
  return {
    id: 7,
    service: 'checkout',
    severity: 'P1',
    title: 'Checkout latency high',
    description: 'p99 above 2s',
    status: 'firing',
    environment: 'prod',
    dedupKey: 'checkout-latency',
    labels: { team: 'payments' },
    fields: null,
    links: null,
    receivedAt: Date.UTC(2024, 0, 2, 3, 4, 5),
    ...over,
  };
}

/** As large as ingest allows: every text at its maximum. */
function huge(over: Partial<StatefulAlert> = {}): StatefulAlert {
  const labels: Record<string, string> = {};
  for (let i = 0; i < 64; i++) labels[`label_${i}_${'k'.repeat(100)}`] = 'v'.repeat(1024);
  return mk({
    title: 'T'.repeat(1000),
    description: 'D'.repeat(20_000),
    service: 'S'.repeat(200),
    environment: 'E'.repeat(100),
    dedupKey: 'K'.repeat(255),
    labels,
    fields: Array.from({ length: 50 }, (_, i) => ({ name: `N${i}`.padEnd(1000, 'n'), value: 'V'.repeat(5000) })),
    links: Array.from({ length: 20 }, (_, i) => ({ title: 'L'.repeat(200), url: `https://example.com/${i}/${'p'.repeat(500)}` })),
    ...over,
  });
}

const ids = (m: { components?: { components: { custom_id: string }[] }[] }) => (m.components ?? []).flatMap((r) => r.components.map((c) => c.custom_id));
const total = (m: { embeds: Parameters<typeof embedLength>[0][] }) => m.embeds.reduce((n, e) => n + embedLength(e), 0);
const ACK_AT = Date.UTC(2024, 0, 2, 4, 0, 0);

describe('alert card state and buttons', () => {
  it('offers Acknowledge, Resolve and Mute 1h on a firing alert, only on an application-owned single-alert card', () => {
    const card = renderAlertCard(mk(), { username: 'Herald', buttons: true });
    expect(ids(card)).toEqual(['herald:ack:7', 'herald:resolve:7', 'herald:mute:7']);
    expect(card.components![0]!.components.map((c) => c.label)).toEqual(['Acknowledge', 'Resolve', 'Mute 1h']);
    expect(renderAlertCard(mk(), { username: 'Herald', buttons: false }).components).toBeUndefined();
    // Packed messages carry no components at all.
    expect(packMessage([mk(), mk({ id: 8 })], { username: 'Herald' }).message.components).toBeUndefined();
    for (const id of ids(card)) {
      expect(id.length).toBeLessThanOrEqual(L.customId);
      expect(parseButtonId(id)).toMatchObject({ alertId: 7 });
    }
    expect(parseButtonId('herald:drop:7')).toBeUndefined();
  });

  it('shows who acknowledged and when, and keeps Resolve only', () => {
    const a = mk({ acknowledgedAt: ACK_AT, acknowledgedBy: 'alice', acknowledgedByUser: '123456789012345678' });
    const card = renderAlertCard(a, { username: 'Herald', buttons: true });
    const e = card.embeds[0]!;
    expect(e.fields![0]).toEqual({ name: 'Status', value: `Acknowledged by <@123456789012345678> <t:${ACK_AT / 1000}:R>` });
    expect(e.color).toBe(SEVERITY_COLOR.P1);
    expect(ids(card)).toEqual(['herald:resolve:7']);
    // Without a Discord user (admin API), the name.
    expect(renderAlertCard(mk({ acknowledgedAt: ACK_AT, acknowledgedBy: 'alice' }), { username: 'Herald', buttons: false }).embeds[0]!.fields![0]!.value).toMatch(/^Acknowledged by alice /);
  });

  it('resolved: resolved colour, by whom, buttons removed with an empty components list', () => {
    const card = renderAlertCard(mk({ status: 'resolved', resolvedAt: ACK_AT, resolvedBy: 'bob', acknowledgedAt: ACK_AT - 1000, acknowledgedBy: 'alice' }), { username: 'Herald', buttons: true });
    const e = card.embeds[0]!;
    expect(e.color).toBe(RESOLVED_COLOR);
    expect(e.title).toBe('[RESOLVED] Checkout latency high');
    expect(e.fields![0]!.value).toBe(`Resolved by bob <t:${ACK_AT / 1000}:R>\nAcknowledged by alice <t:${ACK_AT / 1000 - 1}:R>`);
    expect(card.components).toEqual([]);
    expect(cardButtons(mk({ status: 'resolved' }))).toEqual([]);
  });

  it('retracted (strike): struck title, grey, reason; a cut title keeps its closing markers', () => {
    const card = renderAlertCard(mk({ retractedAt: ACK_AT, retractMode: 'strike', retractReason: 'sent by mistake' }), { username: 'Herald', buttons: true });
    const e = card.embeds[0]!;
    expect(e.title).toBe('~~[RETRACTED] Checkout latency high~~');
    expect(e.color).toBe(RETRACTED_COLOR);
    expect(e.fields![0]!.value).toBe(`Retracted <t:${ACK_AT / 1000}:R>: sent by mistake`);
    expect(card.components).toEqual([]);
    const long = renderAlertCard(huge({ retractedAt: ACK_AT, retractMode: 'strike', retractReason: 'R'.repeat(500) }), { username: 'Herald', buttons: true });
    const t = long.embeds[0]!.title!;
    expect(t.length).toBeLessThanOrEqual(L.embedTitle);
    expect(t.startsWith('~~') && t.endsWith('~~')).toBe(true);
  });

  it('stays within every limit at the largest sizes, with the state line and components present', () => {
    for (const state of [
      {},
      { acknowledgedAt: ACK_AT, acknowledgedBy: 'A'.repeat(100), acknowledgedByUser: '123456789012345678' },
      { status: 'resolved' as const, resolvedAt: ACK_AT, resolvedBy: 'B'.repeat(100), acknowledgedAt: ACK_AT, acknowledgedBy: 'A'.repeat(100) },
      { retractedAt: ACK_AT, retractMode: 'strike' as const, retractReason: 'R'.repeat(500) },
    ]) {
      for (const degraded of [false, true]) {
        const card = renderAlertCard(huge(state), { username: 'Herald', buttons: true, degraded });
        expect(card.components).toBeDefined();
        expect(total(card)).toBeLessThanOrEqual(L.embedsTotal);
        const e = card.embeds[0]!;
        expect(e.title!.length).toBeLessThanOrEqual(L.embedTitle);
        expect(e.description?.length ?? 0).toBeLessThanOrEqual(L.embedDescription);
        expect(e.fields?.length ?? 0).toBeLessThanOrEqual(L.embedFields);
        for (const f of e.fields ?? []) {
          expect(f.name.length).toBeLessThanOrEqual(L.fieldName);
          expect(f.value.length).toBeLessThanOrEqual(L.fieldValue);
          expect(f.value.length).toBeGreaterThan(0);
        }
        expect(card.components!.length).toBeLessThanOrEqual(L.actionRows);
        for (const row of card.components!) expect(row.components.length).toBeLessThanOrEqual(L.buttonsPerRow);
        if (!degraded && Object.keys(state).length) expect(e.fields![0]!.name).toBe('Status');
      }
    }
  });

  it('packs stateful alerts within 6000 in total', () => {
    const alerts = Array.from({ length: 10 }, (_, i) => huge({ id: i + 1, acknowledgedAt: ACK_AT, acknowledgedBy: 'x' }));
    const { taken, message } = packMessage(alerts, { username: 'Herald' });
    expect(taken).toBeGreaterThanOrEqual(1);
    expect(total(message)).toBeLessThanOrEqual(L.embedsTotal);
  });
});
