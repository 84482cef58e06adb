import { describe, expect, it } from 'vitest';
import { type Embed, embedLength, FORBIDDEN_USERNAME, MESSAGE_LIMITS as L, SUPPRESS_NOTIFICATIONS } from '../src/discord/limits.js';
import { senderMarkdown } from '../src/discord/text.js';
import { renderEmbed, RESOLVED_COLOR, SEVERITY_COLOR } from '../src/cards/alert-card.js';
import type { RenderableAlert, StatefulAlert } from '../src/domain/alert-state.js';
import { packMessage, renderMessage } from '../src/cards/pack.js';
import type { WebhookMessage } from '../src/discord/message.js';
import { truncateMiddle } from '../src/discord/truncate.js';

const OPTS = { username: 'Herald' };

function mk(over: Partial<RenderableAlert> = {}): RenderableAlert {
  return {
    id: 42,
    service: 'checkout',
    severity: 'P1',
    title: 'Checkout latency high',
    description: 'p99 above 2s for 5 minutes',
    status: 'firing',
    environment: 'prod',
    dedupKey: 'checkout-latency',
    labels: { region: 'eu-west-1', team: 'payments' },
    fields: [{ name: 'Runbook step', value: 'restart the pods' }],
    links: [{ title: 'Dashboard', url: 'https://grafana.example/d/1' }],
    receivedAt: Date.UTC(2024, 0, 2, 3, 4, 5),
    ...over,
  };
}

/** An alert as large as Herald's ingest lets it be (domain/alert.ts limits), and then some. */
function huge(id: number, over: Partial<RenderableAlert> = {}): RenderableAlert {
  const labels: Record<string, string> = {};
  for (let i = 0; i < 64; i++) labels[`label_${i}_${'k'.repeat(100)}`] = 'v'.repeat(1024);
  return mk({
    id,
    title: 'T'.repeat(1000),
    description: 'D'.repeat(20_000),
    dedupKey: 'k'.repeat(255),
    environment: 'e'.repeat(100),
    labels,
    fields: Array.from({ length: 50 }, (_, i) => ({ name: `n${i}`.padEnd(1000, 'N'), value: `v${i}`.padEnd(5000, 'V') })),
    links: Array.from({ length: 20 }, (_, i) => ({ title: 'L'.repeat(200), url: `https://example.com/${i}/${'p'.repeat(300)}` })),
    ...over,
  });
}

const hasLoneSurrogate = (s: string) => /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

/** Every check Discord makes on an execute-webhook body that render is responsible for (MESSAGE_LIMITS). */
function discordProblems(msg: WebhookMessage): string[] {
  const p: string[] = [];
  const nonBlank = (s: string | undefined, what: string, max: number) => {
    if (s === undefined) return p.push(`${what} missing`);
    if (s.trim().length === 0) p.push(`${what} is blank`);
    if (s.length > max) p.push(`${what} is ${s.length} > ${max}`);
    if (hasLoneSurrogate(s)) p.push(`${what} has a lone surrogate`);
  };
  if (msg.content !== undefined && msg.content.length > L.content) p.push(`content ${msg.content.length} > ${L.content}`);
  if ((msg.content ?? '').trim() === '' && msg.embeds.length === 0) p.push('empty message');
  if (msg.embeds.length > L.embeds) p.push(`${msg.embeds.length} embeds > ${L.embeds}`);
  if (msg.username !== undefined) {
    nonBlank(msg.username, 'username', L.username);
    if (FORBIDDEN_USERNAME.test(msg.username)) p.push('username has a forbidden word');
  }
  if (!Array.isArray(msg.allowed_mentions?.parse) || msg.allowed_mentions.parse.length !== 0) p.push('allowed_mentions.parse not []');
  if (msg.flags !== undefined && msg.flags !== SUPPRESS_NOTIFICATIONS) p.push(`unexpected flags ${msg.flags}`);
  let total = 0;
  msg.embeds.forEach((e: Embed, i) => {
    const at = `embeds[${i}]`;
    if (e.title !== undefined) nonBlank(e.title, `${at}.title`, L.embedTitle);
    if (e.description !== undefined) nonBlank(e.description, `${at}.description`, L.embedDescription);
    if (e.footer !== undefined) nonBlank(e.footer.text, `${at}.footer.text`, L.footerText);
    if (e.author !== undefined) nonBlank(e.author.name, `${at}.author.name`, L.authorName);
    if ((e.fields?.length ?? 0) > L.embedFields) p.push(`${at} has ${e.fields!.length} fields > ${L.embedFields}`);
    e.fields?.forEach((f, j) => {
      nonBlank(f.name, `${at}.fields[${j}].name`, L.fieldName);
      nonBlank(f.value, `${at}.fields[${j}].value`, L.fieldValue);
    });
    if (e.color !== undefined && (!Number.isInteger(e.color) || e.color < 0 || e.color > 0xffffff)) p.push(`${at}.color invalid`);
    if (e.timestamp !== undefined && Number.isNaN(Date.parse(e.timestamp))) p.push(`${at}.timestamp invalid`);
    total += embedLength(e);
  });
  if (total > L.embedsTotal) p.push(`embeds total ${total} > ${L.embedsTotal}`);
  return p;
}

