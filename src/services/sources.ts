import { asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { idempotencyKeys, sources } from '../db/schema.js';
import type { Herald } from '../herald.js';
import { hashToken, newSourceToken } from '../ingest/auth.js';
import { conflict, isUniqueViolation, notFound } from './errors.js';

/** A sender of alerts. Its token is shown once at creation and stored only as a hash. */
export const sourceInput = z.strictObject({
  name: z.string().trim().min(1).max(100).describe('A unique name for the sender, e.g. "payments-prometheus"'),
});
export type SourceInput = z.output<typeof sourceInput>;

export interface SourceView {
  id: number;
  name: string;
  created_at: number;
}

export interface CreatedSource {
  id: number;
  name: string;
  /** The bearer token for POST /v1/alerts: returned here only, never again. */
  token: string;
}

type Deps = Pick<Herald, 'db' | 'sourceAuth'>;

export function createSource(h: Deps, input: SourceInput): CreatedSource {
  const token = newSourceToken();
  const taken = () => conflict(`a source named "${input.name}" already exists`);
  if (h.db.select({ id: sources.id }).from(sources).where(eq(sources.name, input.name)).get()) throw taken();
  try {
    const row = h.db.insert(sources).values({ name: input.name, tokenHash: hashToken(token) }).returning({ id: sources.id }).get();
    return { id: row.id, name: input.name, token };
  } catch (err) {
    if (isUniqueViolation(err)) throw taken();
    throw err;
  }
}

export function listSources(h: Pick<Herald, 'db'>): SourceView[] {
  return h.db
    .select({ id: sources.id, name: sources.name, created_at: sources.createdAt })
    .from(sources)
    .orderBy(asc(sources.id))
    .all();
}

/** Deletes a source: its token stops working at once (the auth cache forgets it). Its alerts stay. */
export function deleteSource(h: Deps, id: number): void {
  const deleted = h.db.transaction((tx) => {
    const n = tx.delete(sources).where(eq(sources.id, id)).run().changes;
    if (n) tx.delete(idempotencyKeys).where(eq(idempotencyKeys.sourceId, id)).run();
    return n;
  });
  h.sourceAuth.forget(id);
  if (!deleted) throw notFound('source', id);
}
