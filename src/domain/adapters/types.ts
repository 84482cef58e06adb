import type { ZodType } from 'zod';
import type { AlertInput } from '../alert.js';
import type { SourceMapping } from './mapping.js';

/** What one request in a sender's format asks of Herald. */
export interface Conversion {
  /** Native alerts for the Acceptor, in order. `onlyIfOpen`: a success/resolve that means something only when an alert with its dedup key is open. */
  alerts: { input: AlertInput; onlyIfOpen?: boolean }[];
  /** Dedup keys whose open alert is to be acknowledged (PagerDuty `acknowledge`). */
  acknowledge: string[];
  /** Events understood but carrying no alert, with why (answered back to the sender). */
  ignored: string[];
  /** Names of heartbeats this request is a beat of, when the source declared them (a job's on_success). */
  beats?: string[];
}

/**
 * A sender's format: the zod schema of its payload and the conversion into native alerts, under the
 * source's own severity and service mapping (`NO_MAPPING`: the built-in tables).
 */
export interface Adapter<T = any> {
  name: string;
  schema: ZodType<T>;
  convert(payload: T, mapping: SourceMapping): Conversion;
}

export const conversion = (c: Partial<Conversion>): Conversion => ({ alerts: [], acknowledge: [], ignored: [], ...c });
