import { z } from 'zod';
import type { CommitSignals } from '../delivery/signals.js';
import type { Store } from '../store/index.js';
import type { OutboundTargetRow } from '../store/outbound.js';
import type { OutboundAddressGuard } from './address-policy.js';
import { newSigningSecret } from '../domain/signatures.js';
import { invalid } from '../domain/errors.js';
import { refuseIfManaged } from '../domain/managed.js';
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

/** `outboundGuard`: judges a new target's address (SSRF; HERALD_OUTBOUND_ALLOWLIST). */
type Deps = { store: Pick<Store, 'outbound'>; outboundGuard: Pick<OutboundAddressGuard, 'decide'> };
type ReadDeps = { store: Pick<Store, 'outbound'> };

/**
 * Adds an outbound target to a route. A generic webhook gets a signing secret, in this answer only.
 * The URL must point at a public address now (its name is resolved); the worker judges it again at each send.
 */
export async function createTarget(h: Deps & { store: Pick<Store, 'routes'> }, routeId: number, input: TargetInput): Promise<TargetView & { secret?: string }> {
  refuseIfManaged(h.store.routes.managedBy(routeId), `route ${routeId} (and its outbound targets)`);
  const decision = await h.outboundGuard.decide(input.url);
  if (!decision.ok) throw invalid('url', decision.reason);
  const secret = input.kind === 'webhook' ? newSigningSecret() : null;
  const row = h.store.outbound.createTarget(routeId, { kind: input.kind, url: input.url, secret });
  return { ...view(row), ...(secret ? { secret } : {}) };
}

export function listTargets(h: ReadDeps): TargetView[] {
  return h.store.outbound.listTargets().map(view);
}

/** Removes a target; its queued and past deliveries go with it. */
export function deleteTarget(h: ReadDeps, id: number): void {
  refuseIfManaged(h.store.outbound.target(id)?.managedBy, `outbound target ${id}`);
  h.store.outbound.deleteTarget(id);
}

const view = (t: OutboundTargetRow): TargetView => ({ id: t.id, route_id: t.routeId, kind: t.kind, url_masked: maskTargetUrl(t.url), created_at: t.createdAt });

export function listOutboundDeliveries(h: ReadDeps, f: { state?: 'pending' | 'leased' | 'sent' | 'dead'; alertId?: number; beforeId?: number; limit: number }): OutboundDeliveryView[] {
  return h.store.outbound.listDeliveries(f);
}

/** Sends a dead outbound delivery again from a fresh start (attempts 0, a new age budget). */
export function replayOutbound(h: ReadDeps & { signals: Pick<CommitSignals, 'outboundQueued'> }, id: number, now = Date.now()): OutboundDeliveryView {
  h.store.outbound.replay(id, now);
  h.signals.outboundQueued();
  return listOutboundDeliveries(h, { limit: 1, beforeId: id + 1 })[0]!;
}

