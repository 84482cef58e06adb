import picomatch from 'picomatch';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Node } from 'yaml';
import type { z } from 'zod';
import { ServiceError } from '../../domain/errors.js';
import { importedSecretProblem } from '../../domain/signatures.js';
import { autoResolveAfterMs } from '../auto-resolve-input.js';
import { heartbeatSettings } from '../heartbeats.js';
import { storedRoute } from '../routes.js';
import { parseWebhookUrl } from '../webhooks.js';
import { configFile, type ConfigFile, type FileRoute } from './file-schema.js';

/** One thing wrong with the file, at its line and column (1-based), with the path of the key it is about. */
export interface ConfigProblem {
  line: number;
  column: number;
  path: string;
  message: string;
}

/** A webhook of the file, parsed: its Discord id and token (a credential: never shown), and where it is written. */
export interface FileWebhook {
  discordWebhookId: string;
  token: string;
  owner: 'app' | 'external';
  at: string;
}

export interface LoadedConfig {
  file: ConfigFile;
  /** Each channel's webhooks, by channel name, parsed from their URLs. */
  webhooks: Map<string, FileWebhook[]>;
  /** Things that work but should not be (a credential written in clear): shown, not refused. */
  warnings: ConfigProblem[];
  /** `line:column` of a path in the file (for problems found while applying, e.g. a webhook Discord does not know). */
  where(path: (string | number)[]): string;
}

export type LoadResult = { ok: true; config: LoadedConfig } | { ok: false; problems: ConfigProblem[] };

export interface LoadOptions {
  /** Where `${NAME}` references are looked up. */
  env: NodeJS.ProcessEnv;
  /** DISCORD_API_URL (webhook URLs on its host are accepted besides discord.com's). */
  apiUrl: string;
}

/** `problem.line:column: path: message`, the way every entry point shows a problem (prefixed with the file name). */
export const formatProblem = (p: ConfigProblem, file?: string): string => `${file ? `${file}:` : ''}${p.line}:${p.column}: ${p.path ? `${p.path}: ` : ''}${p.message}`;

const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\$|\$\{([^}]*)\}?/g;

/**
 * Reads a configuration file's text: YAML, then `${NAME}` references expanded from the environment, then
 * the schema (file-schema.ts), then what the schema alone cannot see (names unique, references that name
 * something of the file, one default channel, webhook URLs, globs, durations). Every problem is collected,
 * each at its line and column; nothing is applied here.
 */
