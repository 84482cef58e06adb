/**
 * Several alerts in one webhook message: at most 10 embeds whose lengths total at most 6000
 * (Discord's limits), either sharing the budget fairly (`renderMessage`) or taken greedily from a
 * backlog while they fit (`packMessage`).
 */
import { type Embed, embedLength, MESSAGE_LIMITS as L } from '../discord/limits.js';
import type { WebhookMessage } from '../discord/message.js';
import { fittedCard } from './alert-card.js';
import type { StatefulAlert } from '../domain/alert-state.js';
import { alertMessage } from './envelope.js';
import { modelLength, toEmbed } from './fit.js';

export interface RenderOptions {
  username: string;
  degraded?: boolean;
}

/** The largest per-embed cap c with Σ min(length, c) ≤ total. */
export function fairShare(lengths: number[], total: number): number {
  const sum = (c: number) => lengths.reduce((s, n) => s + Math.min(n, c), 0);
  let lo = 0;
  let hi = Math.max(...lengths);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (sum(mid) <= total) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Several alerts → one message of 1..10 embeds whose lengths total at most 6000. When they would
 * not fit, each embed gets a fair share: small embeds keep everything, the largest are cut evenly.
 */
export function renderMessage(alerts: StatefulAlert[], opts: RenderOptions): WebhookMessage {
  if (alerts.length === 0 || alerts.length > L.embeds) {
    throw new RangeError(`renderMessage takes 1 to ${L.embeds} alerts, got ${alerts.length}`);
  }
  const degraded = opts.degraded ?? false;
  const natural = alerts.map((a) => modelLength(fittedCard(a, degraded)));
  const share = fairShare(natural, L.embedsTotal);
  const embeds = alerts.map((a, i) => toEmbed(fittedCard(a, degraded, Math.min(natural[i]!, share))));
  return alertMessage(alerts, embeds, opts.username);
}

/**
 * Greedy packing for a backlog: takes alerts in order while the message stays within 10 embeds and
 * 6000 characters; always takes the first (shrunk if it alone is over 6000).
 */
export function packMessage(alerts: StatefulAlert[], opts: RenderOptions): { taken: number; message: WebhookMessage } {
  if (alerts.length === 0) throw new RangeError('packMessage needs at least one alert');
  const degraded = opts.degraded ?? false;
  const embeds: Embed[] = [toEmbed(fittedCard(alerts[0]!, degraded))];
  let total = embedLength(embeds[0]!);
  for (let i = 1; i < alerts.length && embeds.length < L.embeds; i++) {
    const e = toEmbed(fittedCard(alerts[i]!, degraded));
    const n = embedLength(e);
    if (total + n > L.embedsTotal) break;
    embeds.push(e);
    total += n;
  }
  return { taken: embeds.length, message: alertMessage(alerts.slice(0, embeds.length), embeds, opts.username) };
}
