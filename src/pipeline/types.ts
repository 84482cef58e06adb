import type { AlertInput } from '../domain/alert.js';
import type { AlertStore } from '../store/alerts.js';

/** An alert as it enters the pipeline: validated, attributed to its source, stamped. */
export interface IncomingAlert {
  input: AlertInput;
  sourceId: number | null;
  receivedAt: number;
}

/** An alert as the stages shape it: where it goes, or why it goes nowhere. */
export interface PlannedAlert extends IncomingAlert {
  channels: number[];
  /** The routes that matched (empty when the default channel took it or nothing did). */
  routeIds: number[];
  unrouted: boolean;
  /** The mute that silenced it: stored, delivered nowhere. */
  mutedBy: number | null;
  /**
   * Channels whose delivery does not go at once (hours-stage.ts): a time (the route's business hours
   * open then) or 'digest' (only counted in the daily digest). Channels not named here go now.
   */
  held?: Map<number, number | 'digest'>;
  /** What it means for alerts already stored (dedup-stage.ts); unset: a new alert. */
  grouping?: Grouping;
  /** The incident it belongs to (incident-stage.ts); unset: none, an incident of one shown as its own card. */
  incident?: PlannedIncident;
}

/** An incoming alert's group: its key within the source, its card's title, and its first card's wait per channel (ms). */
export interface PlannedIncident {
  key: string;
  title: string;
  /** Per channel the alert goes to: how long the incident's first card there waits (channels not named: the default). */
  waitMs: Map<number, number>;
}

/**
 * How an incoming alert relates to those already stored with its key (dedup-stage.ts):
 * - `new`: stored and delivered as a new alert;
 * - `repeat`: folded into a firing alert (or one resolved within the reopen window, which `reopen`s):
 *   its count and last-seen time go up, it takes the repeat's content (title, description, fields…;
 *   the severity only goes up) and its messages are edited; nothing new is posted unless the severity
 *   went up (`raised`: the alert is posted again, so people hear of it). A re-send of the same firing
 *   (the same firing start: a notification) is not counted, and is folded into a person-resolved alert
 *   without reopening it (`reopen` false: it stays resolved, its card says it was notified again);
 * - `resolve`: a `resolved` for open alerts: they are resolved and their messages edited;
 * - `resolved-again`: a `resolved` for an alert already resolved: nothing changes;
 * - `orphan`: a `resolved` with no alert to resolve: recorded as a resolved alert, not posted.
 */
export type Grouping =
  | { kind: 'new' }
  | {
      kind: 'repeat';
      alertId: number;
      reopen: boolean;
      /** Its severity is above the alert's: posted again (a member of an incident: see `incidentId`). */
      raised: boolean;
      /** Set for a member of an incident: a rise to P0/P1 above the incident's worst pages (accept.ts). */
      incidentId?: number;
    }
  | { kind: 'resolve'; alertIds: number[] }
  | { kind: 'resolved-again'; alertId: number }
  | { kind: 'orphan' };

/**
 * The alerts already stored that an incoming one may belong to (store/alerts.ts): the same source and
 * dedup key, retracted alerts left out. Read inside the ingest transaction, so alerts stored earlier in
 * the same request are seen.
 */
export type AlertLookup = Pick<AlertStore, 'latest' | 'open' | 'openWithKey'>;

/**
 * What a stage may read of the store: the ingest transaction's modules (`tx`), never the store's own (a call
 * through the store would wait for the very transaction it runs in). Only the dedup stage reads it; the others
 * read the caches they were built with (routes, mutes).
 */
export interface StageStore {
  alerts: AlertLookup;
}

/**
 * A pipeline stage (after Alertmanager's notify stages): takes alerts, returns those that go on,
 * possibly changed. Stages run inside the ingest transaction and read the store only through its `tx`;
 * a stage that reads only memory returns its alerts at once, one that reads the store returns a promise.
 */
export type Stage = (alerts: PlannedAlert[], tx: StageStore) => PlannedAlert[] | Promise<PlannedAlert[]>;

/** The composed pipeline: asynchronous (its store stages are), awaited once per alert by the acceptor. */
export type Pipeline = (alerts: PlannedAlert[], tx: StageStore) => Promise<PlannedAlert[]>;

/**
 * Runs stages one after the other. A synchronous stage's alerts go straight on; only a stage's promise is waited
 * for, and the last stage's is returned as it is (the ingest path pays for no wrapper of its own).
 */
export const sequence = (...stages: Stage[]): Pipeline => {
  const from = (first: number, alerts: PlannedAlert[], tx: StageStore): Promise<PlannedAlert[]> => {
    let acc = alerts;
    for (let i = first; i < stages.length && acc.length > 0; i++) {
      const next = stages[i]!(acc, tx);
      if (Array.isArray(next)) acc = next;
      else return i === stages.length - 1 ? next : next.then((r) => from(i + 1, r, tx));
    }
    return Promise.resolve(acc);
  };
  return (alerts, tx) => from(0, alerts, tx);
};
