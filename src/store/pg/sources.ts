import { and, asc, eq, isNotNull } from 'drizzle-orm';
import { conflict, notFound } from '../../domain/errors.js';
import type { SourceMapping } from '../../domain/adapters/mapping.js';
import type { SourceRow, SourceSettings, SourceStore, StoredFormat } from '../sources.js';
import { isPgUniqueViolation } from './errors.js';
import type { PgIdempotencyStore } from './idempotency.js';
import type { PgExecutor } from './open.js';
import { sourceSecrets, sources } from './schema.js';

/**
 * The hook's caches of `../sources.ts` (token hash → source, a source's settings): one per store, shared by the
 * pool's module and each transaction's, so a write through either drops what it changed for both.
 */
export interface SourceCaches {
  readonly byHash: Map<string, number>;
  readonly settings: Map<number, SourceSettings>;
  /**
   * Bumped by every drop from the caches. A lookup caches what it read only when no drop happened while its query
   * was in flight: on SQLite nothing runs between a read and its caching, here another call's write (and its drop)
   * can, and the read's old row would otherwise be cached after the drop (a reissued token would keep working).
   */
  generation: number;
}

export const sourceCaches = (): SourceCaches => ({ byHash: new Map(), settings: new Map(), generation: 0 });

/**
 * The idempotency module over an executor: `delete` forgets a deleted source's keys and ids through the module
 * built over its own transaction's handle (a module built over the pool would run them on another connection,
 * outside that transaction).
 */
export type IdempotencyOver = (db: PgExecutor) => Pick<PgIdempotencyStore, 'forgetSource'>;

/**
 * `../sources.ts` on PostgreSQL: the same statements, as plain queries (SQLite's hot-path lookups are prepared),
 * the same caches (shared state, `SourceCaches`), the same 404s and 409s. Its public methods but `load()`, the
 * synchronous re-read SQLite's sibling modules call inside better-sqlite3's transactions (here: `refresh()`).
 * Where SQLite's synchronous transaction calls `idempotency.forgetSourceSync`, this one awaits the PostgreSQL
 * idempotency module's `forgetSource` inside drizzle's transaction.
 */
export class PgSourceStore implements Pick<SourceStore, Exclude<keyof SourceStore, 'load'>> {
  constructor(
    private readonly db: PgExecutor,
    private readonly caches: SourceCaches,
    private readonly idempotency: IdempotencyOver,
  ) {}

  // --- the hook's lookups (cached) ---

  /** The source whose token has this hash (see domain/tokens.ts hashToken). */
  async idForTokenHash(hash: string): Promise<number | undefined> {
    const cached = this.caches.byHash.get(hash);
    if (cached !== undefined) return cached;
    const generation = this.caches.generation;
    const [row] = await this.db.select({ id: sources.id }).from(sources).where(eq(sources.tokenHash, hash)).limit(1);
    if (row && generation === this.caches.generation) this.caches.byHash.set(hash, row.id);
    return row?.id;
  }

  /** The source's name, format and secrets. */
  async settings(sourceId: number): Promise<SourceSettings | undefined> {
    const cached = this.caches.settings.get(sourceId);
    if (cached) return cached;
    const generation = this.caches.generation;
    const [row] = await this.db.select({ name: sources.name, format: sources.format, mapping: sources.mapping }).from(sources).where(eq(sources.id, sourceId)).limit(1);
    if (!row) return undefined;
    const secrets = await this.db.select({ secret: sourceSecrets.secret }).from(sourceSecrets).where(eq(sourceSecrets.sourceId, sourceId)).orderBy(sourceSecrets.id);
    const s: SourceSettings = { name: row.name, format: row.format ?? 'native', secrets: secrets.map((r) => r.secret), mapping: row.mapping ?? null };
    if (generation === this.caches.generation) this.caches.settings.set(sourceId, s);
    return s;
  }

  /** Forgets every cached token and setting (they are read again on use). */
  async refresh(): Promise<void> {
    this.caches.settings.clear();
    this.caches.byHash.clear();
    this.caches.generation++;
  }

  private forgetSettings(sourceId: number): void {
    this.caches.settings.delete(sourceId);
    this.caches.generation++;
  }

  private forget(sourceId: number): void {
    this.forgetSettings(sourceId);
    for (const [hash, id] of this.caches.byHash) if (id === sourceId) this.caches.byHash.delete(hash);
  }

  // --- admin ---

  /** Adds a source with its token's hash; 409 when the name is taken. */
  async create(name: string, tokenHash: string, format: StoredFormat | null, autoResolveAfterMs: number | null = null, mapping: SourceMapping | null = null, managedBy: 'file' | null = null): Promise<number> {
    const taken = () => conflict(`a source named "${name}" already exists`);
    const [existing] = await this.db.select({ id: sources.id }).from(sources).where(eq(sources.name, name)).limit(1);
    if (existing) throw taken();
    try {
      // No savepoint: a unique violation (the name taken since, or the token hash) aborts a caller's transaction,
      // which the 409 rolls back anyway.
      const [row] = await this.db.insert(sources).values({ name, tokenHash, format, autoResolveAfterMs, mapping, managedBy }).returning({ id: sources.id });
      return row!.id;
    } catch (err) {
      if (isPgUniqueViolation(err)) throw taken();
      throw err;
    }
  }

  /** Who manages the source (null: the admin API); undefined when there is no such source. */
  async managedBy(id: number): Promise<'file' | null | undefined> {
    const [row] = await this.db.select({ m: sources.managedBy }).from(sources).where(eq(sources.id, id)).limit(1);
    return row?.m;
  }

