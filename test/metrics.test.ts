import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ROOT } from './support/process.js';
import { alert, deliveredAlertIds, startStack, waitFor, type Stack } from './support/stack.js';

/**
 * docs/metrics.md against a live /metrics: every metric listed exists with the type the docs give it and no
 * metric goes undocumented; names follow Prometheus' conventions; the suggested alert rules parse and name only
 * metrics that exist.
 */
const docs = readFileSync(join(ROOT, 'docs/metrics.md'), 'utf8');
let stack: Stack;
let text: string;

/** `# TYPE name type` lines: every metric registered, with or without samples yet. */
const types = (exposition: string) => new Map([...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));

beforeAll(async () => {
  stack = await startStack();
  const ch = await stack.channel();
  const token = await stack.source();
  const posted = await stack.post(token, alert(1));
  await waitFor('delivered', () => deliveredAlertIds(stack.emulator, ch.discordChannelId).includes(posted.body.ids[0]));
  text = await (await fetch(`${stack.url}/metrics`)).text();
});
afterAll(async () => stack?.close());

describe('/metrics and docs/metrics.md', () => {
  it('documents every metric /metrics serves, with its type, and no other', () => {
    const documented = new Map([...docs.matchAll(/^\| `([a-z_:][a-z0-9_:]*)` \| (counter|gauge|histogram|summary) \|/gm)].map((m) => [m[1]!, m[2]!]));
    const live = types(text);
    expect(live.size).toBeGreaterThan(40);
    expect(Object.fromEntries([...documented].sort())).toEqual(Object.fromEntries([...live].sort()));
  });

  it('follows the naming conventions: one application prefix, no doubled prefix, units and _total where they belong', () => {
    for (const [name, type] of types(text)) {
      expect(name, name).toMatch(/^(herald|process|nodejs)_[a-z0-9_]+$/);
      expect(name, name).not.toMatch(/^herald_process_|^(\w+)_\1_/);
      if (type === 'counter') expect(name, name).toMatch(/_total$/);
      if (name.startsWith('herald_') && type !== 'counter') expect(name, name).not.toMatch(/_total$/);
    }
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^herald_deliveries_delivered_total 1$/m);
    expect(text).toMatch(/^herald_dead_letters_pending 0$/m);
    expect(text).toMatch(/^herald_queue_oldest_age_seconds\{channel="ch-\w+"\} 0$/m);
  });

  it('suggests alert rules that parse and use only metrics Herald serves (and Prometheus’ own up)', () => {
    const block = /```yaml\n([\s\S]*?)```/.exec(docs.slice(docs.indexOf('## Alert rules')))![1]!;
    const rules = (parseYaml(block) as { groups: { name: string; rules: { alert: string; expr: string; for?: string; labels: object; annotations: { summary: string } }[] }[] }).groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(expect.arrayContaining(['HeraldQueueOld', 'HeraldWebhookBreakersOpen', 'HeraldDeadLetters', 'HeraldDiscordRateLimited']));
    const live = types(text);
    const series = new Set([...live].flatMap(([name, type]) => (type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name])));
    for (const r of rules) {
      expect(r.annotations.summary, r.alert).toBeTruthy();
      const names = [...r.expr.matchAll(/\b((?:herald|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
      expect(names.length + (r.expr.includes('up{') ? 1 : 0), r.alert).toBeGreaterThan(0);
      for (const n of names) expect(series.has(n), `${r.alert}: ${n}`).toBe(true);
    }
  });
});
