/**
 * The daily digest's report: what happened in a channel (or everywhere) over a time range. Computed
 * from the database by services/digest.ts, shown by cards/digest.ts, answered as is by the admin API.
 * The zod schema is the one definition: the type is inferred from it, and it documents the API.
 */
import { z } from 'zod';
import { SEVERITIES } from './alert.js';

const severity = z.enum(SEVERITIES);

export const digestRow = z.object({ service: z.string(), severity, fired: z.number(), acknowledged: z.number(), resolved: z.number() });
export type DigestRow = z.output<typeof digestRow>;

export const digestReport = z.object({
  from: z.number().describe('The range covered: [from, to), epoch ms'),
  to: z.number(),
  channel_id: z.number().nullable().describe('The channel whose alerts are counted (null: every alert)'),
  totals: z.object({ fired: z.number(), acknowledged: z.number(), resolved: z.number() }),
  by_service: z.array(digestRow).describe('By service and severity: fired (received in the range), acknowledged and resolved (in the range)'),
  mtta_ms: z.number().nullable().describe('Mean time to acknowledge, of the alerts acknowledged in the range'),
  mttr_ms: z.number().nullable().describe('Mean time to resolve, of the alerts resolved in the range'),
  noisiest: z
    .array(z.object({ service: z.string(), title: z.string(), count: z.number().describe('Occurrences, grouped repeats included') }))
    .describe('The alerts that fired most often (same service and title), most first'),
  muted: z.number().describe('Alerts silenced by a mute in the range (all channels)'),
  digest_only: z.number().describe('Alerts kept only for the digest (outside business hours on a digest-only route; counted in fired too)'),
  dead_letters: z.number().describe('Deliveries to the channel given up on in the range'),
});
export type DigestReport = z.output<typeof digestReport>;
