import { describe, expect, it } from 'vitest';
import { embedLength, MESSAGE_LIMITS } from '../src/discord/limits.js';
import { renderEmbed, SEVERITY_COLOR } from '../src/cards/alert-card.js';
import type { StatefulAlert } from '../src/domain/alert-state.js';
import { cardButtons } from '../src/cards/buttons.js';

const base: StatefulAlert = { id: 7, service: 'db', severity: 'P2', title: 'Disk full', status: 'firing', receivedAt: Date.parse('2026-11-24T10:00:00Z') };
const field = (a: StatefulAlert, name: string) => renderEmbed(a).fields?.find((f) => f.name === name)?.value;

describe('the card of a grouped alert', () => {
  it('shows how often it fired, first (absolute) and last (relative) seen; nothing for a single occurrence', () => {
    expect(field(base, 'Fired')).toBeUndefined();
    expect(field({ ...base, occurrences: 1 }, 'Fired')).toBeUndefined();
    const last = Date.parse('2026-11-24T12:30:00Z');
    expect(field({ ...base, occurrences: 12, lastSeenAt: last }, 'Fired')).toBe(`12 times · first <t:${base.receivedAt / 1000}:f> · last <t:${last / 1000}:R>`);
    // The degraded form keeps it in its one line of facts.
    expect(renderEmbed({ ...base, occurrences: 3, lastSeenAt: last }, { degraded: true }).description).toMatch(/^Fired 3 times/);
  });

  it('a reopened alert says so, is firing-coloured and has its buttons back; once resolved again the line goes', () => {
    const reopened = { ...base, occurrences: 2, reopenedAt: Date.parse('2026-11-24T11:00:00Z') };
    const e = renderEmbed(reopened);
    expect(e.color).toBe(SEVERITY_COLOR.P2);
    expect(e.fields?.[0]).toEqual({ name: 'Status', value: `Reopened <t:${reopened.reopenedAt / 1000}:R>` });
    expect(cardButtons(reopened)[0]!.components.map((c) => c.label)).toEqual(['Acknowledge', 'Resolve', 'Mute 1h']);
    const resolved = { ...reopened, status: 'resolved' as const, resolvedAt: reopened.reopenedAt + 60_000, resolvedBy: 'am' };
    expect(renderEmbed(resolved).fields?.[0]!.value).toMatch(/^Resolved by am/);
  });

  it('stays within the limits with every field in use', () => {
    const many = { ...base, occurrences: 99_999, lastSeenAt: base.receivedAt, description: 'x'.repeat(10_000), fields: Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, value: 'v'.repeat(1000) })) };
    const e = renderEmbed(many);
    expect(e.fields!.length).toBeLessThanOrEqual(MESSAGE_LIMITS.embedFields);
    expect(embedLength(e)).toBeLessThanOrEqual(MESSAGE_LIMITS.embedsTotal);
    expect(e.fields!.some((f) => f.name === 'Fired')).toBe(true);
  });
});
