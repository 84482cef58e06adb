import { describe, expect, it } from 'vitest';
import { incidentButtons } from '../src/cards/buttons.js';
import { fitMembers, memberLine, renderIncidentCard } from '../src/cards/incident-card.js';
import { embedLength, MESSAGE_LIMITS } from '../src/discord/limits.js';
import type { StatefulAlert } from '../src/domain/alert-state.js';
import { incidentOf, incidentState, keyFromLabels } from '../src/domain/incidents.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const member = (id: number, over: Partial<StatefulAlert> = {}): StatefulAlert => ({ id, service: `svc-${id}`, severity: 'P2', title: `member ${id}`, status: 'firing', receivedAt: T0 + id * 1000, incidentId: 1, ...over });

describe('the incident key (pure)', () => {
  it("a route's group_by: the values of those labels, in name order; a missing label counts as empty; [] or null: no grouping", () => {
    const a = keyFromLabels(3, ['cluster', 'alertname'], { alertname: 'NodeDown', cluster: 'eu1', instance: 'n1' });
    const b = keyFromLabels(3, ['alertname', 'cluster'], { alertname: 'NodeDown', cluster: 'eu1', instance: 'n2' });
    expect(a).toEqual(b);
    expect(a).toEqual({ key: 'route:3:[["alertname","NodeDown"],["cluster","eu1"]]', title: 'alertname=NodeDown, cluster=eu1' });
    expect(keyFromLabels(3, ['cluster'], { cluster: 'us1' })!.key).not.toBe(keyFromLabels(3, ['cluster'], { cluster: 'eu1' })!.key);
    // Another route with the same labels is another group.
    expect(keyFromLabels(4, ['cluster'], { cluster: 'eu1' })!.key).not.toBe(keyFromLabels(3, ['cluster'], { cluster: 'eu1' })!.key);
    expect(keyFromLabels(3, ['team'], {})).toEqual({ key: 'route:3:[["team",""]]', title: '(no labels)' });
    expect(keyFromLabels(3, [], { a: '1' })).toBeUndefined();
    expect(keyFromLabels(3, null, { a: '1' })).toBeUndefined();
  });

  it("Alertmanager's ['...']: every label, so only identical label sets group", () => {
    const all = (l: Record<string, string>) => keyFromLabels(1, ['...'], l)!.key;
    expect(all({ b: '2', a: '1' })).toBe(all({ a: '1', b: '2' }));
    expect(all({ a: '1', b: '2' })).not.toBe(all({ a: '1', b: '3' }));
  });

  it("the sender's group comes first, then a native group, then the first grouping route; none: no incident", () => {
    const routes = [{ id: 1, groupBy: null }, { id: 2, groupBy: ['team'] }, { id: 3, groupBy: ['cluster'] }];
    const labels = { team: 'db', cluster: 'eu1' };
    expect(incidentOf({ sender_group: { key: '{}:{a="b"}', title: 'a=b' }, group: 'g', labels }, routes)).toEqual({ key: 'am:{}:{a="b"}', title: 'a=b' });
    expect(incidentOf({ group: 'db-outage', labels }, routes)).toEqual({ key: 'group:db-outage', title: 'db-outage' });
    expect(incidentOf({ labels }, routes)!.key).toBe('route:2:[["team","db"]]');
    expect(incidentOf({ labels }, [{ id: 1, groupBy: [] }])).toBeUndefined();
    expect(incidentOf({}, [])).toBeUndefined();
  });
});

