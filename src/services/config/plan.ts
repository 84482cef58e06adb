import type { Config } from '../../config.js';
import { parseDurationMs } from '../../domain/duration.js';
import type { WindowSchedule } from '../../domain/maintenance.js';
import { hashToken, newSourceToken } from '../../domain/tokens.js';
import type { Store } from '../../store/index.js';
import { scheduleOf } from '../../store/mutes.js';
import type { FileRouteRow } from '../../store/routes.js';
import { autoResolveAfterMs } from '../auto-resolve-input.js';
import { heartbeatSettings } from '../heartbeats.js';
import { storedRoute } from '../routes.js';
import { storedMapping } from '../sources.js';
import type { FileMaintenance, FileRoute } from './file-schema.js';
import { routeCriteriaKey, type ConfigProblem, type LoadedConfig } from './load.js';

/**
 * What applying a configuration file changes, worked out against the database before anything is written:
 * one `Change` per object the file creates, takes over (`adopt`: made through the API, now the file's),
 * changes or removes. Objects made through the API that the file does not name are left alone. `run`
 * writes one change through the store; apply.ts runs them all in one transaction, in this order.
 */
export interface Change {
  action: 'create' | 'update' | 'adopt' | 'remove';
  kind: 'source' | 'channel' | 'webhook' | 'escalation chain' | 'route' | 'outbound target' | 'heartbeat' | 'maintenance window' | 'digest';
  name: string;
  /** What changes, one short phrase each (`threads: false → true`); for a removal, what goes with it. */
  details: string[];
  /** Writes the change through `tx` only (the apply's transaction; never the store the plan was read from). */
  run(tx: PlanStore, ctx: ApplyContext): Promise<void>;
}

export interface Plan {
  changes: Change[];
  /** Problems only the database can show (e.g. a webhook in the pool of a channel made through the API). */
  problems: ConfigProblem[];
  /** Channels whose webhook pool changes. */
  pools: Set<string>;
  /** Webhooks joining a pool: apply.ts asks Discord first whether each posts to its channel. */
  joining: { path: (string | number)[]; discordChannelId: string; discordWebhookId: string; token: string }[];
  /** Outbound URLs new to Herald: apply.ts judges their address first (SSRF), as the API does. */
  newUrls: { path: (string | number)[]; url: string }[];
  /** Whether an escalation chain is created, changed or removed (the escalation runner looks again). */
  chainsChange: boolean;
}

/** Ids by name, filled as objects are created (a route names its channel, a heartbeat its source, …). */
export interface ApplyContext {
  now: number;
  channels: Map<string, number>;
  sources: Map<string, number>;
  chains: Map<string, number>;
  routes: Map<string, number>;
  /** Channels whose pool changed, by id (for `poolChanged` after the commit). */
  poolsChanged: Set<number>;
}

/** The store modules a plan reads and its changes write. */
export type PlanStore = Pick<Store, 'channels' | 'webhooks' | 'routes' | 'escalations' | 'sources' | 'heartbeats' | 'mutes' | 'digests' | 'outbound' | 'deliveries'>;

export type PlanDeps = {
  store: PlanStore;
  config: Pick<Config, 'digest'>;
  /** Present when DISCORD_TOKEN is: threads in a text channel need the bot. */
  bot: object | undefined;
};

const show = (v: unknown): string => (v === null || v === undefined ? 'none' : typeof v === 'string' ? v : JSON.stringify(v));
const same = (a: unknown, b: unknown): boolean => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, canonical(x)]));
  return v ?? null;
}
/** `field: old → new` for each field that differs (`secret`: fields whose values are credentials, never shown). */
function diffFields(before: Record<string, unknown>, after: Record<string, unknown>, secret: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const k of Object.keys(after)) {
    if (same(before[k], after[k])) continue;
    out.push(secret.includes(k) ? `${k} changed` : `${k}: ${show(before[k])} → ${show(after[k])}`);
  }
  return out;
}
const hookName = (discordWebhookId: string) => `${discordWebhookId.slice(0, 6)}…${discordWebhookId.slice(-4)}`;

