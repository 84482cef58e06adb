/**
 * What a storm's summary card shows of its compact alerts: counted, and when they arrived. The store tallies
 * it (store/storms.ts) and the card renders it (cards/storm.ts).
 */
export interface StormTally {
  total: number;
  bySeverity: Record<string, number>;
  /** Services, most alerts first. */
  byService: { service: string; count: number }[];
  firstArrivalAt: number | null;
  lastArrivalAt: number | null;
  /** Compact messages posted. */
  messages: number;
}