describe("an incident's state (pure)", () => {
  it('resolves when its last firing member resolves; acknowledged when every firing member is; worst firing severity', () => {
    const s = incidentState([member(1, { severity: 'P3' }), member(2, { severity: 'P1', acknowledgedAt: T0 + 5 }), member(3, { status: 'resolved', resolvedAt: T0 + 9, severity: 'P0' })]);
    expect(s).toMatchObject({ firing: 2, resolved: 1, acknowledged: 1, worst: 'P1', isResolved: false, isAcknowledged: false, acknowledgedAt: null });
    const acked = incidentState([member(1, { acknowledgedAt: T0 + 1 }), member(2, { acknowledgedAt: T0 + 7 }), member(3, { status: 'resolved', resolvedAt: T0 })]);
    expect(acked).toMatchObject({ isAcknowledged: true, acknowledgedAt: T0 + 7 });
    const done = incidentState([member(1, { status: 'resolved', resolvedAt: T0 + 3 }), member(2, { status: 'resolved', resolvedAt: T0 + 8 }), member(3, { retractedAt: T0 })]);
    expect(done).toMatchObject({ firing: 0, resolved: 2, retracted: 1, isResolved: true, resolvedAt: T0 + 8 });
  });
});

describe("the incident card's fitting (pure)", () => {
  it('keeps every member while they fit; otherwise the worst and newest, and a line saying how many more', () => {
    const few = [member(1), member(2, { severity: 'P0' }), member(3, { status: 'resolved', resolvedAt: T0 + 1 })];
    const all = fitMembers(few, 4000, (n) => `and ${n} more`);
    expect(all.left).toBe(0);
    // Worst first (the P0), then newest among the same severity, resolved last.
    expect(all.lines.map((l) => /#(\d+)$/.exec(l)![1])).toEqual(['2', '1', '3']);
    const many = Array.from({ length: 300 }, (_, i) => member(i + 1, { title: 'y'.repeat(120) }));
    const cut = fitMembers(many, 4000, (n) => `and ${n} more`);
    expect(cut.left).toBeGreaterThan(0);
    expect(cut.lines.join('\n').length + `\nand ${cut.left} more`.length).toBeLessThanOrEqual(4000);
    expect(/#(\d+)$/.exec(cut.lines[0]!)![1]).toBe('300'); // the newest first among equals
  });

  it('renders within every limit with hundreds of long members; colour and title follow the worst firing member; buttons while firing', () => {
    const many = Array.from({ length: 500 }, (_, i) => member(i + 1, { title: `**${'z'.repeat(900)}** @everyone`, service: 's'.repeat(300), severity: i === 7 ? 'P1' : 'P3' }));
    const card = renderIncidentCard({ id: 9, title: 'alertname=Fleet, cluster=eu1' }, many, { username: 'Herald', buttons: true });
    const e = card.embeds[0]!;
    expect(embedLength(e)).toBeLessThanOrEqual(MESSAGE_LIMITS.embedsTotal);
    expect(e.description!.length).toBeLessThanOrEqual(MESSAGE_LIMITS.embedDescription);
    expect(e.title).toBe('[P1] alertname=Fleet, cluster=eu1');
    expect(e.description).toMatch(/… and \*\*\d+ more\*\*/);
    expect(card.allowed_mentions).toEqual({ parse: [] });
    expect(card.components).toEqual(incidentButtons(9, { firing: 500, acknowledged: 0 }));
    const resolved = renderIncidentCard({ id: 9, title: 't' }, [member(1, { status: 'resolved', resolvedAt: T0 })], { username: 'Herald', buttons: true });
    expect(resolved.embeds[0]!.title).toBe('[RESOLVED] t');
    expect(resolved.components).toEqual([]);
  });

  it('a member line: severity, service, title, since as a Discord timestamp, its state, #id', () => {
    expect(memberLine(member(4))).toBe(`\`P2\` **svc-4** · member 4 · since <t:${(T0 + 4000) / 1000}:R> · #4`);
    expect(memberLine(member(4, { acknowledgedAt: T0 }))).toMatch(/ · acked · #4$/);
    expect(memberLine(member(4, { status: 'resolved', resolvedAt: T0 }))).toBe(`~~\`P2\` **svc-4** · member 4~~ · resolved <t:${T0 / 1000}:R> · #4`);
  });
});
