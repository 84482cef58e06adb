import { describe, expect, it } from 'vitest';
import { renderIncidentCard, renderIncidentPage } from '../src/cards/incident-card.js';
import { embedLength, MESSAGE_LIMITS } from '../src/discord/limits.js';
import type { StatefulAlert } from '../src/domain/alert-state.js';

/** Pure rendering of an incident's page and of its card's mute state (the e2e tests are test/incident-pages.test.ts). */
const T0 = Date.UTC(2026, 11, 1, 9, 0, 0);
const member = (id: number, over: Partial<StatefulAlert> = {}): StatefulAlert => ({ id, service: `svc-${id}`, severity: 'P3', title: `member ${id}`, status: 'firing', receivedAt: T0 + id * 1000, incidentId: 1, ...over });
const ids = (m: { components?: unknown }) => JSON.stringify(m.components ?? []).match(/herald:[a-z-]+:\d+/g) ?? [];

describe("an incident card's mute state (pure)", () => {
  it('says until when the group is muted and drops only the Mute button; resolved, it says nothing of the mute', () => {
    const until = T0 + 3_600_000;
    const card = renderIncidentCard({ id: 9, title: 'db' }, [member(1), member(2)], { username: 'Herald', buttons: true, mutedUntil: until });
    expect(card.embeds[0]!.description).toContain(`🔕 Muted until <t:${until / 1000}:f>`);
    expect(ids(card)).toEqual(['herald:incident-ack:9', 'herald:incident-resolve:9']);
    const unmuted = renderIncidentCard({ id: 9, title: 'db' }, [member(1), member(2)], { username: 'Herald', buttons: true, mutedUntil: null });
    expect(unmuted.embeds[0]!.description).not.toContain('Muted');
    expect(ids(unmuted)).toEqual(['herald:incident-ack:9', 'herald:incident-resolve:9', 'herald:incident-mute:9']);
    const resolved = renderIncidentCard({ id: 9, title: 'db' }, [member(1, { status: 'resolved', resolvedAt: T0 })], { username: 'Herald', buttons: true, mutedUntil: until });
    expect(resolved.embeds[0]!.description).not.toContain('Muted');
  });
});

describe("an incident's page (pure)", () => {
  const many = Array.from({ length: 400 }, (_, i) => member(i + 1, { title: 'x'.repeat(300), severity: i === 3 ? 'P1' : 'P3' }));

  it('with its card in the channel: short, no buttons, no member lines, worst severity in its title', () => {
    const page = renderIncidentPage({ id: 9, title: 'db' }, many, { username: 'Herald', buttons: true, cardHere: true, reason: { kind: 'escalation' } });
    const e = page.embeds[0]!;
    expect(e.title).toBe('[P1] db');
    expect(e.footer?.text).toBe('page for incident #9');
    expect(e.description).toContain('Escalation: incident #9 is not acknowledged.');
    expect(e.description).toContain('**400** firing');
    expect(e.description!.length).toBeLessThan(500);
    expect(page.components).toBeUndefined();
    expect(page.flags).toBeUndefined(); // a P1 among them: not silent
  });

  it('without it: the incident card with every member it can fit, its buttons, the reason first, within every limit', () => {
    const risen = many[3]!;
    const page = renderIncidentPage({ id: 9, title: 'db' }, many, { username: 'Herald', buttons: true, cardHere: false, reason: { kind: 'raised', member: risen } });
    const e = page.embeds[0]!;
    expect(e.description!.startsWith(`⬆️ #4 rose to \`P1\`: `)).toBe(true);
    expect(e.description).toMatch(/… and \*\*\d+ more\*\*/);
    expect(e.description!.length).toBeLessThanOrEqual(MESSAGE_LIMITS.embedDescription);
    expect(embedLength(e)).toBeLessThanOrEqual(MESSAGE_LIMITS.embedsTotal);
    expect(e.footer?.text).toBe('incident #9 · 400 alerts · since');
    expect(ids(page)).toEqual(['herald:incident-ack:9', 'herald:incident-resolve:9', 'herald:incident-mute:9']);
  });
});
