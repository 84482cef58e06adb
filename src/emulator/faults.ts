import { z } from 'zod';
import { EmulatorError } from './state.js';
import type { Fault } from './types.js';

/**
 * Injected failures: the ways real Discord (or the network to it) misbehaves that a sender must survive.
 * Each fault matches by webhook and/or channel (neither = every request) and lasts `count` matched
 * requests, or until cleared. The first matching fault, in injection order, applies.
 */
export class Faults {
  private active: { fault: Fault; left: number }[] = [];

  inject(fault: Fault): void {
    this.active.push({ fault, left: fault.count ?? Infinity });
  }

  clear(): void {
    this.active = [];
  }

  /** The fault this request meets, if any; takes one from its count. */
  take(target: { webhookId: string; channelId: string }): Fault | undefined {
    const i = this.active.findIndex(
      ({ fault }) => (fault.webhookId === undefined || fault.webhookId === target.webhookId) && (fault.channelId === undefined || fault.channelId === target.channelId),
    );
    if (i < 0) return undefined;
    const entry = this.active[i]!;
    if (--entry.left <= 0) this.active.splice(i, 1);
    return entry.fault;
  }
}

const target = {
  count: z.number().int().positive().optional(),
  webhookId: z.string().regex(/^\d+$/, 'must be a webhook id (digits)').optional(),
  channelId: z.string().regex(/^\d+$/, 'must be a channel id (digits)').optional(),
};

/** A fault as the control API (and injectFault) accept it; strict, so a typo is an error rather than "match everything". */
export const faultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('error'), status: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)]).optional(), ...target }),
  z.strictObject({ kind: z.literal('slow'), delayMs: z.number().int().min(0).max(600_000), ...target }),
  z.strictObject({ kind: z.literal('hang'), afterSave: z.boolean().optional(), ...target }),
]);

/** Checks a fault; throws an EmulatorError (400) naming every problem. */
export function parseFault(input: unknown): Fault {
  const r = faultSchema.safeParse(input);
  if (!r.success) throw new EmulatorError(400, `invalid fault: ${describeIssues(r.error)}`);
  return r.data as Fault;
}

/** "delayMs: Invalid input: expected number, received undefined; ..." — one line a person can act on. */
export function describeIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`).join('; ');
}
