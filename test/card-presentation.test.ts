import { describe, expect, it } from 'vitest';
import { endedLine, renderAlertCard, renderEmbed, timestampMarkup } from '../src/cards/alert-card.js';
import { cardButtons } from '../src/cards/buttons.js';
import type { StatefulAlert } from '../src/domain/alert-state.js';
import { convertBody } from '../src/domain/adapters/index.js';
import { serviceOf } from '../src/domain/adapters/alertmanager.js';
import { withoutStatePrefix } from '../src/domain/adapters/common.js';

/** Pure: what a card says about when an alert ended and whether it is muted, and what the adapters take off titles (issue 10 §5). */
const START = Date.UTC(2026, 10, 24, 20, 0, 0);
const s = (ms: number) => ms / 1000;

function mk(over: Partial<StatefulAlert> = {}): StatefulAlert {
  return { id: 9, service: 'checkout', severity: 'P1', title: 'Checkout down', status: 'firing', receivedAt: START, ...over };
}
const field = (a: StatefulAlert, name: string) => renderEmbed(a).fields?.find((f) => f.name === name)?.value;
const ids = (a: StatefulAlert) => cardButtons(a).flatMap((r) => r.components.map((c) => c.custom_id));

describe('a resolved card says when the alert ended and how long it fired, as Discord timestamps', () => {
  it('Ended: the resolve time (absolute and relative), the duration and the start', () => {
    const end = START + (2 * 60 + 5) * 60_000;
    const a = mk({ status: 'resolved', resolvedAt: end, resolvedBy: 'bob' });
    expect(field(a, 'Ended')).toBe(`<t:${s(end)}:f> (<t:${s(end)}:R>) · fired for 2 h 05 min since <t:${s(START)}:f>`);
    // Right after the Status field, before the facts.
    expect(renderEmbed(a).fields!.map((f) => f.name).slice(0, 2)).toEqual(['Status', 'Ended']);
    // The embed's own timestamp stays the start: Discord shows it in each reader's time zone.
    expect(renderEmbed(a).timestamp).toBe(new Date(START).toISOString());
  });

  it('a reopened alert fired since its reopening; short and long durations read naturally', () => {
    const reopened = START + 3_600_000;
    expect(endedLine(mk({ status: 'resolved', reopenedAt: reopened, resolvedAt: reopened + 90_000 }))).toMatch(/fired for 2 min since <t:\d+:f>$/);
    expect(endedLine(mk({ status: 'resolved', reopenedAt: reopened, resolvedAt: reopened + 90_000 }))).toContain(`since <t:${s(reopened)}:f>`);
    expect(endedLine(mk({ status: 'resolved', resolvedAt: START + 42_000 }))).toContain('fired for 42 s');
    expect(endedLine(mk({ status: 'resolved', resolvedAt: START + 3 * 86_400_000 }))).toContain('fired for 3 d 0 h');
  });

  it('none while firing, acknowledged or retracted; the degraded form keeps it', () => {
    expect(field(mk(), 'Ended')).toBeUndefined();
    expect(field(mk({ acknowledgedAt: START + 1000, acknowledgedBy: 'a' }), 'Ended')).toBeUndefined();
    expect(endedLine(mk({ status: 'resolved', resolvedAt: START + 1000, retractedAt: START + 2000 }))).toBeUndefined();
    const degraded = renderAlertCard(mk({ status: 'resolved', resolvedAt: START + 60_000 }), { username: 'Herald', buttons: false, degraded: true });
    expect(degraded.embeds[0]!.description).toContain(`Ended <t:${s(START + 60_000)}:f>`);
  });
});

describe('a muted alert: the card says until when, and offers no Mute button', () => {
  it('firing and muted: Acknowledge and Resolve only, and a "Muted until" status line', () => {
    const until = START + 3_600_000;
    const a = mk({ mutedUntil: until });
    expect(ids(a)).toEqual(['herald:ack:9', 'herald:resolve:9']);
    expect(field(a, 'Status')).toBe(`Muted until <t:${s(until)}:f>`);
    expect(ids(mk())).toEqual(['herald:ack:9', 'herald:resolve:9', 'herald:mute:9']);
    // Acknowledged and muted: Resolve alone, as for any acknowledged alert.
    expect(ids(mk({ mutedUntil: until, acknowledgedAt: START + 1 }))).toEqual(['herald:resolve:9']);
    // Once resolved, the mute is no news on the card.
    expect(field(mk({ mutedUntil: until, status: 'resolved', resolvedAt: START + 5 }), 'Status')).not.toContain('Muted');
  });
});

