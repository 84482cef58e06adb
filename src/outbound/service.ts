import { and, desc, eq, lt } from 'drizzle-orm';
import { z } from 'zod';
import { outboundDeliveries, outboundTargets, routes } from '../store/sqlite/schema.js';
import type { Herald } from '../herald.js';
import { newSigningSecret } from '../domain/signatures.js';
import { conflict, invalid, notFound } from '../domain/errors.js';
import type { OutboundDeliveryView, TargetView } from './views.js';

export const targetInput = z.strictObject({
  kind: z.enum(['slack', 'webhook']).describe('slack: a Slack-compatible incoming webhook ({"text": …}); webhook: JSON signed with Standard Webhooks headers'),
  url: z.url({ protocol: /^https?$/ }).max(2000).describe('Where to POST; a credential for Slack (never shown again unmasked)'),
});
export type TargetInput = z.output<typeof targetInput>;

/** `https://hooks.slack.com/services/T…/B…/xyz` → `https://hooks.slack.com/****`: the host helps, the path may be a token. */
export const maskTargetUrl = (url: string): string => {
  try {
    return `${new URL(url).origin}/****`;
  } catch {
    return '****';
  }
};

type Deps = Pick<Herald, 'db' | 'outboundTargets' | 'outboundGuard'>;

/**
 * Adds an outbound target to a route. A generic webhook gets a signing secret, in this answer only.
 * The URL must point at a public address now (its name is resolved); the worker judges it again at each send.
 */
export async function createTarget(h: Deps, routeId: number, input: TargetInput): Promise<TargetView & { secret?: string }> {
  const decision = await h.outboundGuard.decide(input.url);
  if (!decision.ok) throw invalid('url', decision.reason);
  const secret = input.kind === 'webhook' ? newSigningSecret() : null;
  const row = h.db.transaction((tx) => {
    if (!tx.select({ id: routes.id }).from(routes).where(eq(routes.id, routeId)).get()) throw notFound('route', routeId);
    return tx.insert(outboundTargets).values({ routeId, kind: input.kind, url: input.url, secret }).returning().get();
  });
  h.outboundTargets.reload();
  return { ...view(row), ...(secret ? { secret } : {}) };
}

export function listTargets(h: Pick<Herald, 'db'>): TargetView[] {
  return h.db.select().from(outboundTargets).orderBy(outboundTargets.id).all().map(view);
}

/** Removes a target; its queued and past deliveries go with it. */
export function deleteTarget(h: Pick<Herald, 'db' | 'outboundTargets'>, id: number): void {
  const n = h.db.delete(outboundTargets).where(eq(outboundTargets.id, id)).run().changes;
  h.outboundTargets.reload();
  if (!n) throw notFound('outbound target', id);
}

const view = (t: typeof outboundTargets.$inferSelect): TargetView => ({ id: t.id, route_id: t.routeId, kind: t.kind, url_masked: maskTargetUrl(t.url), created_at: t.createdAt });

export function listOutboundDeliveries(h: Pick<Herald, 'db'>, f: { state?: 'pending' | 'leased' | 'sent' | 'dead'; alertId?: number; beforeId?: number; limit: number }): OutboundDeliveryView[] {
  const d = outboundDeliveries;
  return h.db
    .select({
      id: d.id, target_id: d.targetId, alert_id: d.alertId, event: d.event, state: d.state, attempts: d.attempts, last_status: d.lastStatus,
      last_error: d.lastError, created_at: d.createdAt, sent_at: d.sentAt, dead_at: d.deadAt, replayed_at: d.replayedAt,
    })
    .from(d)
    .where(and(f.state ? eq(d.state, f.state) : undefined, f.alertId ? eq(d.alertId, f.alertId) : undefined, f.beforeId ? lt(d.id, f.beforeId) : undefined))
    .orderBy(desc(d.id))
    .limit(f.limit)
    .all();
}

/** Sends a dead outbound delivery again from a fresh start (attempts 0, a new age budget). */
export function replayOutbound(h: Pick<Herald, 'db' | 'outbound'>, id: number, now = Date.now()): OutboundDeliveryView {
  const d = outboundDeliveries;
  const row = h.db.select({ state: d.state }).from(d).where(eq(d.id, id)).get();
  if (!row) throw notFound('outbound delivery', id);
  if (row.state !== 'dead') throw conflict(`outbound delivery ${id} is ${row.state}, not dead; nothing to replay`);
  h.db.update(d).set({ state: 'pending', attempts: 0, availableAt: now, createdAt: now, leaseUntil: null, replayedAt: now }).where(eq(d.id, id)).run();
  h.outbound.start();
  return listOutboundDeliveries(h, { limit: 1, beforeId: id + 1 })[0]!;
}
