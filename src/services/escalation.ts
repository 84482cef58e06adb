import { z } from 'zod';
import { refuseIfManaged } from '../domain/managed.js';
import { discordIdSchema } from '../discord/ids.js';
import type { CommitSignals } from '../delivery/signals.js';
import type { NewStep } from '../store/escalations.js';
import type { Store } from '../store/index.js';
import { notFound } from './errors.js';
import type { ChainView, EscalationView } from './views.js';

const DAY_MS = 86_400_000;

/** A step's fields; where it posts is `channel_id` here and a channel's name (`channel`) in the configuration file. */
export const stepFields = z.strictObject({
  kind: z.enum(['channel', 'role', 'user']).describe('channel: post the alert in `channel_id`; role / user: post it mentioning `target`'),
  delay_ms: z.number().int().min(0).max(7 * DAY_MS).describe('Wait after the previous step (for the first: after the alert arrived), in milliseconds'),
  target: discordIdSchema.optional().describe('The Discord role or user id to mention (role and user steps)'),
  channel_id: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Channel steps: where to post. Mention steps: where to post the mention (default: the channels the alert was routed to)'),
});

/** The rules between a step's fields, for either spelling of where it posts (`channel_id` or the file's `channel`). */
export const stepRules =
  (where: 'channel_id' | 'channel') =>
  (s: { kind: 'channel' | 'role' | 'user'; target?: string | undefined } & { [k in typeof where]?: unknown }, ctx: z.RefinementCtx): void => {
    if (s.kind === 'channel' && s[where] === undefined) ctx.addIssue({ code: 'custom', path: [where], message: `a channel step needs ${where}` });
    if (s.kind === 'channel' && s.target !== undefined) ctx.addIssue({ code: 'custom', path: ['target'], message: 'a channel step mentions nobody: leave target out' });
    if (s.kind !== 'channel' && s.target === undefined) ctx.addIssue({ code: 'custom', path: ['target'], message: `a ${s.kind} step needs target (the ${s.kind} id)` });
  };

export const stepInput = stepFields.superRefine(stepRules('channel_id'));
export type StepInput = z.output<typeof stepInput>;

/** A chain's own settings (its steps apart): the admin API's body and the configuration file share them. */
export const chainFields = z.strictObject({
  name: z.string().trim().min(1).max(100).describe('A unique name'),
  repeats: z.number().int().min(0).max(10).default(0).describe('How many more times the whole chain runs after the first (0 to 10)'),
  rearm_after_ms: z
    .number()
    .int()
    .min(1)
    .max(7 * DAY_MS)
    .nullable()
    .optional()
    .describe('An acknowledgement not followed by a resolve within this time re-arms the chain; unset: an acknowledgement stops it'),
});
export const chainInput = chainFields.extend({
  steps: z.array(stepInput).max(20).optional().describe('Steps, in order (more can be added later)'),
});
export type ChainInput = z.output<typeof chainInput>;

export const routeChainInput = z.strictObject({
  chain_id: z.number().int().positive().nullable().describe('The chain to arm for alerts this route matches; null detaches'),
});

type Deps = { store: Pick<Store, 'escalations'>; signals: Pick<CommitSignals, 'chainsChanged'> };
type ReadDeps = { store: Pick<Store, 'escalations'> };
type RouteChainDeps = { store: Pick<Store, 'escalations' | 'routes'> };

/** Creates a chain (with its first steps, if given). 409 when the name is taken. */
export async function createChain(h: ReadDeps, input: ChainInput): Promise<ChainView> {
  const id = await h.store.escalations.createChain({ name: input.name, repeats: input.repeats, rearmAfterMs: input.rearm_after_ms ?? null, steps: (input.steps ?? []).map(newStep) });
  return getChain(h, id);
}

/** Appends a step to a chain; running escalations pick it up at their next step. */
export async function addStep(h: Deps, chainId: number, input: StepInput): Promise<ChainView> {
  refuseIfManaged(await h.store.escalations.managedBy(chainId), `escalation chain ${chainId}`);
  await h.store.escalations.addStep(chainId, newStep(input));
  h.signals.chainsChanged();
  return getChain(h, chainId);
}

export const newStep = (s: StepInput): NewStep => ({ kind: s.kind, delayMs: s.delay_ms, target: s.target ?? null, channelId: s.channel_id ?? null });