function expectAccepted(msg: WebhookMessage): WebhookMessage {
  expect(discordProblems(msg)).toEqual([]);
  return msg;
}

/** A single embed checked the same way, as a message of its own. */
function expectValidEmbed(e: Embed): Embed {
  expectAccepted({ embeds: [e], allowed_mentions: { parse: [] } });
  return e;
}

const total = (m: WebhookMessage) => m.embeds.reduce((n, e) => n + embedLength(e), 0);
const field = (e: Embed, name: string) => e.fields?.find((f) => f.name === name);

describe('the validator itself', () => {
  it('catches each kind of breach', () => {
    const ok = renderMessage([mk()], OPTS);
    expect(discordProblems(ok)).toEqual([]);
    const bad: WebhookMessage = {
      username: 'My Discord bot',
      embeds: [
        { title: 'x'.repeat(257), description: ' ', fields: [{ name: '', value: 'v'.repeat(1025) }], footer: { text: 'f'.repeat(2049) } },
        ...Array.from({ length: 10 }, () => ({ description: 'd'.repeat(4097) })),
      ],
      allowed_mentions: { parse: ['everyone' as never] },
    };
    const problems = discordProblems(bad).join('\n');
    for (const s of ['forbidden word', 'title is 257', 'description is blank', 'name is blank', 'value is 1025', 'footer.text is 2049', '11 embeds', 'description is 4097', 'embeds total', 'allowed_mentions']) {
      expect(problems).toContain(s);
    }
  });
});

describe('truncateMiddle', () => {
  it('keeps text at or under max untouched', () => {
    expect(truncateMiddle('abc', 3)).toBe('abc');
    expect(truncateMiddle('', 0)).toBe('');
    expect(truncateMiddle('x'.repeat(4096), 4096)).toBe('x'.repeat(4096));
  });

  it('cuts in the middle, keeps head and tail, and says how much was cut', () => {
    const text = 'HEAD-' + 'm'.repeat(5000) + '-TAIL: the real cause';
    const out = truncateMiddle(text, 200);
    expect(out.length).toBeLessThanOrEqual(200);
    expect(out.startsWith('HEAD-')).toBe(true);
    expect(out.endsWith('-TAIL: the real cause')).toBe(true);
    const m = /\n…\[(\d+) chars cut\]…\n/.exec(out);
    expect(m).not.toBeNull();
    // The marker's count is exactly what is missing.
    expect(Number(m![1]) + out.length - m![0].length).toBe(text.length);
  });

  it('never exceeds max, for every max from 0 up, including below the marker length', () => {
    const texts = ['a'.repeat(3000), 'line\n'.repeat(700), '😀'.repeat(400), 'x😀'.repeat(300)];
    for (const text of texts) {
      for (let max = 0; max <= text.length + 2; max += max < 80 ? 1 : 37) {
        const out = truncateMiddle(text, max);
        expect(out.length).toBeLessThanOrEqual(max);
        if (text.length <= max) {
          expect(out).toBe(text);
          continue;
        }
        expect(out.length).toBeGreaterThanOrEqual(Math.min(max, 1) - 1); // uses the room it has (a surrogate pair may cost one)
        if (max >= 1) expect(out).toContain('…');
        expect(hasLoneSurrogate(out)).toBe(false);
        if (max >= 40) {
          // Both ends survive.
          expect(text.startsWith(out.slice(0, 2))).toBe(true);
          expect(text.endsWith(out.slice(-2))).toBe(true);
        }
      }
    }
  });

  it('handles nonsense max without throwing', () => {
    expect(truncateMiddle('abcdef', -5)).toBe('');
    expect(truncateMiddle('abcdef', Number.NaN)).toBe('');
    expect(truncateMiddle('abcdef', 4.9).length).toBeLessThanOrEqual(4);
  });
});

