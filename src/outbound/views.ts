import { z } from 'zod';

/**
 * The outbound resources as src/outbound/service.ts returns them and the admin API answers them: the
 * one definition (types inferred from these schemas, which also document the API).
 */
export const targetView = z.object({ id: z.number(), route_id: z.number(), kind: z.enum(['slack', 'webhook']), url_masked: z.string(), created_at: z.number() });
export type TargetView = z.output<typeof targetView>;

export const createdTarget = targetView.extend({
  secret: z.string().optional().describe('webhook targets: the whsec_ secret its requests are signed with. Shown only in this answer.'),
});

export const outboundDeliveryView = z.object({
  id: z.number(),
  target_id: z.number(),
  alert_id: z.number(),
  event: z.string(),
  state: z.string(),
  attempts: z.number(),
  last_status: z.number().nullable(),
  last_error: z.string().nullable(),
  created_at: z.number(),
  sent_at: z.number().nullable(),
  dead_at: z.number().nullable(),
  replayed_at: z.number().nullable(),
});
export type OutboundDeliveryView = z.output<typeof outboundDeliveryView>;