export async function listChains(h: ReadDeps): Promise<ChainView[]> {
  const { chains, steps, routes } = await h.store.escalations.chains();
  return chains.map((c) => ({
    id: c.id,
    name: c.name,
    repeats: c.repeats,
    rearm_after_ms: c.rearmAfterMs,
    steps: steps
      .filter((s) => s.chainId === c.id)
      .map((s) => ({ id: s.id, position: s.position, kind: s.kind, delay_ms: s.delayMs, target: s.target, channel_id: s.channelId })),
    route_ids: routes.filter((r) => r.chainId === c.id).map((r) => r.id),
    created_at: c.createdAt,
  }));
}

export async function getChain(h: ReadDeps, id: number): Promise<ChainView> {
  const c = (await listChains(h)).find((x) => x.id === id);
  if (!c) throw notFound('escalation chain', id);
  return c;
}

/** "12", "#12" or a chain's name → its id; 404 otherwise. */
export async function findChain(h: ReadDeps, ref: string): Promise<number> {
  const r = ref.trim();
  const asId = /^#?(\d{1,15})$/.exec(r);
  const id = await h.store.escalations.chainId(asId ? { id: Number(asId[1]) } : { name: r });
  if (id === undefined) throw notFound('escalation chain', r);
  return id;
}

/** Deletes a chain: its routes no longer arm it, and escalations running it stop (their history goes with them). */
export async function deleteChain(h: ReadDeps, id: number): Promise<void> {
  refuseIfManaged(await h.store.escalations.managedBy(id), `escalation chain ${id}`);
  await h.store.escalations.deleteChain(id);
}

/** Names (or, with null, clears) the chain a route arms. */
export async function setRouteChain(h: RouteChainDeps, routeId: number, chainId: number | null): Promise<{ route_id: number; chain_id: number | null }> {
  refuseIfManaged(await h.store.routes.managedBy(routeId), `route ${routeId}`);
  await h.store.escalations.setRouteChain(routeId, chainId);
  return { route_id: routeId, chain_id: chainId };
}

/** Escalations (newest first), of one alert or all, optionally only those still going; each with the steps it ran. */
export async function listEscalations(h: ReadDeps, f: { alertId?: number; active?: boolean; limit?: number } = {}): Promise<EscalationView[]> {
  const { escalations: rows, runs } = await h.store.escalations.escalations(f);
  return rows.map((e) => ({
    id: e.id,
    alert_id: e.alertId,
    chain_id: e.chainId,
    state: e.state,
    step_index: e.stepIndex,
    round: e.round,
    cycle: e.cycle,
    due_at: e.dueAt,
    reason: e.reason,
    runs: runs
      .filter((r) => r.escalationId === e.id)
      .map((r) => ({ cycle: r.cycle, round: r.round, step_index: r.stepIndex, kind: r.kind, target: r.target, deliveries: r.deliveries, at: r.at })),
  }));
}

const ms = (n: number) => (n % 60_000 === 0 ? `${n / 60_000}m` : n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`);

/** One line per step, for the bot: "1. after 5m: mention <@&role> in the alert's channels" (delays from the previous step). */
export function describeChain(c: ChainView, channelName: (id: number) => string = (id) => `channel #${id}`): string {
  const head =
    `**${c.name}** (#${c.id}): runs ${c.repeats + 1} time${c.repeats ? 's' : ''}` +
    (c.rearm_after_ms !== null ? `, re-armed ${ms(c.rearm_after_ms)} after an acknowledgement without resolve` : ', stops on acknowledge or resolve') +
    (c.route_ids.length ? `; armed by route${c.route_ids.length > 1 ? 's' : ''} ${c.route_ids.map((r) => `#${r}`).join(', ')}` : '; no route arms it yet');
  const lines = c.steps.map((s, i) => {
    const where = s.channel_id !== null ? `in ${channelName(s.channel_id)}` : "in the alert's channels";
    const what = s.kind === 'channel' ? `post the alert ${where}` : `mention ${s.kind === 'role' ? `<@&${s.target}>` : `<@${s.target}>`} ${where}`;
    return `${i + 1}. ${s.delay_ms === 0 ? 'at once' : `after ${ms(s.delay_ms)}`}: ${what}`;
  });
  return [head, ...(lines.length ? lines : ['(no steps yet: add one with /escalation add-step)'])].join('\n');
}
