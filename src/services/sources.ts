import { and, asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { idempotencyKeys, seenWebhookIds, sourceSecrets, sources } from '../db/schema.js';
import type { Herald } from '../herald.js';
import { FORMATS } from '../domain/adapters/index.js';
import { hashToken, newSourceToken } from '../domain/tokens.js';
import { importedSecretProblem, newSigningSecret } from '../domain/signatures.js';
import { conflict, invalid, isUniqueViolation, notFound } from './errors.js';
import type { CreatedSource, SourceDetail, SourceView } from './views.js';

const format = z
  .enum(FORMATS)
  .describe('The payload format POST /v1/alerts expects from this source when the request has no ?format= (default native)');

/** A sender of alerts. Its token is shown once at creation and stored only as a hash. */
export const sourceInput = z.strictObject({
  name: z.string().trim().min(1).max(100).describe('A unique name for the sender, e.g. "payments-prometheus"'),
  format: format.optional(),
});

export const sourcePatch = z.strictObject({ format });
export type SourceInput = z.output<typeof sourceInput>;

type Deps = Pick<Herald, 'db' | 'sourceAuth'>;

export function createSource(h: Deps, input: SourceInput): CreatedSource {
  const token = newSourceToken();
  const taken = () => conflict(`a source named "${input.name}" already exists`);
  if (h.db.select({ id: sources.id }).from(sources).where(eq(sources.name, input.name)).get()) throw taken();
  try {
    const row = h.db
      .insert(sources)
      .values({ name: input.name, tokenHash: hashToken(token), format: input.format ?? null })
      .returning({ id: sources.id })
      .get();
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

/**
 * Gives a source a new token; the old one stops working at once. The source itself stays, so the
 * alerts it sent keep their source (deleting and re-creating it would leave them without one).
 */
export function reissueSourceToken(h: Deps, id: number): CreatedSource {
  const token = newSourceToken();
  const row = h.db.update(sources).set({ tokenHash: hashToken(token) }).where(eq(sources.id, id)).returning({ id: sources.id, name: sources.name }).get();
  h.sourceAuth.forget(id);
  if (!row) throw notFound('source', id);
  return { ...row, token };
}

/** Deletes a source: its token stops working at once (the auth cache forgets it). Its alerts stay. */
export function deleteSource(h: Deps, id: number): void {
  const deleted = h.db.transaction((tx) => {
    const n = tx.delete(sources).where(eq(sources.id, id)).run().changes;
    if (n) {
      tx.delete(idempotencyKeys).where(eq(idempotencyKeys.sourceId, id)).run();
      tx.delete(seenWebhookIds).where(eq(seenWebhookIds.sourceId, id)).run();
    }
    return n;
  });
  h.sourceAuth.forget(id);
  if (!deleted) throw notFound('source', id);
}

export function getSource(h: Pick<Herald, 'db'>, id: number): SourceDetail {
  const row = h.db.select().from(sources).where(eq(sources.id, id)).get();
  if (!row) throw notFound('source', id);
  const secrets = h.db.select().from(sourceSecrets).where(eq(sourceSecrets.sourceId, id)).orderBy(asc(sourceSecrets.id)).all();
  return {
    id,
    name: row.name,
    created_at: row.createdAt,
    format: row.format ?? 'native',
    secrets: secrets.map((s) => ({ id: s.id, hint: `…${s.secret.slice(-4)}`, created_at: s.createdAt })),
  };
}

/** Sets the source's default format. */
export function updateSource(h: Deps, id: number, patch: z.output<typeof sourcePatch>): SourceDetail {
  const n = h.db.update(sources).set({ format: patch.format }).where(eq(sources.id, id)).run().changes;
  if (!n) throw notFound('source', id);
  h.sourceAuth.refresh(id);
  return getSource(h, id);
}

export const secretInput = z.strictObject({
  secret: z
    .string()
    .optional()
    .describe('A whsec_<base64> secret the sender already has (e.g. from its own settings); omit to have Herald generate one'),
});

/**
 * Adds a signing secret (generated, or the sender's own). From then on the source's requests must be signed
 * with one of its secrets. For a rotation: add the new secret, switch the sender, then delete the old one.
 * The secret is in this answer only.
 */
export function addSecret(h: Deps, sourceId: number, input: z.output<typeof secretInput>): { id: number; secret: string; created_at: number } {
  const secret = input.secret ?? newSigningSecret();
  const problem = importedSecretProblem(secret);
  if (problem) throw invalid('secret', problem);
  const row = h.db.transaction((tx) => {
    if (!tx.select({ id: sources.id }).from(sources).where(eq(sources.id, sourceId)).get()) throw notFound('source', sourceId);
    if (tx.select({ id: sourceSecrets.id }).from(sourceSecrets).where(and(eq(sourceSecrets.sourceId, sourceId), eq(sourceSecrets.secret, secret))).get()) {
      throw conflict('the source already has this secret');
    }
    return tx.insert(sourceSecrets).values({ sourceId, secret }).returning({ id: sourceSecrets.id, createdAt: sourceSecrets.createdAt }).get();
  });
  h.sourceAuth.refresh(sourceId);
  return { id: row.id, secret, created_at: row.createdAt };
}

/** Removes a secret: signatures made with it stop verifying at once. Removing the last one makes signing optional again. */
export function deleteSecret(h: Deps, sourceId: number, secretId: number): void {
  const n = h.db.delete(sourceSecrets).where(and(eq(sourceSecrets.id, secretId), eq(sourceSecrets.sourceId, sourceId))).run().changes;
  h.sourceAuth.refresh(sourceId);
  if (!n) throw notFound('secret', secretId);
}