describe('renderEmbed', () => {
  it('renders a normal alert: title, color, fields, footer, timestamp', () => {
    const e = expectValidEmbed(renderEmbed(mk()));
    expect(e.title).toBe('[P1] Checkout latency high');
    expect(e.color).toBe(0xf97316);
    expect(e.description).toBe('p99 above 2s for 5 minutes');
    expect(e.fields!.slice(0, 3)).toEqual([
      { name: 'Service', value: 'checkout', inline: true },
      { name: 'Environment', value: 'prod', inline: true },
      { name: 'Severity', value: 'P1', inline: true },
    ]);
    expect(field(e, 'Runbook step')?.value).toBe('restart the pods');
    expect(field(e, 'Labels')?.value).toBe('region=eu-west-1\nteam=payments');
    // The address shown as it is, never behind the sender's title (issue 8 §5).
    expect(field(e, 'Links')?.value).toBe('Dashboard: <https://grafana.example/d/1>');
    expect(e.footer?.text).toBe('Herald · alert #42 · dedup checkout-latency');
    expect(e.timestamp).toBe('2024-01-02T03:04:05.000Z');
  });

  it('leaves out what the alert does not have', () => {
    const e = expectValidEmbed(renderEmbed(mk({ environment: null, dedupKey: null, labels: null, fields: null, links: null, description: null })));
    expect(e.description).toBeUndefined();
    expect(e.fields!.map((f) => f.name)).toEqual(['Service', 'Severity']);
    expect(e.footer?.text).toBe('Herald · alert #42');
  });

  it('colors by severity, and green with [RESOLVED] when resolved', () => {
    expect(SEVERITY_COLOR).toEqual({ P0: 0xe02424, P1: 0xf97316, P2: 0xeab308, P3: 0x3b82f6 });
    for (const sev of ['P0', 'P1', 'P2', 'P3'] as const) {
      const e = renderEmbed(mk({ severity: sev }));
      expect(e.color).toBe(SEVERITY_COLOR[sev]);
      expect(e.title).toBe(`[${sev}] Checkout latency high`);
    }
    const r = expectValidEmbed(renderEmbed(mk({ severity: 'P0', status: 'resolved' })));
    expect(r.color).toBe(RESOLVED_COLOR);
    expect(RESOLVED_COLOR).toBe(0x22c55e);
    expect(r.title).toBe('[RESOLVED] Checkout latency high');
    expect(field(r, 'Severity')?.value).toBe('P0');
  });

  it('title: exactly 256 kept, one over cut and marked', () => {
    const prefix = '[P1] ';
    const at = renderEmbed(mk({ title: 't'.repeat(L.embedTitle - prefix.length) }));
    expect(at.title).toBe(prefix + 't'.repeat(L.embedTitle - prefix.length));
    const over = expectValidEmbed(renderEmbed(mk({ title: 't'.repeat(L.embedTitle - prefix.length + 1) })));
    expect(over.title!.length).toBe(L.embedTitle);
    expect(over.title!.endsWith('…')).toBe(true);
    expect(over.title!.startsWith(prefix)).toBe(true);
  });

  it('description: exactly 4096 kept, one over cut in the middle and marked', () => {
    const at = renderEmbed(mk({ description: 'd'.repeat(L.embedDescription) }));
    expect(at.description).toBe('d'.repeat(L.embedDescription));
    const text = 'START' + 'd'.repeat(L.embedDescription - 9) + 'ENDS'; // 4096 + 1 - 1
    expect(renderEmbed(mk({ description: text })).description).toBe(text);
    const over = 'START' + 'd'.repeat(L.embedDescription - 8) + 'ENDS';
    const e = expectValidEmbed(renderEmbed(mk({ description: over })));
    expect(e.description!.length).toBeLessThanOrEqual(L.embedDescription);
    expect(e.description).toMatch(/^START[^]*\n…\[\d+ chars cut\]…\n[^]*ENDS$/);
  });

  it('field name 256 / value 1024: at the limit kept, one over cut and marked', () => {
    const e = expectValidEmbed(
      renderEmbed(
        mk({
          fields: [
            { name: 'a'.repeat(L.fieldName), value: 'b'.repeat(L.fieldValue) },
            { name: 'c'.repeat(L.fieldName + 1), value: 'HEAD' + 'd'.repeat(L.fieldValue - 7) + 'TAIL' },
          ],
        }),
      ),
    );
    const [kept, cut] = e.fields!.slice(3, 5);
    expect(kept).toEqual({ name: 'a'.repeat(L.fieldName), value: 'b'.repeat(L.fieldValue) });
    expect(cut!.name.length).toBe(L.fieldName);
    expect(cut!.name.endsWith('…')).toBe(true);
    expect(cut!.value.length).toBeLessThanOrEqual(L.fieldValue);
    expect(cut!.value).toMatch(/^HEAD[^]*chars cut[^]*TAIL$/);
  });

  it('footer: cut to 2048 when the dedup key is enormous', () => {
    const prefix = 'Herald · alert #42 · dedup ';
    const at = renderEmbed(mk({ dedupKey: 'k'.repeat(L.footerText - prefix.length), description: null, fields: null, labels: null, links: null }));
    expect(at.footer!.text.length).toBe(L.footerText);
    expect(at.footer!.text.endsWith('k')).toBe(true);
    const over = expectValidEmbed(renderEmbed(mk({ dedupKey: 'k'.repeat(L.footerText - prefix.length + 1), description: null, fields: null, labels: null, links: null })));
    expect(over.footer!.text.length).toBe(L.footerText);
    expect(over.footer!.text.endsWith('…')).toBe(true);
  });

  it('gives blank field names and values a placeholder instead of an empty string', () => {
    const e = expectValidEmbed(renderEmbed(mk({ fields: [{ name: '   ', value: '' }, { name: 'x', value: ' \n\t ' }], environment: '  ' })));
    expect(e.fields!.slice(2, 4)).toEqual([
      { name: '—', value: '—' },
      { name: 'x', value: '—' },
    ]);
    expect(field(e, 'Environment')).toBeUndefined();
  });

  it('caps fields at 25 and says how many were omitted (Labels and Links kept)', () => {
    const fields = Array.from({ length: 40 }, (_, i) => ({ name: `f${i}`, value: `v${i}` }));
    const e = expectValidEmbed(renderEmbed(mk({ fields })));
    expect(e.fields).toHaveLength(L.embedFields);
    const names = e.fields!.map((f) => f.name);
    // 3 fixed + 19 own + Labels + Links + the note = 25; 40 - 19 = 21 omitted.
    expect(names.slice(0, 3)).toEqual(['Service', 'Environment', 'Severity']);
    expect(names.slice(3, 22)).toEqual(fields.slice(0, 19).map((f) => f.name));
    expect(names.slice(22, 24)).toEqual(['Labels', 'Links']);
    const last = e.fields![24]!;
    expect(last.name).toBe('Omitted');
    expect(last.value).toMatch(/^21 more fields not shown: f19, f20, .*f39$/);
  });

  it('exactly 25 fields: all kept, no note', () => {
    // 3 fixed + 20 own + Labels + Links = 25.
    const fields = Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, value: `v${i}` }));
    const e = expectValidEmbed(renderEmbed(mk({ fields })));
    expect(e.fields).toHaveLength(25);
    expect(field(e, 'Omitted')).toBeUndefined();
    expect(e.fields![24]!.name).toBe('Links');
  });

  it('links: the http(s) address shown as a link to itself, anything else as plain text', () => {
    const e = expectValidEmbed(
      renderEmbed(
        mk({
          links: [
            { title: 'Grafana', url: 'https://g.example/x' },
            { title: 'Plain', url: 'http://p.example' },
            { title: 'Evil', url: 'javascript:alert(1)' },
            { title: 'Share', url: 'smb://fileserver/logs' },
            { title: 'Broken', url: 'not a url' },
          ],
        }),
      ),
    );
    expect(field(e, 'Links')?.value.split('\n')).toEqual([
      'Grafana: <https://g.example/x>',
      'Plain: <http://p.example/>',
      'Evil: javascript:alert(1)',
      'Share: smb://fileserver/logs',
      'Broken: not a url',
    ]);
  });

  it('labels and links too long for one field: whole lines kept, the rest counted', () => {
    const labels: Record<string, string> = {};
    for (let i = 0; i < 30; i++) labels[`k${i}`] = 'v'.repeat(60);
    const links = Array.from({ length: 20 }, (_, i) => ({ title: `link ${i}`, url: `https://example.com/${'p'.repeat(80)}/${i}` }));
    const e = expectValidEmbed(renderEmbed(mk({ labels, links })));
    const lv = field(e, 'Labels')!.value;
    const lines = lv.split('\n');
    expect(lines.at(-1)).toMatch(/^…and \d+ more labels$/);
    const shown = lines.slice(0, -1);
    for (const [i, line] of shown.entries()) expect(line).toBe(`k${i}=${'v'.repeat(60)}`);
    expect(shown.length + Number(/\d+/.exec(lines.at(-1)!)![0])).toBe(30);
    const kv = field(e, 'Links')!.value.split('\n');
    expect(kv.at(-1)).toMatch(/^…and \d+ more links$/);
    for (const line of kv.slice(0, -1)) expect(line).toMatch(/^link \d+: <https:\/\/example\.com\/p+\/\d+>$/);
  });

  it('one huge alert stays within every limit and the 6000 total, description shrunk first', () => {
    const e = expectValidEmbed(renderEmbed(huge(7)));
    expect(embedLength(e)).toBeLessThanOrEqual(L.embedsTotal);
    expect(e.fields).toHaveLength(25);
    expect(e.title!.startsWith('[P1] TTT')).toBe(true);
    expect(e.footer!.text.startsWith('Herald · alert #7')).toBe(true);
    expect(e.fields!.at(-1)!.name).toBe('Omitted');
    // Still says what service and severity, unharmed by the shrinking.
    expect(field(e, 'Service')?.value).toBe('checkout');
    expect(field(e, 'Severity')?.value).toBe('P1');
  });

  it('shrinks the description before touching fields', () => {
    const a = mk({ description: 'D'.repeat(4096), fields: Array.from({ length: 4 }, (_, i) => ({ name: `f${i}`, value: 'V'.repeat(1000) })) });
    const e = expectValidEmbed(renderEmbed(a));
    expect(embedLength(e)).toBeLessThanOrEqual(L.embedsTotal);
    // Fields untouched; only the description gave way.
    for (let i = 0; i < 4; i++) expect(field(e, `f${i}`)?.value).toBe('V'.repeat(1000));
    expect(e.description!.length).toBeLessThan(4096);
    expect(e.description).toContain('chars cut');
    // It used the room there was rather than cutting more than needed.
    expect(embedLength(e)).toBeGreaterThan(L.embedsTotal - 10);
  });

  it('degraded: title, severity/service line, description ≤1000 + line, no fields', () => {
    const a = huge(9, { description: 'HEAD' + 'x'.repeat(5000) + 'TAIL' });
    const e = expectValidEmbed(renderEmbed(a, { degraded: true }));
    expect(e.fields).toBeUndefined();
    expect(e.title!.startsWith('[P1] ')).toBe(true);
    expect(e.title!.length).toBeLessThanOrEqual(L.embedTitle);
    const [facts, ...rest] = e.description!.split('\n\n');
    expect(facts).toContain('P1');
    expect(facts).toContain('checkout');
    const body = rest.join('\n\n');
    expect(body.length).toBeLessThanOrEqual(1000);
    expect(body.startsWith('HEAD')).toBe(true);
    expect(body.endsWith('TAIL')).toBe(true);
    expect(e.footer!.text).toBe('Herald · alert #9');
    expect(embedLength(e)).toBeLessThan(1500);
  });

  it('never throws on odd data (invalid timestamp, surrogate pairs at cut points)', () => {
    const e = expectValidEmbed(renderEmbed(mk({ receivedAt: Number.NaN, title: '😀'.repeat(300), description: '😀'.repeat(3000) })));
    expect(e.timestamp).toBeUndefined();
    expect(hasLoneSurrogate(e.title!)).toBe(false);
  });
});