export function loadConfigText(text: string, opts: LoadOptions): LoadResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const p = lines.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const problems: ConfigProblem[] = doc.errors.map((e) => ({ ...at(e.pos[0]), path: '', message: e.message.split('\n')[0]! }));
  if (problems.length) return { ok: false, problems };

  // ${NAME} references, expanded in place; the scalars that held one are remembered (their values are credentials).
  const fromEnv = new Set<Node>();
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || !node.value.includes('$')) return;
      const raw = node.value;
      node.value = raw.replace(REF, (whole: string, ok: string | undefined) => {
        if (whole === '$$') return '$';
        if (ok === undefined) {
          problems.push({ ...at(node.range![0]), path: '', message: `"${whole}" is not a \${NAME} reference (letters, digits and _; write $$ for a literal $)` });
          return whole;
        }
        const value = opts.env[ok];
        if (value === undefined) {
          problems.push({ ...at(node.range![0]), path: '', message: `\${${ok}} is not set in the environment` });
          return '';
        }
        fromEnv.add(node);
        return value;
      });
    },
  });
  if (problems.length) return { ok: false, problems };

  const nodeAt = (path: readonly PropertyKey[]): Node | undefined => {
    let node: unknown = doc.contents;
    for (const k of path) {
      if (isMap(node) || isSeq(node)) {
        const next = node.get(k as never, true) as unknown;
        if (next === undefined) break;
        node = next;
      } else break;
    }
    return (node ?? doc.contents) as Node | undefined;
  };
  const locate = (path: readonly PropertyKey[], key?: string) => {
    let node = nodeAt(path);
    if (key !== undefined && isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
      if (pair && isScalar(pair.key)) node = pair.key;
    }
    return at(node?.range?.[0] ?? 0);
  };
  const pathText = (path: readonly PropertyKey[]) =>
    path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join('');
  const problem = (path: readonly PropertyKey[], message: string, key?: string) =>
    problems.push({ ...locate(path, key), path: pathText(key ? [...path, key] : path), message });

  const raw = doc.toJS() ?? {};
  const parsed = configFile.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const k of (issue as z.core.$ZodIssueUnrecognizedKeys).keys) problem(issue.path, `unknown key "${k}"`, k);
      } else problem(issue.path, issue.message);
    }
    return { ok: false, problems };
  }
  const file = parsed.data;
  const warnings: ConfigProblem[] = [];
  const inClear = (path: readonly PropertyKey[], what: string) => {
    const node = nodeAt(path);
    if (node && !fromEnv.has(node)) warnings.push({ ...locate(path), path: pathText(path), message: `${what} is written in clear; write it as a \${NAME} reference so the file can be kept in git` });
  };
  /** Runs a service's check; its ServiceError becomes a problem at `path` (plus the field it names). */
  const check = (path: readonly PropertyKey[], fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof ServiceError)) throw err;
      const field = err.path?.split('.')[0];
      problem(field && nodeAt([...path, field]) !== nodeAt(path) ? [...path, field] : path, err.message);
    }
  };
  const unique = <T>(list: T[], keyOf: (t: T) => string, path: string, what: (t: T) => string, field = 'name') => {
    const seen = new Map<string, number>();
    list.forEach((t, i) => {
      const k = keyOf(t);
      const first = seen.get(k);
      if (first !== undefined) problem([path, i, field], `${what(t)} is already defined at ${pathText([path, first])} (line ${locate([path, first]).line})`);
      else seen.set(k, i);
    });
  };

  // Channels and their webhooks.
  const channels = new Set(file.channels.map((c) => c.name));
  unique(file.channels, (c) => c.name, 'channels', (c) => `channel "${c.name}"`);
  const defaults = file.channels.map((c, i) => [c, i] as const).filter(([c]) => c.default);
  for (const [, i] of defaults.slice(1)) problem(['channels', i, 'default'], `only one channel is the default (channel "${defaults[0]![0].name}" already is)`);
  const webhooks = new Map<string, FileWebhook[]>();
  const hookIds = new Map<string, string>();
  file.channels.forEach((c, ci) => {
    const pool: FileWebhook[] = [];
    (c.webhooks ?? []).forEach((w, wi) => {
      const path = typeof w === 'string' ? ['channels', ci, 'webhooks', wi] : ['channels', ci, 'webhooks', wi, 'url'];
      const url = typeof w === 'string' ? w : w.url;
      try {
        const hook = parseWebhookUrl(url, opts.apiUrl);
        const taken = hookIds.get(hook.discordWebhookId);
        if (taken !== undefined) problem(path, `webhook ${hook.discordWebhookId} is already in the pool of channel "${taken}"; a webhook belongs to one pool`);
        hookIds.set(hook.discordWebhookId, c.name);
        pool.push({ ...hook, owner: typeof w === 'string' ? 'external' : (w.owner ?? 'external'), at: pathText(path) });
        inClear(path, 'a webhook URL (it holds the webhook token)');
      } catch (err) {
        if (!(err instanceof ServiceError)) throw err;
        problem(path, err.message);
      }
    });
    webhooks.set(c.name, pool);
  });

  // Sources, escalation chains, routes.
  const sources = new Set(file.sources.map((s) => s.name));
  unique(file.sources, (s) => s.name, 'sources', (s) => `source "${s.name}"`);
  file.sources.forEach((s, i) => check(['sources', i], () => autoResolveAfterMs(s.auto_resolve_after ?? null)));
  const chains = new Set(file.escalations.map((c) => c.name));
  unique(file.escalations, (c) => c.name, 'escalations', (c) => `escalation chain "${c.name}"`);
  file.escalations.forEach((c, ci) =>
    c.steps.forEach((s, si) => {
      if (s.channel !== undefined && !channels.has(s.channel)) problem(['escalations', ci, 'steps', si, 'channel'], `no channel named "${s.channel}" in this file`);
    }),
  );
  const named = file.routes.filter((r) => r.name !== undefined);
  unique(named, (r) => r.name!, 'routes', (r) => `route "${r.name}"`);
  const unnamed = file.routes.map((r, i) => [r, i] as const).filter(([r]) => r.name === undefined);
  const criteria = new Map<string, number>();
  for (const [r, i] of unnamed) {
    const k = routeCriteriaKey(r);
    const first = criteria.get(k);
    if (first !== undefined) problem(['routes', i], `this route has the same channel and criteria as routes[${first}]; merge them, or give each a name`);
    else criteria.set(k, i);
  }
  file.routes.forEach((r, i) => {
    if (!channels.has(r.channel)) problem(['routes', i, 'channel'], `no channel named "${r.channel}" in this file`);
    if (r.escalation !== undefined && !chains.has(r.escalation)) problem(['routes', i, 'escalation'], `no escalation chain named "${r.escalation}" in this file`);
    const { channel: _c, name: _n, escalation: _e, outbound: _o, ...input } = r;
    check(['routes', i], () => storedRoute({ ...input, channel_id: 1 }));
    (r.outbound ?? []).forEach((t, ti) => {
      inClear(['routes', i, 'outbound', ti, 'url'], 'an outbound URL (a Slack URL holds its token)');
      if (t.kind === 'webhook' && t.secret === undefined) {
        problem(['routes', i, 'outbound', ti], 'a webhook target needs secret: ${NAME} (a whsec_ secret its receiver verifies with); Herald cannot show one it made from the file');
      }
      if (t.secret !== undefined) {
        if (t.kind !== 'webhook') problem(['routes', i, 'outbound', ti, 'secret'], 'only webhook targets are signed; leave secret out of a slack target');
        const bad = importedSecretProblem(t.secret);
        if (bad) problem(['routes', i, 'outbound', ti, 'secret'], bad);
        inClear(['routes', i, 'outbound', ti, 'secret'], 'a signing secret');
      }
    });
  });
  const routeNames = new Set(named.map((r) => r.name!));

  // Heartbeats, maintenance windows, digests.
  unique(file.heartbeats, (h) => `${h.source}\u0000${h.name}`, 'heartbeats', (h) => `heartbeat "${h.name}" of source "${h.source}"`);
  file.heartbeats.forEach((h, i) => {
    if (!sources.has(h.source)) problem(['heartbeats', i, 'source'], `no source named "${h.source}" in this file`);
    check(['heartbeats', i], () => heartbeatSettings(h));
  });
  unique(file.maintenance, (m) => m.name, 'maintenance', (m) => `maintenance window "${m.name}"`);
  file.maintenance.forEach((m, i) => {
    if (m.route !== undefined && !routeNames.has(m.route)) problem(['maintenance', i, 'route'], `no route named "${m.route}" in this file (a window silences a named route)`);
    if (m.source !== undefined && !sources.has(m.source)) problem(['maintenance', i, 'source'], `no source named "${m.source}" in this file`);
    if (m.service !== undefined) {
      try {
        picomatch.makeRe(m.service);
      } catch {
        problem(['maintenance', i, 'service'], `"${m.service}" is not a valid glob`);
      }
    }
  });
  unique(file.digests, (d) => d.channel, 'digests', (d) => `the digest of channel "${d.channel}"`, 'channel');
  file.digests.forEach((d, i) => {
    if (!channels.has(d.channel)) problem(['digests', i, 'channel'], `no channel named "${d.channel}" in this file`);
  });

  if (problems.length) return { ok: false, problems: sorted(problems) };
  return {
    ok: true,
    config: {
      file,
      webhooks,
      warnings: sorted(warnings),
      where: (path) => {
        const p = locate(path);
        return `${p.line}:${p.column}`;
      },
    },
  };
}

const sorted = (ps: ConfigProblem[]) => ps.sort((a, b) => a.line - b.line || a.column - b.column);

/** What identifies an unnamed route: its channel and its match criteria (everything else can change in place). */
export function routeCriteriaKey(r: Pick<FileRoute, 'channel' | 'service' | 'severities' | 'environment' | 'labels'>): string {
  const labels = r.labels ? Object.entries(r.labels).sort(([a], [b]) => (a < b ? -1 : 1)) : [];
  const severities = r.severities ? [...new Set(r.severities)].sort() : [];
  return JSON.stringify([r.channel, r.service ?? null, severities, r.environment ?? null, labels]);
}