/** Works out the changes; reads only. */
export async function planConfig(h: PlanDeps, loaded: LoadedConfig): Promise<Plan> {
  const { file } = loaded;
  const s = h.store;
  const changes: Change[] = [];
  const removals: Change[] = [];
  const late: Change[] = [];
  const problems: ConfigProblem[] = [];
  const pools = new Set<string>();
  const joining: Plan['joining'] = [];
  const newUrls: Plan['newUrls'] = [];
  const problemAt = (path: (string | number)[], message: string) => {
    const [line, column] = loaded.where(path).split(':').map(Number) as [number, number];
    problems.push({ line, column, path: path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${k}`)).join(''), message });
  };

  // --- sources -------------------------------------------------------------------------------
  const sourceRows = await s.sources.all();
  const fileSources = new Set(file.sources.map((x) => x.name));
  for (const src of file.sources) {
    const want = { format: src.format ?? null, autoResolveAfterMs: autoResolveAfterMs(src.auto_resolve_after ?? null), mapping: storedMapping(src.mapping) };
    const row = sourceRows.find((r) => r.name === src.name);
    if (!row) {
      changes.push({
        action: 'create', kind: 'source', name: src.name, details: ['its token: POST /v1/admin/sources/{id}/token'],
        run: async (tx, ctx) => void ctx.sources.set(src.name, await tx.sources.create(src.name, hashToken(newSourceToken()), want.format, want.autoResolveAfterMs, want.mapping, 'file')),
      });
      continue;
    }
    const details = diffFields({ format: row.format, auto_resolve_after_ms: row.autoResolveAfterMs, mapping: row.mapping }, { format: want.format, auto_resolve_after_ms: want.autoResolveAfterMs, mapping: want.mapping });
    if (row.managedBy === 'file' && details.length === 0) continue;
    changes.push({ action: row.managedBy === 'file' ? 'update' : 'adopt', kind: 'source', name: src.name, details, run: (tx) => tx.sources.setFromFile(row.id, want) });
  }
  for (const row of sourceRows) {
    if (row.managedBy !== 'file' || fileSources.has(row.name)) continue;
    late.push({ action: 'remove', kind: 'source', name: row.name, details: ['its token stops working; its alerts stay'], run: (tx) => tx.sources.delete(row.id) });
  }

  // --- channels and their webhook pools --------------------------------------------------------
  const channelRows = await s.channels.allRows();
  const fileChannels = new Set(file.channels.map((c) => c.name));
  const hooks = await s.webhooks.allInPools();
  const channelName = new Map(channelRows.map((c) => [c.id, c.name]));
  for (const [ci, c] of file.channels.entries()) {
    const want = { discordChannelId: c.discord_channel_id, isDefault: c.default ?? false, kind: c.kind ?? 'text' };
    const known = await s.channels.byName(c.name);
    const row = channelRows.find((r) => r.name === c.name);
    if (!known) {
      const from = want.isDefault ? channelRows.find((x) => x.isDefault) : undefined;
      changes.push({
        action: 'create', kind: 'channel', name: c.name, details: from ? [`takes the default over from channel "${from.name}"`] : [],
        run: async (tx, ctx) => {
          const id = await tx.channels.create({ name: c.name, discordChannelId: want.discordChannelId, isDefault: false, kind: want.kind, managedBy: 'file' });
          await tx.channels.setFromFile(id, want);
          ctx.channels.set(c.name, id);
        },
      });
    } else {
      const details = known.removed
        ? ['brought back (it was dropped from the file earlier)']
        : diffFields({ discord_channel_id: row!.discordChannelId, default: row!.isDefault, kind: row!.kind }, { discord_channel_id: want.discordChannelId, default: want.isDefault, kind: want.kind });
      const from = want.isDefault ? channelRows.find((x) => x.isDefault && x.name !== c.name) : undefined;
      if (from) details.push(`takes the default over from channel "${from.name}"`);
      if (known.removed || known.managedBy !== 'file' || details.length) {
        changes.push({
          action: known.managedBy === 'file' && !known.removed ? 'update' : known.removed ? 'create' : 'adopt', kind: 'channel', name: c.name, details,
          run: async (tx, ctx) => {
            await tx.channels.setFromFile(known.id, want);
            ctx.channels.set(c.name, known.id);
          },
        });
      }
    }
    // The pool: the file's webhooks join (or are taken over), the pool's file-managed members the file no longer lists leave.
    const wanted = loaded.webhooks.get(c.name) ?? [];
    const pool = known && !known.removed ? hooks.filter((w) => w.channelId === known.id) : [];
    for (const [wi, w] of wanted.entries()) {
      const inPool = pool.find((p) => p.discordWebhookId === w.discordWebhookId);
      const elsewhere = hooks.find((p) => p.discordWebhookId === w.discordWebhookId && p !== inPool);
      if (elsewhere) {
        const other = channelName.get(elsewhere.channelId) ?? `#${elsewhere.channelId}`;
        const leaves = elsewhere.managedBy === 'file' && !(loaded.webhooks.get(other) ?? []).some((x) => x.discordWebhookId === w.discordWebhookId);
        if (!leaves) {
          problemAt(['channels', ci, 'webhooks', wi], `webhook ${w.discordWebhookId} is in the pool of channel "${other}"${elsewhere.managedBy === 'file' ? '' : ' (added through the API)'}; a webhook belongs to one pool: take it out there first`);
          continue;
        }
      }
      if (!inPool) {
        pools.add(c.name);
        joining.push({ path: ['channels', ci, 'webhooks', wi], discordChannelId: c.discord_channel_id, discordWebhookId: w.discordWebhookId, token: w.token });
        changes.push({
          action: 'create', kind: 'webhook', name: `${hookName(w.discordWebhookId)} in channel "${c.name}"`, details: [],
          run: async (tx, ctx) => {
            const id = ctx.channels.get(c.name)!;
            await tx.webhooks.join(id, { discordWebhookId: w.discordWebhookId, token: w.token, owner: w.owner, managedBy: 'file' });
            ctx.poolsChanged.add(id);
          },
        });
      } else if (inPool.managedBy !== 'file' || inPool.token !== w.token || inPool.owner !== w.owner) {
        const details = [...(inPool.token !== w.token ? ['token changed'] : []), ...(inPool.owner !== w.owner ? [`owner: ${inPool.owner} → ${w.owner}`] : [])];
        pools.add(c.name);
        changes.push({
          action: inPool.managedBy === 'file' ? 'update' : 'adopt', kind: 'webhook', name: `${hookName(w.discordWebhookId)} in channel "${c.name}"`, details,
          run: async (tx, ctx) => {
            await tx.webhooks.setFromFile(inPool.id, { token: w.token, owner: w.owner });
            ctx.poolsChanged.add(inPool.channelId);
          },
        });
      }
    }
    for (const p of pool) {
      if (p.managedBy !== 'file' || wanted.some((w) => w.discordWebhookId === p.discordWebhookId)) continue;
      pools.add(c.name);
      removals.push({
        action: 'remove', kind: 'webhook', name: `${hookName(p.discordWebhookId)} in channel "${c.name}"`, details: ['its token is wiped; its messages are edited by the bot from now on'],
        run: async (tx, ctx) => {
          await tx.webhooks.forget(p.id, ctx.now, 'removed from the configuration file');
          ctx.poolsChanged.add(p.channelId);
        },
      });
    }
  }
  const routeRows = await s.routes.allRows();
  for (const row of channelRows) {
    if (row.managedBy !== 'file' || fileChannels.has(row.name)) continue;
    const queued = await s.deliveries.pendingIn(row.id);
    const apiRoutes = routeRows.filter((r) => r.channelId === row.id && r.managedBy !== 'file').length;
    const details = [
      `${queued} queued deliver${queued === 1 ? 'y' : 'ies'} dead-lettered`,
      ...(apiRoutes ? [`${apiRoutes} route${apiRoutes === 1 ? '' : 's'} made through the API to it deleted`] : []),
      'its webhooks forgotten',
    ];
    late.push({
      action: 'remove', kind: 'channel', name: row.name, details,
      run: async (tx, ctx) => {
        await tx.deliveries.deadLetterChannel(row.id, `channel "${row.name}" was removed from the configuration file`, ctx.now);
        for (const r of await tx.routes.allRows()) if (r.channelId === row.id) await tx.routes.delete(r.id);
        for (const w of hooks) if (w.channelId === row.id) await tx.webhooks.forget(w.id, ctx.now, 'its channel was removed from the configuration file');
        await tx.digests.delete(row.id);
        await tx.channels.retire(row.id, ctx.now);
        ctx.poolsChanged.add(row.id);
      },
    });
  }

  // --- escalation chains -------------------------------------------------------------------------
  const { chains: chainRows, steps: stepRows } = await s.escalations.chains();
  const fileChains = new Set(file.escalations.map((c) => c.name));
  for (const c of file.escalations) {
    const wantSteps = c.steps.map((x) => ({ kind: x.kind, delay_ms: x.delay_ms, target: x.target ?? null, channel: x.channel ?? null }));
    const toNew = (ctx: ApplyContext) => ({
      repeats: c.repeats,
      rearmAfterMs: c.rearm_after_ms ?? null,
      steps: wantSteps.map((x) => ({ kind: x.kind, delayMs: x.delay_ms, target: x.target, channelId: x.channel === null ? null : ctx.channels.get(x.channel)! })),
    });
    const row = chainRows.find((r) => r.name === c.name);
    if (!row) {
      changes.push({ action: 'create', kind: 'escalation chain', name: c.name, details: [], run: async (tx, ctx) => void ctx.chains.set(c.name, await tx.escalations.createChain({ name: c.name, ...toNew(ctx), managedBy: 'file' })) });
      continue;
    }
    const haveSteps = stepRows
      .filter((x) => x.chainId === row.id)
      .map((x) => ({ kind: x.kind, delay_ms: x.delayMs, target: x.target, channel: x.channelId === null ? null : (channelName.get(x.channelId) ?? `#${x.channelId}`) }));
    const details = diffFields({ repeats: row.repeats, rearm_after_ms: row.rearmAfterMs, steps: haveSteps }, { repeats: c.repeats, rearm_after_ms: c.rearm_after_ms ?? null, steps: wantSteps });
    if (row.managedBy === 'file' && details.length === 0) continue;
    changes.push({ action: row.managedBy === 'file' ? 'update' : 'adopt', kind: 'escalation chain', name: c.name, details, run: (tx, ctx) => tx.escalations.setFromFile(row.id, toNew(ctx)) });
  }
  for (const row of chainRows) {
    if (row.managedBy !== 'file' || fileChains.has(row.name)) continue;
    removals.push({ action: 'remove', kind: 'escalation chain', name: row.name, details: ['escalations running it stop'], run: (tx) => tx.escalations.deleteChain(row.id) });
  }

  // --- routes --------------------------------------------------------------------------------------
  const chainName = new Map(chainRows.map((c) => [c.id, c.name]));
  const targets = await s.outbound.listTargets();
  const taken = new Set<number>();
  const described = (r: FileRoute, i: number) => r.name ?? `routes[${i}] (${r.service ?? '*'} → ${r.channel})`;
  for (const [ri, r] of file.routes.entries()) {
    const { channel, name, escalation, outbound, ...input } = r;
    const stored = (ctx?: ApplyContext): FileRouteRow => ({ ...storedRoute({ ...input, channel_id: ctx?.channels.get(channel) ?? 0 }), configName: name ?? null });
    const wantOut = (outbound ?? []).map((t) => ({ kind: t.kind, url: t.url, secret: t.secret ?? null }));
    (outbound ?? []).forEach((t, ti) => {
      if (!targets.some((x) => x.url === t.url)) newUrls.push({ path: ['routes', ri, 'outbound', ti, 'url'], url: t.url });
    });
    // Named: the route of that name; else (a name given to a route the file had unnamed, or an API route) the
    // unnamed route with the same channel and criteria, as for an unnamed one.
    const byCriteria = () => routeRows.find((x) => !taken.has(x.id) && x.configName === null && routeCriteriaKey(rowCriteria(x, channelName)) === routeCriteriaKey(r));
    const match = (name !== undefined ? routeRows.find((x) => x.managedBy === 'file' && x.configName === name) : undefined) ?? byCriteria();
    if (h.bot === undefined && r.threads && (r.channel && file.channels.find((c) => c.name === r.channel)?.kind !== 'forum')) {
      problemAt(['routes', ri, 'threads'], 'threads need the bot: set DISCORD_TOKEN (Herald starts a thread from each card with it), or make the channel a forum');
    }
    const setOutbound = async (tx: PlanStore, routeId: number, have: typeof targets) => {
      for (const t of have) if (!wantOut.some((w) => w.kind === t.kind && w.url === t.url && w.secret === t.secret)) await tx.outbound.deleteTarget(t.id);
      for (const w of wantOut) if (!have.some((t) => w.kind === t.kind && w.url === t.url && w.secret === t.secret)) await tx.outbound.createTarget(routeId, { ...w, managedBy: 'file' });
    };
    const setChain = (tx: PlanStore, ctx: ApplyContext, routeId: number) => tx.escalations.setRouteChain(routeId, escalation === undefined ? null : ctx.chains.get(escalation)!);
    if (!match) {
      changes.push({
        action: 'create', kind: 'route', name: described(r, ri), details: [...(wantOut.length ? [`${wantOut.length} outbound target${wantOut.length === 1 ? '' : 's'}`] : [])],
        run: async (tx, ctx) => {
          const id = await tx.routes.createFromFile(stored(ctx));
          if (name !== undefined) ctx.routes.set(name, id);
          if (escalation !== undefined) await setChain(tx, ctx, id);
          await setOutbound(tx, id, []);
        },
      });
      continue;
    }
    taken.add(match.id);
    const want = stored();
    const have = targets.filter((t) => t.routeId === match.id);
    const outDetail = same(
      have.map((t) => [t.kind, t.url, t.secret]).sort(),
      wantOut.map((t) => [t.kind, t.url, t.secret]).sort(),
    )
      ? []
      : ['outbound targets changed'];
    // Every setting the route stores (storedRoute's columns: a new route setting shows here by itself), by its column's name.
    const { channelId: _id, configName: _name, managedBy: _m, ...settings } = want;
    const before: Record<string, unknown> = { name: match.configName, channel: channelName.get(match.channelId), escalation: match.escalationChainId === null ? null : chainName.get(match.escalationChainId) };
    const after: Record<string, unknown> = { name: name ?? null, channel, escalation: escalation ?? null };
    for (const [k, v] of Object.entries(settings)) {
      const column = k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      before[column] = (match as Record<string, unknown>)[k];
      after[column] = v ?? (typeof before[column] === 'boolean' ? false : null);
    }
    const details = [...diffFields(before, after), ...outDetail];
    if (match.managedBy === 'file' && details.length === 0) continue;
    changes.push({
      action: match.managedBy === 'file' ? 'update' : 'adopt', kind: 'route', name: described(r, ri), details,
      run: async (tx, ctx) => {
        await tx.routes.setFromFile(match.id, stored(ctx));
        if (name !== undefined) ctx.routes.set(name, match.id);
        await setChain(tx, ctx, match.id);
        await setOutbound(tx, match.id, have);
      },
    });
  }
  for (const row of routeRows) {
    if (row.managedBy !== 'file' || taken.has(row.id)) continue;
    const n = targets.filter((t) => t.routeId === row.id).length;
    removals.push({
      action: 'remove', kind: 'route', name: row.configName ?? `#${row.id} (${row.service ?? '*'} → ${channelName.get(row.channelId) ?? row.channelId})`,
      details: n ? [`its ${n} outbound target${n === 1 ? '' : 's'} too`] : [],
      run: (tx) => tx.routes.delete(row.id),
    });
  }

  // --- heartbeats ----------------------------------------------------------------------------------
  const beats = await s.heartbeats.list();
  for (const hb of file.heartbeats) {
    const settings = heartbeatSettings(hb);
    const row = beats.find((b) => b.sourceName === hb.source && b.name === hb.name);
    const label = `${hb.name} of source "${hb.source}"`;
    if (!row) {
      changes.push({
        action: 'create', kind: 'heartbeat', name: label, details: [],
        run: async (tx, ctx) => void (await tx.heartbeats.create({ ...settings, sourceId: ctx.sources.get(hb.source)!, now: ctx.now, managedBy: 'file' })),
      });
      continue;
    }
    const { name: _n, ...rest } = settings;
    const details = diffFields({ interval_ms: row.intervalMs, grace_ms: row.graceMs, severity: row.severity, service: row.service, environment: row.environment, labels: row.labels }, {
      interval_ms: rest.intervalMs, grace_ms: rest.graceMs, severity: rest.severity, service: rest.service, environment: rest.environment, labels: rest.labels,
    });
    if (row.managedBy === 'file' && details.length === 0) continue;
    changes.push({ action: row.managedBy === 'file' ? 'update' : 'adopt', kind: 'heartbeat', name: label, details, run: (tx) => tx.heartbeats.setFromFile(row.id, rest) });
  }
  for (const row of beats) {
    if (row.managedBy !== 'file' || file.heartbeats.some((hb) => hb.source === row.sourceName && hb.name === row.name)) continue;
    removals.push({ action: 'remove', kind: 'heartbeat', name: `${row.name} of source "${row.sourceName}"`, details: [], run: (tx) => tx.heartbeats.delete(row.id) });
  }

  // --- maintenance windows ---------------------------------------------------------------------------
  const windows = await s.mutes.windows();
  const routeName = new Map(routeRows.filter((x) => x.configName !== null).map((x) => [x.id, x.configName!]));
  const sourceName = new Map(sourceRows.map((x) => [x.id, x.name]));
  for (const w of file.maintenance) {
    const schedule = windowSchedule(w);
    const want = { service: w.service ?? null, route: w.route ?? null, dedup_key: w.dedup_key ?? null, source: w.source ?? null, reason: w.reason ?? null, schedule };
    const toNew = (ctx: ApplyContext) => ({
      configName: w.name, schedule, service: want.service, dedupKey: want.dedup_key, reason: want.reason,
      routeId: w.route === undefined ? null : ctx.routes.get(w.route)!, sourceId: w.source === undefined ? null : ctx.sources.get(w.source)!,
    });
    const row = windows.find((x) => x.configName === w.name);
    if (!row) {
      changes.push({ action: 'create', kind: 'maintenance window', name: w.name, details: [describeSchedule(schedule)], run: async (tx, ctx) => void (await tx.mutes.createWindow(toNew(ctx), ctx.now)) });
      continue;
    }
    const details = diffFields(
      { service: row.service, route: row.routeId === null ? null : (routeName.get(row.routeId) ?? `#${row.routeId}`), dedup_key: row.dedupKey, source: row.sourceId === null ? null : (sourceName.get(row.sourceId) ?? null), reason: row.reason, schedule: scheduleOf(row) ?? null },
      want,
    );
    if (details.length === 0) continue;
    changes.push({ action: 'update', kind: 'maintenance window', name: w.name, details, run: (tx, ctx) => tx.mutes.updateWindow(row.id, toNew(ctx)) });
  }
  for (const row of windows) {
    if (file.maintenance.some((w) => w.name === row.configName)) continue;
    removals.push({ action: 'remove', kind: 'maintenance window', name: row.configName ?? `#${row.id}`, details: ['ends now'], run: (tx, ctx) => tx.mutes.endWindow(row.id, ctx.now) });
  }

  // --- digests -----------------------------------------------------------------------------------------
  const digestRows = await s.digests.all();
  for (const d of file.digests) {
    const want = { enabled: d.enabled, time: d.time ?? h.config.digest.time, timezone: d.timezone ?? h.config.digest.timezone };
    const channelRow = channelRows.find((c) => c.name === d.channel);
    const row = channelRow && digestRows.find((x) => x.channelId === channelRow.id);
    const run = (tx: PlanStore, ctx: ApplyContext) => tx.digests.save(ctx.channels.get(d.channel)!, want, 'file');
    if (!row) {
      changes.push({ action: 'create', kind: 'digest', name: `channel "${d.channel}"`, details: [`${want.enabled ? '' : 'disabled, '}at ${want.time} ${want.timezone}`], run });
      continue;
    }
    const details = diffFields({ enabled: row.enabled, time: row.time, timezone: row.timezone }, want);
    if (row.managedBy === 'file' && details.length === 0) continue;
    changes.push({ action: row.managedBy === 'file' ? 'update' : 'adopt', kind: 'digest', name: `channel "${d.channel}"`, details, run });
  }
  for (const row of digestRows) {
    const name = channelName.get(row.channelId);
    if (row.managedBy !== 'file' || name === undefined || !fileChannels.has(name) || file.digests.some((d) => d.channel === name)) continue;
    removals.push({ action: 'remove', kind: 'digest', name: `channel "${name}"`, details: [], run: async (tx) => void (await tx.digests.delete(row.channelId)) });
  }

  // Removals first (a webhook or a name moves between objects), then creations and changes in dependency
  // order, then what must go last (channels and sources the file dropped, once nothing of the file needs them).
  const all = [...removals, ...changes, ...late];
  return { changes: all, problems, pools, joining, newUrls, chainsChange: all.some((c) => c.kind === 'escalation chain') };
}