describe("a field value that is exactly an ISO 8601 date-time shows as a Discord timestamp", () => {
  it("Alertmanager's startsAt, PagerDuty's timestamp; anything else stays sender text", () => {
    expect(timestampMarkup('2026-11-24T20:58:30.123Z')).toBe(`<t:${Math.floor(Date.parse('2026-11-24T20:58:30.123Z') / 1000)}:f> (<t:1795553910:R>)`);
    expect(timestampMarkup(' 2026-11-24T21:00:00+01:00 ')).toBe('<t:1795550400:f> (<t:1795550400:R>)');
    expect(timestampMarkup('0001-01-01T00:00:00Z')).toBeUndefined(); // Alertmanager's "no end"
    expect(timestampMarkup('2026-11-24')).toBeUndefined();
    expect(timestampMarkup('at 2026-11-24T20:58:30Z')).toBeUndefined();
    expect(timestampMarkup('<t:1:R>')).toBeUndefined();
    const a = mk({ fields: [{ name: 'Started', value: '2026-11-24T20:58:30Z' }, { name: 'Note', value: 'see <t:1:R> **now**' }] });
    expect(field(a, 'Started')).toBe('<t:1795553910:f> (<t:1795553910:R>)');
    // A sender's own timestamp markup is escaped like any sender text: only Herald writes markup.
    expect(field(a, 'Note')).not.toContain('<t:1:R>');
  });
});

describe("the adapters take a sender's [FIRING:n] / [RESOLVED] prefix off titles", () => {
  it('withoutStatePrefix: the prefix and the space after it, any case, once', () => {
    expect(withoutStatePrefix('[FIRING:3] HighLatency (checkout prod)')).toBe('HighLatency (checkout prod)');
    expect(withoutStatePrefix('[RESOLVED] HighLatency')).toBe('HighLatency');
    expect(withoutStatePrefix('[firing: 12]  Disk full')).toBe('Disk full');
    expect(withoutStatePrefix('Disk [FIRING:1] full')).toBe('Disk [FIRING:1] full');
    expect(withoutStatePrefix('[FIRING:2]')).toBe('[FIRING:2]');
    expect(withoutStatePrefix('[P1] Disk full')).toBe('[P1] Disk full');
  });

  it("PagerDuty: a summary from Alertmanager's PagerDuty template; its resolved card then reads [RESOLVED] HighLatency", () => {
    const r = convertBody('pagerduty', {
      event_action: 'trigger',
      dedup_key: 'am-group-1',
      payload: { summary: '[FIRING:3] HighLatency (checkout prod)', source: 'alertmanager', severity: 'critical' },
    });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const input = r.conversion.alerts[0]!.input;
    expect(input.title).toBe('HighLatency (checkout prod)');
    const card = renderEmbed(mk({ title: input.title, status: 'resolved', resolvedAt: START + 1000 }));
    expect(card.title).toBe('[RESOLVED] HighLatency (checkout prod)');
  });

  it('Alertmanager: a summary annotation with the prefix', () => {
    const r = convertBody('alertmanager', {
      version: '4',
      groupKey: '{}:{}',
      status: 'firing',
      receiver: 'herald',
      alerts: [{ status: 'firing', labels: { alertname: 'HighLatency', job: 'checkout' }, annotations: { summary: '[FIRING:1] p99 above 2 s' }, startsAt: '2026-11-24T20:58:30Z', fingerprint: 'ab12' }],
    });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.conversion.alerts[0]!.input.title).toBe('HighLatency: p99 above 2 s');
  });
});

describe("which Alertmanager label names the service", () => {
  it('service, job, the Kubernetes app labels, then the receiver; blank labels are skipped', () => {
    expect(serviceOf({ service: 'checkout', job: 'checkout-api' }, 'herald')).toBe('checkout');
    expect(serviceOf({ job: 'node', instance: 'db-1:9100' }, 'herald')).toBe('node');
    expect(serviceOf({ app_kubernetes_io_name: 'search', app: 'legacy' }, 'herald')).toBe('search');
    expect(serviceOf({ app: 'billing', namespace: 'prod' }, 'herald')).toBe('billing');
    expect(serviceOf({ service: ' ', alertname: 'Watchdog', instance: 'x:1' }, 'herald')).toBe('herald');
  });
});