describe('renderMessage', () => {
  it('never lets alert text ping: allowed_mentions parse [] even with @everyone, @here and role mentions', () => {
    const m = expectAccepted(renderMessage([mk({ title: '@everyone db down', description: '@here <@&123456789012345678> <@1234>' })], OPTS));
    expect(m.allowed_mentions).toEqual({ parse: [] });
    expect(m.allowed_mentions.roles).toBeUndefined();
    expect(m.allowed_mentions.users).toBeUndefined();
    // Shown as text, never as a mention (issue 8 §5): a zero-width space after `@`, `<` escaped.
    expect(m.embeds[0]!.title).toBe('[P1] @\u200Beveryone db down');
    expect(m.embeds[0]!.description).toBe('@\u200Bhere \\<@&123456789012345678\\> \\<@1234>');
    expect(m.content).toBeUndefined();
  });

  it('username from options, cut to 80', () => {
    expect(renderMessage([mk()], OPTS).username).toBe('Herald');
    const m = expectAccepted(renderMessage([mk()], { username: 'h'.repeat(81) }));
    expect(m.username!.length).toBe(L.username);
    expect(renderMessage([mk()], { username: 'h'.repeat(80) }).username).toBe('h'.repeat(80));
  });

  it('silent flag only when every alert is P3', () => {
    const p3 = expectAccepted(renderMessage([mk({ severity: 'P3' }), mk({ id: 2, severity: 'P3' })], OPTS));
    expect(p3.flags).toBe(SUPPRESS_NOTIFICATIONS);
    const mixed = expectAccepted(renderMessage([mk({ severity: 'P3' }), mk({ id: 2, severity: 'P0' })], OPTS));
    expect(mixed.flags).toBeUndefined();
    expect(renderMessage([mk({ severity: 'P2' })], OPTS).flags).toBeUndefined();
  });

  it('throws for 0 or more than 10 alerts, takes exactly 10', () => {
    expect(() => renderMessage([], OPTS)).toThrow();
    expect(() => renderMessage(Array.from({ length: 11 }, (_, i) => mk({ id: i })), OPTS)).toThrow();
    const m = expectAccepted(renderMessage(Array.from({ length: 10 }, (_, i) => mk({ id: i })), OPTS));
    expect(m.embeds).toHaveLength(10);
    expect(m.embeds.map((e) => e.footer!.text.split(' · ')[1])).toEqual(Array.from({ length: 10 }, (_, i) => `alert #${i}`));
  });

  it('small alerts are not cut at all', () => {
    const alerts = Array.from({ length: 10 }, (_, i) => mk({ id: i }));
    const m = renderMessage(alerts, OPTS);
    alerts.forEach((a, i) => expect(m.embeds[i]).toEqual(renderEmbed(a)));
  });

  it('10 huge alerts: total ≤ 6000 with a fair share each, every embed still valid', () => {
    const m = expectAccepted(renderMessage(Array.from({ length: 10 }, (_, i) => huge(i)), OPTS));
    expect(m.embeds).toHaveLength(10);
    expect(total(m)).toBeLessThanOrEqual(L.embedsTotal);
    const lengths = m.embeds.map(embedLength);
    expect(Math.max(...lengths) - Math.min(...lengths)).toBeLessThanOrEqual(20);
    expect(Math.min(...lengths)).toBeGreaterThan(500);
    for (const e of m.embeds) {
      expect(e.fields!.length).toBeLessThanOrEqual(25);
      expect(field(e, 'Severity')?.value).toBe('P1');
    }
  });

  it('one huge alert among small ones: the small keep everything, the huge one takes the rest', () => {
    const small = Array.from({ length: 9 }, (_, i) => mk({ id: i }));
    const m = expectAccepted(renderMessage([huge(99), ...small], OPTS));
    small.forEach((a, i) => expect(m.embeds[i + 1]).toEqual(renderEmbed(a)));
    expect(total(m)).toBeLessThanOrEqual(L.embedsTotal);
    expect(total(m)).toBeGreaterThan(L.embedsTotal - 50);
  });

  it('degraded applies to every embed', () => {
    const m = expectAccepted(renderMessage([huge(1), huge(2)], { ...OPTS, degraded: true }));
    for (const e of m.embeds) expect(e.fields).toBeUndefined();
  });
});

