import { stringify } from 'yaml';
import type { Config } from '../../config.js';
import type { Store } from '../../store/index.js';
import { scheduleOf } from '../../store/mutes.js';
import { NEVER_EXPIRES } from '../../domain/maintenance.js';

export type ExportDeps = {
  store: Pick<Store, 'channels' | 'webhooks' | 'routes' | 'escalations' | 'sources' | 'heartbeats' | 'mutes' | 'digests' | 'outbound'>;
  config: Pick<Config, 'discord'>;
};

export interface Exported {
  /** The configuration file: every channel, route, chain, source, heartbeat, maintenance window and digest. */
  yaml: string;
  /** The `${NAME}` references the file uses for credentials, with their values: only when asked for (`secrets`). */
  env?: Record<string, string>;
}

/** `payments-alerts` → `PAYMENTS_ALERTS`: a name as part of an environment variable's name. */
const envPart = (name: string) => name.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'X';
const minutes = (ms: number) => (ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`);

/**
 * Today's database as a configuration file that `herald config check` accepts and that, applied, changes
 * nothing but who manages each object (the file takes them over). Credentials (webhook URLs, outbound
 * URLs and signing secrets) are written as `${NAME}` references; their values are returned beside the
 * file only with `secrets` (for a secret store, never for git). Plain mutes are not configuration and stay
 * out; maintenance windows are in.
 */
export async function exportConfig(h: ExportDeps, opts: { secrets?: boolean } = {}): Promise<Exported> {
  const s = h.store;
  const env: Record<string, string> = {};
  const used = new Set<string>();
  const ref = (base: string, value: string) => {
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    env[name] = value;
    return `\${${name}}`;
  };
  const channelRows = await s.channels.allRows();
  const channelName = new Map(channelRows.map((c) => [c.id, c.name]));
  const hooks = (await s.webhooks.allInPools()).filter((w) => w.state !== 'retired');
  const apiUrl = h.config.discord.apiUrl;

  const channels = channelRows.map((c) => {
    const pool = hooks.filter((w) => w.channelId === c.id);
    return {
      name: c.name,
      discord_channel_id: c.discordChannelId,
      ...(c.isDefault ? { default: true } : {}),
      ...(c.kind === 'forum' ? { kind: 'forum' } : {}),
      ...(pool.length
        ? {
            webhooks: pool.map((w, i) => {
              const url = ref(`WEBHOOK_${envPart(c.name)}_${i + 1}`, `${apiUrl}/webhooks/${w.discordWebhookId}/${w.token}`);
              return w.owner === 'app' ? { url, owner: 'app' } : url;
            }),
          }
        : {}),
    };
  });

  const { chains, steps } = await s.escalations.chains();
  const chainName = new Map(chains.map((c) => [c.id, c.name]));
  const escalations = chains.map((c) => ({
    name: c.name,
    ...(c.repeats ? { repeats: c.repeats } : {}),
    ...(c.rearmAfterMs !== null ? { rearm_after_ms: c.rearmAfterMs } : {}),
    steps: steps
      .filter((x) => x.chainId === c.id)
      .map((x) => ({ kind: x.kind, delay_ms: x.delayMs, ...(x.target !== null ? { target: x.target } : {}), ...(x.channelId !== null ? { channel: channelName.get(x.channelId) } : {}) })),
  }));

  const targets = await s.outbound.listTargets();
  const routeRows = (await s.routes.allRows()).filter((r) => channelName.has(r.channelId));
  const routeName = new Map(routeRows.filter((r) => r.configName !== null).map((r) => [r.id, r.configName!]));
  const routes = routeRows.map((r) => {
    const label = envPart(r.configName ?? `route_${r.id}`);
    const out = targets.filter((t) => t.routeId === r.id);
    return {
      ...(r.configName !== null ? { name: r.configName } : {}),
      channel: channelName.get(r.channelId)!,
      ...(r.service !== null ? { service: r.service } : {}),
      ...(r.severities !== null ? { severities: r.severities } : {}),
      ...(r.environment !== null ? { environment: r.environment } : {}),
      ...(r.labels !== null ? { labels: r.labels } : {}),
      ...(r.businessHours !== null ? { business_hours: r.businessHours } : {}),
      ...(r.autoResolveAfterMs !== null ? { auto_resolve_after: minutes(r.autoResolveAfterMs) } : {}),
      ...(r.threads ? { threads: true } : {}),
      ...(r.groupBy?.length ? { group_by: r.groupBy } : {}),
      // group_wait is always whole seconds (it is given as "5s", "1m", …), so "<n>s" reads back the same.
      ...(r.groupWaitMs !== null ? { group_wait: `${r.groupWaitMs / 1000}s` } : {}),
      ...(r.escalationChainId !== null && chainName.has(r.escalationChainId) ? { escalation: chainName.get(r.escalationChainId) } : {}),
      ...(out.length
        ? {
            outbound: out.map((t, i) => ({
              kind: t.kind,
              url: ref(`OUTBOUND_${label}_${i + 1}_URL`, t.url),
              ...(t.secret !== null ? { secret: ref(`OUTBOUND_${label}_${i + 1}_SECRET`, t.secret) } : {}),
            })),
          }
        : {}),
    };
  });

  const sourceRows = await s.sources.all();
  const sourceName = new Map(sourceRows.map((x) => [x.id, x.name]));
  const sources = sourceRows.map((x) => ({
    name: x.name,
    ...(x.format !== null ? { format: x.format } : {}),
    ...(x.autoResolveAfterMs !== null ? { auto_resolve_after: minutes(x.autoResolveAfterMs) } : {}),
    ...(x.mapping !== null ? { mapping: x.mapping } : {}),
  }));

  const heartbeats = (await s.heartbeats.list()).map((b) => ({
    source: b.sourceName,
    name: b.name,
    interval: minutes(b.intervalMs),
    ...(b.graceMs ? { grace: minutes(b.graceMs) } : {}),
    severity: b.severity,
    ...(b.service !== b.name ? { service: b.service } : {}),
    ...(b.environment !== null ? { environment: b.environment } : {}),
    ...(b.labels !== null ? { labels: b.labels } : {}),
  }));

  // Windows whose route or source is gone, or silence a route the file cannot name, cannot be written back.
  const maintenance = (await s.mutes.windows())
    .filter((m) => (m.routeId === null || routeName.has(m.routeId)) && (m.sourceId === null || sourceName.has(m.sourceId)))
    .map((m) => {
      const sc = scheduleOf(m)!;
      return {
        name: m.configName ?? `window-${m.id}`,
        ...(m.service !== null ? { service: m.service } : {}),
        ...(m.routeId !== null ? { route: routeName.get(m.routeId) } : {}),
        ...(m.dedupKey !== null ? { dedup_key: m.dedupKey } : {}),
        ...(m.sourceId !== null ? { source: sourceName.get(m.sourceId) } : {}),
        ...(sc.kind === 'once'
          ? { start: new Date(sc.startsAt).toISOString(), end: new Date(Math.min(sc.endsAt, NEVER_EXPIRES)).toISOString() }
          : { cron: sc.cron, duration: minutes(sc.durationMs), timezone: sc.timezone }),
        ...(m.reason !== null ? { reason: m.reason } : {}),
      };
    });

  const digests = (await s.digests.all())
    .filter((d) => channelName.has(d.channelId))
    .map((d) => ({ channel: channelName.get(d.channelId)!, ...(d.enabled ? {} : { enabled: false }), time: d.time, timezone: d.timezone }));

  const body = { version: 1, channels, sources, escalations, routes, heartbeats, maintenance, digests };
  const yaml =
    `# Exported by Herald on ${new Date().toISOString()}. Credentials are \${NAME} references: set them in the environment.\n` +
    '# Editors validate and complete this file with a first line naming the schema (docs/config-file.md, "Keys").\n' +
    stringify(body, { lineWidth: 0 });
  return { yaml, ...(opts.secrets ? { env } : {}) };
}
