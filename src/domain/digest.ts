/**
 * The daily digest's report: what happened in a channel (or everywhere) over a time range. Computed
 * from the database by services/digest.ts, shown by cards/digest.ts, answered as is by the admin API.
 */
import type { Severity } from './alert.js';

export interface DigestRow {
  service: string;
  severity: Severity;
  fired: number;
  acknowledged: number;
  resolved: number;
}

export interface DigestReport {
  /** The range covered: [from, to), epoch ms. */
  from: number;
  to: number;
  /** The channel whose alerts are counted (null: every alert). */
  channel_id: number | null;
  totals: { fired: number; acknowledged: number; resolved: number };
  /** Counts by service and severity: fired (received in the range), acknowledged and resolved (in the range). */
  by_service: DigestRow[];
  /** Mean time from receipt to acknowledgement / resolve, of the alerts acknowledged / resolved in the range (null: none). */
  mtta_ms: number | null;
  mttr_ms: number | null;
  /** The alerts that fired most often (same service and title; `count`: their occurrences, grouped repeats included), most first. */
  noisiest: { service: string; title: string; count: number }[];
  /** Alerts a mute silenced in the range (every channel: a muted alert goes to none). */
  muted: number;
  /**
   * Alerts received in the range and kept only for the digest: outside business hours on a route set to
   * "digest only" (their delivery rows are in state 'digest', never sent). Counted in `fired` too; for a
   * channel, those never posted there; overall, those posted nowhere.
   */
  digest_only: number;
  /** Deliveries to the channel given up on in the range. */
  dead_letters: number;
}
