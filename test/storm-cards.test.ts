import { describe, expect, it } from 'vitest';
import { COMPACT_FOOTER, compactLine, packCompact, renderCompactEdit, stormSummaryCard } from '../src/cards/storm.js';
import { embedLength, MESSAGE_LIMITS as L } from '../src/discord/limits.js';
import type { WebhookMessage } from '../src/discord/message.js';
import type { StatefulAlert } from '../src/domain/alert-state.js';
import { checkMessage } from '../src/emulator/validate.js';

/** Storm mode's messages (src/cards/storm.ts): within every Discord limit, sender text shown as text. */
const base = (id: number, over: Partial<StatefulAlert> = {}): StatefulAlert => ({
  id,
  service: 'checkout',
  severity: 'P3',
  title: `Disk usage above 90% on node-${id} in eu-west-1 (partition /var/lib/postgresql/data)`,
  status: 'firing',
  receivedAt: 1_700_000_000_000,
  ...over,
});

function expectAccepted(m: WebhookMessage) {
  const checked = checkMessage(m, { mode: 'create', applicationOwned: true, withComponents: false });
  expect(checked.ok, JSON.stringify(checked)).toBe(true);
  expect(m.embeds.length).toBeLessThanOrEqual(L.embeds);
  expect(m.embeds.reduce((n, e) => n + embedLength(e), 0)).toBeLessThanOrEqual(L.embedsTotal);
  for (const e of m.embeds) expect((e.description ?? '').length).toBeLessThanOrEqual(L.embedDescription);
  expect(m.allowed_mentions).toEqual({ parse: [] });
}

describe('compact storm messages', () => {
  it('one line per alert: severity, service, title, #id last', () => {
    expect(compactLine(base(7, { title: 'Error rate high' }))).toBe('`P3` **checkout** · Error rate high · #7');
  });

  it('as many lines as fit: 50–80 of real length, within 4096 per description, 6000 in all, 10 embeds', () => {
    const { taken, message } = packCompact(Array.from({ length: 500 }, (_, i) => base(100_000 + i)), 'Herald');
    expect(taken).toBeGreaterThanOrEqual(50);
    expect(taken).toBeLessThanOrEqual(80);
    expectAccepted(message);
    expect(message.embeds.at(-1)!.footer!.text).toBe(COMPACT_FOOTER);
    const lines = message.embeds.flatMap((e) => e.description!.split('\n'));
    expect(lines).toHaveLength(taken);
    expect(lines.map((l) => Number(/#(\d+)$/.exec(l)![1]))).toEqual(Array.from({ length: taken }, (_, i) => 100_000 + i));
  });

  it('short lines fill several embeds, never past 10 nor 6000 characters', () => {
    const { taken, message } = packCompact(Array.from({ length: 1000 }, (_, i) => base(i + 1, { title: 'x', service: 's' })), 'Herald');
    expectAccepted(message);
    expect(message.embeds.length).toBeGreaterThan(1);
    expect(taken).toBeGreaterThan(100);
  });

  it('the longest titles and services are cut, and always at least one line goes', () => {
    const { taken, message } = packCompact([base(1, { title: 'T'.repeat(5000), service: 'S'.repeat(300) })], 'Herald');
    expect(taken).toBe(1);
    expectAccepted(message);
    expect(message.embeds[0]!.description!.length).toBeLessThan(200);
  });

  it('sender text cannot ping, fake a line or break the markdown', () => {
    const line = compactLine(base(9, { title: '@everyone <@&123> **bold**\n`P0` fake · #1', service: '<@1> _x_' }));
    expect(line.split('\n')).toHaveLength(1);
    expect(line).not.toMatch(/(^|[^\\])@everyone/);
    expect(line).not.toContain('<@&123>');
    expect(line).toContain('\\*\\*bold\\*\\*');
    expect(line.endsWith(' · #9')).toBe(true);
  });

  it('an edit re-renders each line as its alert is now; a deleted retraction drops its line; none left: delete', () => {
    const alerts = [base(1), base(2, { acknowledgedAt: 5, acknowledgedBy: 'ana' }), base(3, { status: 'resolved', resolvedAt: 6 }), base(4, { retractedAt: 7, retractMode: 'delete' })];
    const edit = renderCompactEdit(alerts, 'Herald')!;
    const lines = edit.embeds[0]!.description!.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/ · acked · #2$/);
    expect(lines[2]).toMatch(/^~~.*~~ · resolved · #3$/);
    expect(renderCompactEdit([base(5, { retractedAt: 1, retractMode: 'delete' })], 'Herald')).toBeUndefined();
  });
});

describe('the storm summary card', () => {
  const summary = {
    stormId: 3,
    startedAt: 1_700_000_000_000,
    endedAt: null,
    total: 812,
    bySeverity: { P2: 12, P3: 800 },
    byService: Array.from({ length: 14 }, (_, i) => ({ service: i === 0 ? '@everyone **svc**' : `service-${i}`, count: 100 - i })),
    firstArrivalAt: 1_700_000_000_000,
    lastArrivalAt: 1_700_000_030_000,
    messages: 12,
    waiting: 188,
  };

  it('counts by severity and service, first and last arrival, how to see every alert; notifies (once per storm)', () => {
    const card = stormSummaryCard(summary, 'Herald');
    expectAccepted(card);
    const e = card.embeds[0]!;
    expect(e.title).toBe('Storm in progress: 812 alerts so far');
    expect(e.description).toContain('/alert show <id>');
    const fields = Object.fromEntries(e.fields!.map((f) => [f.name, f.value]));
    expect(fields['By severity']).toBe('`P2` 12 · `P3` 800');
    expect(fields['First / last arrival']).toBe('<t:1700000000:T> / <t:1700000030:T>');
    expect(fields['Still waiting']).toBe('188');
    expect(fields['By service']).toContain('… and 4 more services');
    expect(fields['By service']).not.toMatch(/(^|[^\\])@everyone/);
    expect(card.flags).toBeUndefined();
  });

  it('says when the storm is over', () => {
    const card = stormSummaryCard({ ...summary, endedAt: 1_700_000_060_000, waiting: 0 }, 'Herald');
    expectAccepted(card);
    expect(card.embeds[0]!.title).toBe('Storm over: 812 alerts in 12 storm messages');
    expect(card.embeds[0]!.description).toContain('The storm is over (<t:1700000060:T>)');
  });
});
