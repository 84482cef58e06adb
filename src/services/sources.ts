import { z } from 'zod';
import { refuseIfManaged } from '../domain/managed.js';
import type { Store } from '../store/index.js';
import { FORMATS } from '../domain/adapters/index.js';
import { sourceMappingInput } from '../domain/adapters/mapping.js';
import { hashToken, newSourceToken } from '../domain/tokens.js';
import { importedSecretProblem, newSigningSecret } from '../domain/signatures.js';
import { autoResolveAfter, autoResolveAfterMs } from './auto-resolve-input.js';
import { invalid } from './errors.js';
import type { CreatedSource, SourceDetail, SourceView } from './views.js';

const format = z
  .enum(FORMATS)
  .describe('The payload format POST /v1/alerts expects from this source when the request has no ?format= (default native)');

/** A sender of alerts. Its token is shown once at creation and stored only as a hash. */
export const sourceInput = z.strictObject({
  name: z.string().trim().min(1).max(100).describe('A unique name for the sender, e.g. "payments-prometheus"'),
  format: format.optional(),
  auto_resolve_after: autoResolveAfter.optional(),
  mapping: sourceMappingInput.optional(),
});

/** A field left out stays as it is; `mapping: null` goes back to the built-in tables, a mapping replaces the whole of the old one. */
export const sourcePatch = z
  .strictObject({ format: format.optional(), auto_resolve_after: autoResolveAfter.optional(), mapping: sourceMappingInput.nullable().optional() })
  .refine((p) => p.format !== undefined || p.auto_resolve_after !== undefined || p.mapping !== undefined, 'give format, auto_resolve_after, mapping or more of them');
export type SourceInput = z.output<typeof sourceInput>;

/** The sources store drops what a write changed from the hook's caches itself. */
type Deps = { store: Pick<Store, 'sources'> };

export async function createSource(h: Deps, input: SourceInput): Promise<CreatedSource> {
  const token = newSourceToken();
  const after = autoResolveAfterMs(input.auto_resolve_after ?? null);
  const id = await h.store.sources.create(input.name, hashToken(token), input.format ?? null, after, storedMapping(input.mapping));
  return { id, name: input.name, token };
}

export function listSources(h: Deps): Promise<SourceView[]> {
  return h.store.sources.list();
}

/**
 * Gives a source a new token; the old one stops working at once. The source itself stays, so the
 * alerts it sent keep their source (deleting and re-creating it would leave them without one).
 */
export async function reissueSourceToken(h: Deps, id: number): Promise<CreatedSource> {
  const token = newSourceToken();
  return { ...(await h.store.sources.setTokenHash(id, hashToken(token))), token };
}

/** Deletes a source: its token stops working at once (the auth cache forgets it). Its alerts stay. */
export async function deleteSource(h: Deps, id: number): Promise<void> {
  refuseIfManaged(await h.store.sources.managedBy(id), `source ${id}`);
  await h.store.sources.delete(id);
}

export async function getSource(h: Deps, id: number): Promise<SourceDetail> {
  const row = await h.store.sources.get(id);
  return {
    id,
    name: row.name,
    created_at: row.createdAt,
    format: row.format ?? 'native',
    ...(row.autoResolveAfterMs === null ? {} : { auto_resolve_after_ms: row.autoResolveAfterMs }),
    ...(row.mapping === null ? {} : { mapping: row.mapping }),
    secrets: row.secrets.map((s) => ({ id: s.id, hint: `…${s.secret.slice(-4)}`, created_at: s.createdAt })),
  };
}

/** Sets the source's default format, its auto_resolve_after (null clears it) and/or its mapping (null clears it). */
export async function updateSource(h: Deps, id: number, patch: z.output<typeof sourcePatch>): Promise<SourceDetail> {
  refuseIfManaged(await h.store.sources.managedBy(id), `source ${id}`);
  const after = patch.auto_resolve_after === undefined ? undefined : autoResolveAfterMs(patch.auto_resolve_after);
  if (patch.format !== undefined) await h.store.sources.setFormat(id, patch.format);
  if (after !== undefined) await h.store.sources.setAutoResolve(id, after);
  if (patch.mapping !== undefined) await h.store.sources.setMapping(id, storedMapping(patch.mapping));
  return getSource(h, id);
}

/** An empty mapping (`{}`) says nothing: stored as none, so the source view shows none. */
export function storedMapping(m: z.output<typeof sourceMappingInput> | null | undefined) {
  if (!m) return null;
  const set = Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined));
  return Object.keys(set).length ? set : null;
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
export async function addSecret(h: Deps, sourceId: number, input: z.output<typeof secretInput>): Promise<{ id: number; secret: string; created_at: number }> {
  const secret = input.secret ?? newSigningSecret();
  const problem = importedSecretProblem(secret);
  if (problem) throw invalid('secret', problem);
  const row = await h.store.sources.addSecret(sourceId, secret);
  return { id: row.id, secret, created_at: row.createdAt };
}

/** Removes a secret: signatures made with it stop verifying at once. Removing the last one makes signing optional again. */
export async function deleteSecret(h: Deps, sourceId: number, secretId: number): Promise<void> {
  await h.store.sources.deleteSecret(sourceId, secretId);
}
