import type { AlertInput } from '../domain/alert.js';

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
}

/**
 * A pipeline stage (after Alertmanager's notify stages): takes alerts, returns those that go on,
 * possibly changed. Stages run inside the ingest transaction, so they must be synchronous.
 */
export type Stage = (alerts: PlannedAlert[]) => PlannedAlert[];

/** Runs stages one after the other. */
export const sequence =
  (...stages: Stage[]): Stage =>
  (alerts) =>
    stages.reduce((acc, stage) => (acc.length ? stage(acc) : acc), alerts);
