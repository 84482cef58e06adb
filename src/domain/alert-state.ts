/**
 * An alert as it stands: as its sender sent it, and what people did to it since (services/lifecycle.ts).
 * What a card (src/cards/) is made from, and what the delivery rows load for it. Pure types and the two
 * state questions every part of a card asks.
 */
import type { Severity } from './alert.js';

export interface RenderableAlert {
  id: number;
  service: string;
  severity: Severity;
  title: string;
  description?: string | null;
  status: 'firing' | 'resolved';
  environment?: string | null;
  dedupKey?: string | null;
  labels?: Record<string, string> | null;
  fields?: { name: string; value: string }[] | null;
  links?: { title: string; url: string }[] | null;
  /** Epoch milliseconds. */
  receivedAt: number;
  /** The incident it belongs to (null or absent: none; its card is its own). */
  incidentId?: number | null;
}

/**
 * What people did to the alert (services/lifecycle.ts), shown on its card. All optional: an alert
 * nobody touched renders as before. `*ByUser` is a Discord user id (shown as a mention, which never
 * pings from an embed); `*By` the display name used when there is no user id.
 */
export interface AlertStateForRender {
  acknowledgedBy?: string | null;
  acknowledgedByUser?: string | null;
  acknowledgedAt?: number | null;
  resolvedBy?: string | null;
  resolvedByUser?: string | null;
  resolvedAt?: number | null;
  retractedAt?: number | null;
  retractMode?: 'delete' | 'strike' | null;
  retractReason?: string | null;
  /** Grouping: how often it fired (repeats folded in), when it last did, when it last reopened after a resolve. */
  occurrences?: number | null;
  lastSeenAt?: number | null;
  reopenedAt?: number | null;
  /**
   * When the firing last notified started, by its sender's clock (Alertmanager's startsAt), or null: its
   * sender re-sends one firing, so `occurrences` counts firings and `lastSeenAt` is when it last notified.
   */
  firingStartedAt?: number | null;
  /** Until when a mute made from this alert is in force (null: none): the card says so and has no Mute button. */
  mutedUntil?: number | null;
}

export type StatefulAlert = RenderableAlert & AlertStateForRender;

export const isResolved = (a: StatefulAlert) => a.status === 'resolved' || !!a.resolvedAt;
export const isRetracted = (a: StatefulAlert) => !!a.retractedAt;
