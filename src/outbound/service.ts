import { z } from 'zod';
import type { CommitSignals } from '../delivery/signals.js';
import type { Store } from '../store/index.js';
import type { OutboundTargetRow } from '../store/outbound.js';
import type { OutboundAddressGuard } from './address-policy.js';
import { newSigningSecret } from '../domain/signatures.js';
import { invalid } from '../domain/errors.js';
import { refuseIfManaged } from '../domain/managed.js';
import type { OutboundDeliveryView, TargetView } from './views.js';
import { notFound } from '../domain/errors.js';
import { signedHeaders } from '../domain/signatures.js';
import { randomBytes } from 'node:crypto';
import { sendToTarget } from './worker.js';
import type { Config } from '../config.js';

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

/** `outboundGuard`: judges a new target's address (SSRF; HERALD_OUTBOUND_ALLOWLIST). */
type Deps = { store: Pick<Store, 'outbound'>; outboundGuard: Pick<OutboundAddressGuard, 'decide'> };
type ReadDeps = { store: Pick<Store, 'outbound'> };

/**
 * Adds an outbound target to a route. A generic webhook gets a signing secret, in this answer only.
 * The URL must point at a public address now (its name is resolved); the worker judges it again at each send.
 */
export async function createTarget(h: Deps & { store: Pick<Store, 'routes'> }, routeId: number, input: TargetInput): Promise<TargetView & { secret?: string }> {
  refuseIfManaged(await h.store.routes.managedBy(routeId), `route ${routeId} (and its outbound targets)`);
  const decision = await h.outboundGuard.decide(input.url);
  if (!decision.ok) throw invalid('url', decision.reason);
  const secret = input.kind === 'webhook' ? newSigningSecret() : null;
  const row = await h.store.outbound.createTarget(routeId, { kind: input.kind, url: input.url, secret });
  return { ...view(row), ...(secret ? { secret } : {}) };
}

export async function listTargets(h: ReadDeps): Promise<TargetView[]> {
  return (await h.store.outbound.listTargets()).map(view);
}

/** Removes a target; its queued and past deliveries go with it. */
export async function deleteTarget(h: ReadDeps, id: number): Promise<void> {
  refuseIfManaged((await h.store.outbound.target(id))?.managedBy, `outbound target ${id}`);
  await h.store.outbound.deleteTarget(id);
}

const view = (t: OutboundTargetRow): TargetView => ({ id: t.id, route_id: t.routeId, kind: t.kind, url_masked: maskTargetUrl(t.url), created_at: t.createdAt });

export function listOutboundDeliveries(h: ReadDeps, f: { state?: 'pending' | 'leased' | 'sent' | 'dead'; alertId?: number; targetId?: number; beforeId?: number; limit: number }): Promise<OutboundDeliveryView[]> {
  return h.store.outbound.listDeliveries(f);
}

/** Sends a dead outbound delivery again from a fresh start (attempts 0, a new age budget). */
export async function replayOutbound(h: ReadDeps & { signals: Pick<CommitSignals, 'outboundQueued'> }, id: number, now = Date.now()): Promise<OutboundDeliveryView> {
  await h.store.outbound.replay(id, now);
  h.signals.outboundQueued();
  return (await listOutboundDeliveries(h, { limit: 1, beforeId: id + 1 }))[0]!;
}

/** What a test send got back: the target's status (null when it did not answer), how long it took, and why it failed. */
export interface TestSendResult {
  ok: boolean;
  status: number | null;
  latency_ms: number;
  error: string | null;
}

/**
 * Sends one test message to a target now, as the worker would send an alert (the same address policy,
 * signature and timeout), and says how it went. Nothing is queued or recorded: an operator checks a
 * target before alerts depend on it. A Slack target gets `{"text": …}`; a generic webhook a signed
 * `herald.test` event.
 */
export async function testTarget(
  h: { store: Pick<Store, 'outbound'>; outboundGuard: OutboundAddressGuard; config: Pick<Config, 'delivery'> },
  id: number,
  now = Date.now(),
): Promise<TestSendResult> {
  const target = await h.store.outbound.target(id);
  if (!target) throw notFound('outbound target', id);
  const text = `Herald test message for outbound target #${id}: if you can read this, alerts of route #${target.routeId} reach you.`;
  const body = JSON.stringify(target.kind === 'slack' ? { text } : { type: 'herald.test', timestamp: new Date(now).toISOString(), data: { target_id: id, route_id: target.routeId, message: text } });
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Herald' };
  if (target.kind === 'webhook' && target.secret) Object.assign(headers, signedHeaders([target.secret], `msg_herald_test_${randomBytes(8).toString('hex')}`, body, Math.floor(now / 1000)));
  const started = Date.now();
  const outcome = await sendToTarget(h.outboundGuard, target, headers, body, h.config.delivery.requestTimeoutMs);
  const latency_ms = Date.now() - started;
  return outcome.ok ? { ok: true, status: outcome.status, latency_ms, error: null } : { ok: false, status: outcome.status, latency_ms, error: outcome.error };
}
