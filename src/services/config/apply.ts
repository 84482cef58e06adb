import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import type { CommitSignals } from '../../delivery/signals.js';
import { lookUpWebhook } from '../../discord/webhook-lookup.js';
import { ServiceError } from '../../domain/errors.js';
import type { OutboundAddressGuard } from '../../outbound/address-policy.js';
import type { Store } from '../../store/index.js';
import type { ConfigProblem, LoadedConfig } from './load.js';
import { contextFor, describeChange, planConfig, type ApplyContext, type Plan, type PlanDeps } from './plan.js';

export type ApplyDeps = PlanDeps & {
  store: PlanDeps['store'] & Pick<Store, 'transaction' | 'refreshCaches'>;
  config: PlanDeps['config'] & Pick<Config, 'discord' | 'delivery'>;
  signals: Pick<CommitSignals, 'poolChanged' | 'chainsChanged'>;
  outboundGuard: Pick<OutboundAddressGuard, 'decide'>;
  log: Pick<Logger, 'warn'>;
};

export type ApplyOutcome = { ok: true; changes: string[]; warnings: ConfigProblem[] } | { ok: false; problems: ConfigProblem[] };

/**
 * What applying would change, with the problems only the database and Discord can show (a webhook that
 * posts to another channel, an outbound address Herald may not reach). Writes nothing.
 */
export async function planWithChecks(h: ApplyDeps, loaded: LoadedConfig): Promise<{ plan: Plan; problems: ConfigProblem[]; warnings: ConfigProblem[] }> {
  const plan = await planConfig(h, loaded);
  const problems = [...plan.problems];
  const warnings = [...loaded.warnings];
  const at = (path: (string | number)[], message: string, into: ConfigProblem[]) => {
    const [line, column] = loaded.where(path).split(':').map(Number) as [number, number];
    into.push({ line, column, path: path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${k}`)).join(''), message });
  };
  await Promise.all([
    ...plan.joining.map(async (j) => {
      const found = await lookUpWebhook(h.config.discord.apiUrl, j, h.config.delivery.requestTimeoutMs);
      if (found.kind === 'unknown') at(j.path, `Discord does not know webhook ${j.discordWebhookId} (deleted, or its token is wrong); copy the URL again from Discord`, problems);
      else if (found.kind === 'found' && found.channelId !== j.discordChannelId) {
        at(j.path, `webhook ${j.discordWebhookId} posts to Discord channel ${found.channelId}, not to this channel's ${j.discordChannelId}; use a webhook of that channel`, problems);
      } else if (found.kind === 'unreachable') {
        // Refusing the whole file because Discord is slow for a moment would keep every other change out too.
        at(j.path, `could not check webhook ${j.discordWebhookId} with Discord (${found.reason}); it joins the pool unchecked`, warnings);
      }
    }),
    ...plan.newUrls.map(async (u) => {
      const decision = await h.outboundGuard.decide(u.url);
      if (!decision.ok) at(u.path, decision.reason, problems);
    }),
  ]);
  return { plan, problems: problems.sort((a, b) => a.line - b.line || a.column - b.column), warnings };
}

/**
 * Applies a loaded file: the plan (plan.ts), checked (above), then every change in ONE transaction; a
 * failure rolls all of it back and the running configuration stays as it was. Queued and posted alerts
 * survive any change: a dropped channel's queued deliveries become dead letters with the reason.
 * After the commit, delivery rebuilds the pools that changed and the escalation runner looks again.
 */
export async function applyConfig(h: ApplyDeps, loaded: LoadedConfig, now = Date.now()): Promise<ApplyOutcome> {
  const { problems, warnings } = await planWithChecks(h, loaded);
  if (problems.length) return { ok: false, problems };
  // Planned again right before writing: the checks above awaited Discord, and the API may have written meanwhile.
  // Planned inside the transaction that writes it (reading through tx), so that nothing writes between the two.
  // A throw while planning (nothing written yet) leaves applyConfig as it did when planning came before the transaction.
  let planning: { err: unknown } | undefined;
  let result: { fresh: Plan; ctx?: ApplyContext } | undefined;
  try {
    result = await h.store.transaction(async (tx) => {
      const inTx = { ...h, store: tx };
      let fresh: Plan;
      let ctx: ApplyContext;
      try {
        fresh = await planConfig(inTx, loaded);
        if (fresh.problems.length) return { fresh };
        ctx = await contextFor(inTx, now);
      } catch (err) {
        planning = { err };
        return undefined;
      }
      for (const change of fresh.changes) await change.run(tx, ctx);
      return { fresh, ctx };
    });
  } catch (err) {
    // On the outer store, once the transaction has rolled back: the caches its modules refreshed inside it are read again.
    await h.store.refreshCaches();
    if (!(err instanceof ServiceError)) throw err;
    return { ok: false, problems: [{ line: 1, column: 1, path: '', message: `could not apply the file: ${err.message}` }] };
  }
  if (planning) throw planning.err;
  const { fresh, ctx } = result!;
  if (!ctx) return { ok: false, problems: fresh.problems };
  for (const id of ctx.poolsChanged) h.signals.poolChanged(id);
  if (fresh.chainsChange) h.signals.chainsChanged();
  return { ok: true, changes: fresh.changes.map(describeChange), warnings };
}