/** The ids the plan starts from: every object the file names that exists already. */
export async function contextFor(h: PlanDeps, now: number): Promise<ApplyContext> {
  const s = h.store;
  return {
    now,
    channels: new Map((await s.channels.allRows()).map((c) => [c.name, c.id])),
    sources: new Map((await s.sources.all()).map((x) => [x.name, x.id])),
    chains: new Map((await s.escalations.chains()).chains.map((c) => [c.name, c.id])),
    routes: new Map((await s.routes.allRows()).filter((r) => r.managedBy === 'file' && r.configName !== null).map((r) => [r.configName!, r.id])),
    poolsChanged: new Set(),
  };
}

function rowCriteria(r: Awaited<ReturnType<PlanStore['routes']['allRows']>>[number], channelName: Map<number, string>) {
  return {
    channel: channelName.get(r.channelId) ?? `#${r.channelId}`,
    service: r.service ?? undefined,
    severities: (r.severities ?? undefined) as FileRoute['severities'],
    environment: r.environment ?? undefined,
    labels: r.labels ?? undefined,
  };
}

export function windowSchedule(w: FileMaintenance): WindowSchedule {
  if (w.cron !== undefined) return { kind: 'recurring', cron: w.cron, timezone: w.timezone ?? 'UTC', durationMs: parseDurationMs(w.duration!)! };
  return { kind: 'once', startsAt: Date.parse(w.start!), endsAt: Date.parse(w.end!) };
}

const describeSchedule = (s: WindowSchedule): string =>
  s.kind === 'once' ? `${new Date(s.startsAt).toISOString()} to ${new Date(s.endsAt).toISOString()}` : `"${s.cron}" (${s.timezone}) for ${s.durationMs / 60_000} min`;

/** One line per change, as `herald config diff` and the reload's answer show them: `+ route payments-critical`, `~ channel "ops": default: false → true`. */
export function describeChange(c: Change): string {
  const mark = { create: '+', update: '~', adopt: '=', remove: '-' }[c.action];
  const head = `${mark} ${c.kind} ${c.kind === 'channel' || c.kind === 'source' || c.kind === 'escalation chain' ? `"${c.name}"` : c.name}${c.action === 'adopt' ? ' (made through the API; now managed by the file)' : ''}`;
  return c.details.length ? `${head}: ${c.details.join('; ')}` : head;
}