  /** Sets a source as the configuration file says (format, auto-resolve, mapping) and marks it file-managed; its token and secrets stay. */
  async setFromFile(id: number, s: { format: StoredFormat | null; autoResolveAfterMs: number | null; mapping: SourceMapping | null }): Promise<void> {
    await this.db.update(sources).set({ ...s, managedBy: 'file' }).where(eq(sources.id, id));
    this.forgetSettings(id);
  }

  /** Every source's settings, for the configuration file's diff and export. */
  async all(): Promise<(typeof sources.$inferSelect)[]> {
    return this.db.select().from(sources).orderBy(asc(sources.id));
  }

  async list(): Promise<{ id: number; name: string; created_at: number }[]> {
    return this.db.select({ id: sources.id, name: sources.name, created_at: sources.createdAt }).from(sources).orderBy(asc(sources.id));
  }

  async exists(id: number): Promise<boolean> {
    const [row] = await this.db.select({ id: sources.id }).from(sources).where(eq(sources.id, id)).limit(1);
    return row !== undefined;
  }

  /** The source with its secrets; 404 when there is none. */
  async get(id: number): Promise<SourceRow> {
    const [row] = await this.db.select().from(sources).where(eq(sources.id, id)).limit(1);
    if (!row) throw notFound('source', id);
    const secrets = await this.db.select().from(sourceSecrets).where(eq(sourceSecrets.sourceId, id)).orderBy(asc(sourceSecrets.id));
    return { id, name: row.name, createdAt: row.createdAt, format: row.format, autoResolveAfterMs: row.autoResolveAfterMs, mapping: row.mapping ?? null, secrets: secrets.map((s) => ({ id: s.id, secret: s.secret, createdAt: s.createdAt })) };
  }

  /** Replaces the source's token hash (the old token stops working at once); 404 when there is none. */
  async setTokenHash(id: number, tokenHash: string): Promise<{ id: number; name: string }> {
    const [row] = await this.db.update(sources).set({ tokenHash }).where(eq(sources.id, id)).returning({ id: sources.id, name: sources.name });
    this.forget(id);
    if (!row) throw notFound('source', id);
    return row;
  }

  /** Deletes a source with its idempotency keys and seen webhook ids (its alerts stay); 404 when there is none. */
  async delete(id: number): Promise<void> {
    // Over the pool, a transaction of its own; inside a caller's, a savepoint (as SQLite's nested transaction).
    const deleted = await this.db.transaction(async (tx) => {
      const gone = await tx.delete(sources).where(eq(sources.id, id)).returning({ id: sources.id });
      if (gone.length) await this.idempotency(tx).forgetSource(id);
      return gone.length;
    });
    this.forget(id);
    if (!deleted) throw notFound('source', id);
  }

  /** Sets the source's default format; 404 when there is none. */
  async setFormat(id: number, format: StoredFormat): Promise<void> {
    const changed = await this.db.update(sources).set({ format }).where(eq(sources.id, id)).returning({ id: sources.id });
    if (!changed.length) throw notFound('source', id);
    this.forgetSettings(id);
  }

  /** Sets or (null) clears the source's auto_resolve_after; 404 when there is none. */
  async setAutoResolve(id: number, afterMs: number | null): Promise<void> {
    const changed = await this.db.update(sources).set({ autoResolveAfterMs: afterMs }).where(eq(sources.id, id)).returning({ id: sources.id });
    if (!changed.length) throw notFound('source', id);
  }

  /** Sets or (null) clears the source's severity and service mapping; 404 when there is none. */
  async setMapping(id: number, mapping: SourceMapping | null): Promise<void> {
    const changed = await this.db.update(sources).set({ mapping }).where(eq(sources.id, id)).returning({ id: sources.id });
    if (!changed.length) throw notFound('source', id);
    this.forgetSettings(id);
  }

  /** True when some source sets auto_resolve_after (the auto-resolve sweep skips its scan otherwise). */
  async anyAutoResolve(): Promise<boolean> {
    const [row] = await this.db.select({ id: sources.id }).from(sources).where(isNotNull(sources.autoResolveAfterMs)).limit(1);
    return row !== undefined;
  }

  /** Adds a signing secret; 404 for an unknown source, 409 when it already has this secret. */
  async addSecret(sourceId: number, secret: string): Promise<{ id: number; createdAt: number }> {
    const row = await this.db.transaction(async (tx) => {
      // The source's row locked: two adds of one secret side by side take turns (SQLite's are one at a time), so the
      // second sees the first's row and is a 409 (no unique index holds source_secrets to one row per secret).
      const [source] = await tx.select({ id: sources.id }).from(sources).where(eq(sources.id, sourceId)).for('update');
      if (!source) throw notFound('source', sourceId);
      const [dup] = await tx.select({ id: sourceSecrets.id }).from(sourceSecrets).where(and(eq(sourceSecrets.sourceId, sourceId), eq(sourceSecrets.secret, secret))).limit(1);
      if (dup) throw conflict('the source already has this secret');
      const [added] = await tx.insert(sourceSecrets).values({ sourceId, secret }).returning({ id: sourceSecrets.id, createdAt: sourceSecrets.createdAt });
      return added!;
    });
    this.forgetSettings(sourceId);
    return row;
  }

  /** Removes a signing secret; 404 when the source has no such secret. */
  async deleteSecret(sourceId: number, secretId: number): Promise<void> {
    const gone = await this.db.delete(sourceSecrets).where(and(eq(sourceSecrets.id, secretId), eq(sourceSecrets.sourceId, sourceId))).returning({ id: sourceSecrets.id });
    this.forgetSettings(sourceId);
    if (!gone.length) throw notFound('secret', secretId);
  }
}