describe('packMessage', () => {
  it('stops at 10 embeds', () => {
    const alerts = Array.from({ length: 25 }, (_, i) => mk({ id: i }));
    const { taken, message } = packMessage(alerts, OPTS);
    expectAccepted(message);
    expect(taken).toBe(10);
    expect(message.embeds).toHaveLength(10);
    expect(message.embeds.map((e) => e.footer!.text)).toEqual(alerts.slice(0, 10).map((a) => renderEmbed(a).footer!.text));
  });

  it('stops before the 6000 total, keeping order and cutting nothing', () => {
    // Each about 2100 characters: two fit, the third would pass 6000.
    const alerts = Array.from({ length: 5 }, (_, i) => mk({ id: i, description: 'd'.repeat(2000) }));
    const one = embedLength(renderEmbed(alerts[0]!));
    expect(2 * one).toBeLessThanOrEqual(L.embedsTotal);
    expect(3 * one).toBeGreaterThan(L.embedsTotal);
    const { taken, message } = packMessage(alerts, OPTS);
    expectAccepted(message);
    expect(taken).toBe(2);
    expect(message.embeds).toEqual([renderEmbed(alerts[0]!), renderEmbed(alerts[1]!)]);
  });

  it('takes an alert that brings the total to exactly 6000, not one character more', () => {
    const base = mk({ id: 1, description: 'x'.repeat(2000) });
    const filler = mk({ id: 2, description: 'y' });
    const used = embedLength(renderEmbed(base)) + embedLength(renderEmbed(filler));
    const withDescription = (n: number) => mk({ id: 3, description: 'z'.repeat(n) });
    const rest = embedLength(renderEmbed(withDescription(1))) - 1; // the embed without its description
    const exact = withDescription(L.embedsTotal - used - rest);
    expect(used + embedLength(renderEmbed(exact))).toBe(L.embedsTotal);
    const packed = packMessage([base, filler, exact], OPTS);
    expect(packed.taken).toBe(3);
    expect(total(expectAccepted(packed.message))).toBe(L.embedsTotal);
    expect(packed.message.embeds[2]).toEqual(renderEmbed(exact)); // taken whole
    const tooMuch = withDescription(L.embedsTotal - used - rest + 1);
    const short = packMessage([base, filler, tooMuch], OPTS);
    expect(short.taken).toBe(2);
    expectAccepted(short.message);
  });

  it('always takes the first, shrinking it when it alone is over 6000', () => {
    const { taken, message } = packMessage([huge(1), mk({ id: 2 })], OPTS);
    expectAccepted(message);
    expect(taken).toBe(1);
    expect(message.embeds[0]!.footer!.text.startsWith('Herald · alert #1')).toBe(true);
  });

  it('a backlog of mixed sizes: every message valid, every alert sent exactly once, in order', () => {
    const alerts = Array.from({ length: 60 }, (_, i) =>
      i % 7 === 0 ? huge(i) : mk({ id: i, severity: i % 2 ? 'P3' : 'P2', description: 'd'.repeat((i * 397) % 4000) }),
    );
    const sent: number[] = [];
    let rest = alerts;
    while (rest.length > 0) {
      const { taken, message } = packMessage(rest, OPTS);
      expectAccepted(message);
      expect(taken).toBeGreaterThanOrEqual(1);
      expect(message.embeds).toHaveLength(taken);
      const silent = rest.slice(0, taken).every((a) => a.severity === 'P3');
      expect(message.flags).toBe(silent ? SUPPRESS_NOTIFICATIONS : undefined);
      for (const e of message.embeds) sent.push(Number(/#(\d+)/.exec(e.footer!.text)![1]));
      rest = rest.slice(taken);
    }
    expect(sent).toEqual(alerts.map((a) => a.id));
  });

  it('throws on an empty list', () => {
    expect(() => packMessage([], OPTS)).toThrow();
  });
});

describe('sender text cannot masquerade (issue 8 §5)', () => {
  const ZWSP = '\u200B';
  const stateful = (over: Partial<StatefulAlert>): StatefulAlert => ({ ...mk(), ...over });
  /** A markdown character (`*`, `_`, `~`, `` ` ``, `|`, `<`, `[`, `]`) not escaped by a backslash, outside Herald's `<url>` links. */
  const unescaped = (s: string) => /(^|[^\\])(\\\\)*[*_~`|<[\]]/.test(s.replace(/<https?:\/\/[^\s>]+>/g, ''));
  /** Ends in a backslash that would escape whatever Herald puts after it. */
  const danglingEscape = (s: string) => /(^|[^\\])\\(\\\\)*$/.test(s);

  it('a link whose title looks like a URL shows where it really goes', () => {
    const e = expectValidEmbed(
      renderEmbed(
        mk({
          links: [
            { title: 'https://grafana.example/d/1', url: 'https://evil.example/steal' },
            { title: '**Grafana** [dashboard](https://grafana.example)', url: 'https://grafana.example/d/1)[Grafana](https://evil.example' },
            { title: 'Dashboard', url: 'https://grafana.example@evil.example/' },
            { title: 'https://grafana.example/d/1', url: 'https://grafana.example/d/1' },
          ],
        }),
      ),
    );
    expect(field(e, 'Links')?.value.split('\n')).toEqual([
      '<https://grafana.example/d/1>: <https://evil.example/steal>',
      '\\*\\*Grafana\\*\\* dashboard (<https://grafana.example/>): <https://grafana.example/d/1)[Grafana](https://evil.example>',
      'Dashboard: <https://evil.example/>',
      '<https://grafana.example/d/1>',
    ]);
  });

  it('a masked link in a description or field is shown with its real target; markdown and mentions as text', () => {
    const e = expectValidEmbed(
      renderEmbed(
        mk({
          title: '**URGENT** @everyone <@&123456789012345678> ~~fine~~',
          description: 'See [https://grafana.example/d/1](https://evil.example/login)\n# Not a heading\n> not a quote',
          fields: [{ name: '__Runbook__', value: '[step 1](https://evil.example/) then `rm -rf`' }],
        }),
      ),
    );
    expect(e.title).toBe(`[P1] \\*\\*URGENT\\*\\* @${ZWSP}everyone \\<@&123456789012345678\\> \\~\\~fine\\~\\~`);
    expect(e.description).toBe('See <https://grafana.example/d/1> (<https://evil.example/login>)\n\\# Not a heading\n\\> not a quote');
    expect(field(e, '\\_\\_Runbook\\_\\_')?.value).toBe('step 1 (<https://evil.example/>) then \\`rm -rf\\`');
  });

  it('labels, service and environment are one line each, escaped, without control or bidi characters', () => {
    const e = expectValidEmbed(
      renderEmbed(
        mk({
          service: 'pay\u202Ements\u0007',
          environment: 'prod\u2066*',
          labels: { team: 'ops\nseverity=P0', 'a_b': '<!channel> @here' },
        }),
      ),
    );
    expect(field(e, 'Service')?.value).toBe('payments');
    expect(field(e, 'Environment')?.value).toBe('prod\\*');
    expect(field(e, 'Labels')?.value).toBe(`team=ops severity=P0\na\\_b=\\<!channel\\> @${ZWSP}here`);
  });

  it('the footer (plain text to Discord) is cleaned but not escaped', () => {
    const e = renderEmbed(mk({ dedupKey: 'disk_full*\u202E\u0000host-1' }));
    expect(e.footer?.text).toBe('Herald · alert #42 · dedup disk_full*host-1');
  });

  it('names people typed (acknowledged by, retract reason) are escaped; Herald’s own mention is not', () => {
    const acked = renderEmbed(stateful({ acknowledgedAt: 1_700_000_000_000, acknowledgedBy: '**the boss** @everyone' }));
    expect(acked.fields![0]!.value).toBe(`Acknowledged by \\*\\*the boss\\*\\* @${ZWSP}everyone <t:1700000000:R>`);
    const byUser = renderEmbed(stateful({ acknowledgedAt: 1_700_000_000_000, acknowledgedByUser: '123456789012345678' }));
    expect(byUser.fields![0]!.value).toBe('Acknowledged by <@123456789012345678> <t:1700000000:R>');
    // Not a Discord user id: shown as a name, not spliced into a mention.
    const odd = renderEmbed(stateful({ acknowledgedAt: 1_700_000_000_000, acknowledgedByUser: '1> **x** <@2', acknowledgedBy: 'eve' }));
    expect(odd.fields![0]!.value).toBe('Acknowledged by eve <t:1700000000:R>');
    const retracted = renderEmbed(stateful({ retractedAt: 1_700_000_000_000, retractMode: 'strike', retractReason: 'oops\nAcknowledged by <@1>' }));
    expect(retracted.fields![0]!.value).toBe('Retracted <t:1700000000:R>: oops Acknowledged by \\<@1>');
  });

  it('escapes before cutting: the limits hold on the escaped text, and no cut splits an escape or a link', () => {
    const stars = renderEmbed(mk({ title: '*'.repeat(400), description: '_'.repeat(5000) + 'END', fields: [{ name: '~'.repeat(300), value: '`'.repeat(2000) }] }));
    expectValidEmbed(stars);
    expect(stars.title!.length).toBe(L.embedTitle);
    // (the title's `[P1]` is Herald's own)
    for (const text of [stars.title!.slice('[P1] '.length), stars.description!, ...stars.fields!.flatMap((f) => [f.name, f.value])]) {
      // (the cut marker's brackets are Herald's own)
      expect(unescaped(text.replace(/\n…\[\d+ chars cut\]…\n/, '')), text.slice(0, 80)).toBe(false);
    }
    // The cut in the middle: the head ends on a whole escape, the tail starts with one.
    const [head, tail] = stars.description!.split(/\n…\[\d+ chars cut\]…\n/);
    expect(danglingEscape(head!)).toBe(false);
    expect(tail!.startsWith('\\_')).toBe(true);
    expect(tail!.endsWith('END')).toBe(true);

    // A struck (retracted) title cut to 256: its closing ~~ is never escaped by a cut backslash.
    const struck = renderEmbed(stateful({ title: '*'.repeat(400), retractedAt: 1_700_000_000_000, retractMode: 'strike' })).title!;
    expect(struck.length).toBeLessThanOrEqual(L.embedTitle);
    expect(struck).toMatch(/^~~\[RETRACTED\] (\\\*)+…~~$/);

    // Links too long for their field: whole <url>s or none, never half of one.
    const links = Array.from({ length: 3 }, (_, i) => ({ title: 'T'.repeat(150), url: `https://x.example/${i}/${'p'.repeat(900)}` }));
    const value = field(renderEmbed(mk({ links })), 'Links')!.value;
    expect(value.length).toBeLessThanOrEqual(L.fieldValue);
    for (const open of value.matchAll(/<https/g)) expect(value.indexOf('>', open.index)).toBeGreaterThan(open.index);
    expect(value).not.toMatch(/<https:\/\/[^>]*$/);
  });

  it('a cut in the middle cannot turn mid-line sender text into a heading, quote or list', () => {
    // The marker ends with a line break, so the tail starts a line: wherever it starts, no block marker is live.
    for (const marker of ['# big', '> quote', '>>> all', '- item', '+ item', '12. item', '-# small']) {
      const text = senderMarkdown(`${'x'.repeat(300)} ${marker} ${'y'.repeat(20)}`, { multiline: true });
      for (let max = 40; max < 120; max++) {
        const out = truncateMiddle(text, max);
        expect(out.split('\n').slice(1), `${marker} at ${max}`).not.toContainEqual(expect.stringMatching(/^(#{1,3}|>|>>>|-|\+|\d+\.|-#)\s/));
      }
    }
  });
});

describe('random alerts (seeded)', () => {
  /** mulberry32: a small deterministic PRNG, so a failure reproduces. */
  function rng(seed: number) {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const alphabet = ['a', ' ', '\n', '😀', '@everyone', '<@&1>', '`', '*', 'é', '\t'];

  it('200 random messages: every one accepted by the validator, every alert shown', () => {
    const r = rng(12345);
    const int = (n: number) => Math.floor(r() * n);
    const text = (max: number) => {
      const n = r() < 0.2 ? max : int(max + 1);
      let s = '';
      while (s.length < n) s += alphabet[int(alphabet.length)]!.repeat(1 + int(40));
      return s.slice(0, n);
    };
    const randomAlert = (id: number): RenderableAlert => ({
      id,
      service: text(200) || 's',
      severity: (['P0', 'P1', 'P2', 'P3'] as const)[int(4)]!,
      title: text(1000) || 't',
      description: r() < 0.2 ? null : text(20_000),
      status: r() < 0.3 ? 'resolved' : 'firing',
      environment: r() < 0.5 ? null : text(100),
      dedupKey: r() < 0.5 ? null : text(255),
      labels: r() < 0.5 ? null : Object.fromEntries(Array.from({ length: int(65) }, (_, i) => [`k${i}${text(100)}`, text(1024)])),
      fields: r() < 0.3 ? null : Array.from({ length: int(51) }, () => ({ name: text(1000), value: text(5000) })),
      links: r() < 0.5 ? null : Array.from({ length: int(21) }, () => ({ title: text(200) || 'l', url: r() < 0.5 ? `https://x.example/${text(50)}` : text(300) })),
      receivedAt: int(2 ** 41),
    });
    for (let round = 0; round < 200; round++) {
      const alerts = Array.from({ length: 1 + int(10) }, (_, i) => randomAlert(round * 100 + i));
      const degraded = r() < 0.2;
      const m = expectAccepted(renderMessage(alerts, { username: 'Herald', degraded }));
      expect(m.embeds).toHaveLength(alerts.length);
      m.embeds.forEach((e, i) => expect(e.footer!.text.startsWith(`Herald · alert #${alerts[i]!.id}`) || e.footer!.text.endsWith('…')).toBe(true));
      const p = packMessage(alerts, { username: 'Herald', degraded });
      expectAccepted(p.message);
      expect(p.taken).toBeGreaterThanOrEqual(1);
      expect(p.message.embeds).toHaveLength(p.taken);
    }
  });
});
