import { and, asc, eq, isNotNull, sql } from 'drizzle-orm';
import { conflict, notFound } from '../domain/errors.js';
import type { SourceMapping } from '../domain/adapters/mapping.js';
import type { IdempotencyStore } from './idempotency.js';
import type { Db } from './sqlite/open.js';
import { isUniqueViolation } from './sqlite/health.js';
import { sourceSecrets, sources } from './sqlite/schema.js';

/** A source's payload format name as stored (validated by the admin API: ingest/adapters FORMATS). */
export type StoredFormat = NonNullable<(typeof sources.$inferSelect)['format']>;

/** What the hook needs to know about a source besides its id: its name, default format, signing secrets and mapping. */
export interface SourceSettings {
  name: string;
  format: StoredFormat;
  secrets: string[];
  /** Its own severity and service mapping, or null (the formats' built-in tables). */
  mapping: SourceMapping | null;
}

export interface SourceRow {
  id: number;
  name: string;
  createdAt: number;
  format: StoredFormat | null;
  autoResolveAfterMs: number | null;
  mapping: SourceMapping | null;
  secrets: { id: number; secret: string; createdAt: number }[];
}

/**
 * Sources (senders) and their signing secrets. Token lookups by hash and each source's settings are
 * cached in memory (the hook is hot); every write here drops what it changed from the caches itself,
 * so a deleted source or a reissued token stops working at once.
 */
export class SourceStore {
  private readonly byHashCache = new Map<string, number>();
  private readonly settingsCache = new Map<number, SourceSettings>();
  private readonly byHash;
  private readonly sourceRow;
  private readonly secretRows;

  constructor(
    private readonly db: Db,
    private readonly idempotency: Pick<IdempotencyStore, 'forgetSourceSync'>,
  ) {
    this.byHash = db.select({ id: sources.id }).from(sources).where(eq(sources.tokenHash, sql.placeholder('hash'))).prepare();
    this.sourceRow = db.select({ name: sources.name, format: sources.format, mapping: sources.mapping }).from(sources).where(eq(sources.id, sql.placeholder('id'))).prepare();
    this.secretRows = db.select({ secret: sourceSecrets.secret }).from(sourceSecrets).where(eq(sourceSecrets.sourceId, sql.placeholder('id'))).orderBy(sourceSecrets.id).prepare();
  }

  // --- the hook's lookups (cached) ---

  /** The source whose token has this hash (see domain/tokens.ts hashToken). */
  async idForTokenHash(hash: string): Promise<number | undefined> {
    const cached = this.byHashCache.get(hash);
    if (cached !== undefined) return cached;
    const row = this.byHash.get({ hash });
    if (row) this.byHashCache.set(hash, row.id);
    return row?.id;
  }

  /** The source's name, format and secrets. */
  async settings(sourceId: number): Promise<SourceSettings | undefined> {
    const cached = this.settingsCache.get(sourceId);
    if (cached) return cached;
    const row = this.sourceRow.get({ id: sourceId });
    if (!row) return undefined;
    const s: SourceSettings = { name: row.name, format: row.format ?? 'native', secrets: this.secretRows.all({ id: sourceId }).map((r) => r.secret), mapping: row.mapping ?? null };
    this.settingsCache.set(sourceId, s);
    return s;
  }

  /** Forgets every cached token and setting (they are read again on use). */
  async refresh(): Promise<void> {
    this.load();
  }

  /** The synchronous re-read under `refresh`, for this module's own writes and its sibling modules' transactions. */
  load(): void {
    this.settingsCache.clear();
    this.byHashCache.clear();
  }

  private forget(sourceId: number): void {
    this.settingsCache.delete(sourceId);
    for (const [hash, id] of this.byHashCache) if (id === sourceId) this.byHashCache.delete(hash);
  }

  // --- admin ---

  /** Adds a source with its token's hash; 409 when the name is taken. */
  async create(name: string, tokenHash: string, format: StoredFormat | null, autoResolveAfterMs: number | null = null, mapping: SourceMapping | null = null, managedBy: 'file' | null = null): Promise<number> {
    const taken = () => conflict(`a source named "${name}" already exists`);
    if (this.db.select({ id: sources.id }).from(sources).where(eq(sources.name, name)).get()) throw taken();
    try {
      return this.db.insert(sources).values({ name, tokenHash, format, autoResolveAfterMs, mapping, managedBy }).returning({ id: sources.id }).get().id;
    } catch (err) {
      if (isUniqueViolation(err)) throw taken();
      throw err;
    }
  }

  /** Who manages the source (null: the admin API); undefined when there is no such source. */
  async managedBy(id: number): Promise<'file' | null | undefined> {
    return this.db.select({ m: sources.managedBy }).from(sources).where(eq(sources.id, id)).get()?.m;
  }

  /** Sets a source as the configuration file says (format, auto-resolve, mapping) and marks it file-managed; its token and secrets stay. */
  async setFromFile(id: number, s: { format: StoredFormat | null; autoResolveAfterMs: number | null; mapping: SourceMapping | null }): Promise<void> {
    this.db.update(sources).set({ ...s, managedBy: 'file' }).where(eq(sources.id, id)).run();
    this.settingsCache.delete(id);
  }

  /** Every source's settings, for the configuration file's diff and export. */
  async all(): Promise<(typeof sources.$inferSelect)[]> {
    return this.db.select().from(sources).orderBy(asc(sources.id)).all();
  }

  async list(): Promise<{ id: number; name: string; created_at: number }[]> {
    return this.db.select({ id: sources.id, name: sources.name, created_at: sources.createdAt }).from(sources).orderBy(asc(sources.id)).all();
  }

  async exists(id: number): Promise<boolean> {
    return this.db.select({ id: sources.id }).from(sources).where(eq(sources.id, id)).get() !== undefined;
  }

  /** The source with its secrets; 404 when there is none. */
  async get(id: number): Promise<SourceRow> {
    const row = this.db.select().from(sources).where(eq(sources.id, id)).get();
    if (!row) throw notFound('source', id);
    const secrets = this.db.select().from(sourceSecrets).where(eq(sourceSecrets.sourceId, id)).orderBy(asc(sourceSecrets.id)).all();
    return { id, name: row.name, createdAt: row.createdAt, format: row.format, autoResolveAfterMs: row.autoResolveAfterMs, mapping: row.mapping ?? null, secrets: secrets.map((s) => ({ id: s.id, secret: s.secret, createdAt: s.createdAt })) };
  }

  /** Replaces the source's token hash (the old token stops working at once); 404 when there is none. */
  async setTokenHash(id: number, tokenHash: string): Promise<{ id: number; name: string }> {
    const row = this.db.update(sources).set({ tokenHash }).where(eq(sources.id, id)).returning({ id: sources.id, name: sources.name }).get();
    this.forget(id);
    if (!row) throw notFound('source', id);
    return row;
  }

  /** Deletes a source with its idempotency keys and seen webhook ids (its alerts stay); 404 when there is none. */
  async delete(id: number): Promise<void> {
    const deleted = this.db.transaction((tx) => {
      const n = tx.delete(sources).where(eq(sources.id, id)).run().changes;
      if (n) this.idempotency.forgetSourceSync(id);
      return n;
    });
    this.forget(id);
    if (!deleted) throw notFound('source', id);
  }

  /** Sets the source's default format; 404 when there is none. */
  async setFormat(id: number, format: StoredFormat): Promise<void> {
    const n = this.db.update(sources).set({ format }).where(eq(sources.id, id)).run().changes;
    if (!n) throw notFound('source', id);
    this.settingsCache.delete(id);
  }

  /** Sets or (null) clears the source's auto_resolve_after; 404 when there is none. */
  async setAutoResolve(id: number, afterMs: number | null): Promise<void> {
    const n = this.db.update(sources).set({ autoResolveAfterMs: afterMs }).where(eq(sources.id, id)).run().changes;
    if (!n) throw notFound('source', id);
  }

  /** Sets or (null) clears the source's severity and service mapping; 404 when there is none. */
  async setMapping(id: number, mapping: SourceMapping | null): Promise<void> {
    const n = this.db.update(sources).set({ mapping }).where(eq(sources.id, id)).run().changes;
    if (!n) throw notFound('source', id);
    this.settingsCache.delete(id);
  }

  /** True when some source sets auto_resolve_after (the auto-resolve sweep skips its scan otherwise). */
  async anyAutoResolve(): Promise<boolean> {
    return this.db.select({ id: sources.id }).from(sources).where(isNotNull(sources.autoResolveAfterMs)).limit(1).get() !== undefined;
  }

  /** Adds a signing secret; 404 for an unknown source, 409 when it already has this secret. */
  async addSecret(sourceId: number, secret: string): Promise<{ id: number; createdAt: number }> {
    const row = this.db.transaction((tx) => {
      if (!tx.select({ id: sources.id }).from(sources).where(eq(sources.id, sourceId)).get()) throw notFound('source', sourceId);
      if (tx.select({ id: sourceSecrets.id }).from(sourceSecrets).where(and(eq(sourceSecrets.sourceId, sourceId), eq(sourceSecrets.secret, secret))).get()) {
        throw conflict('the source already has this secret');
      }
      return tx.insert(sourceSecrets).values({ sourceId, secret }).returning({ id: sourceSecrets.id, createdAt: sourceSecrets.createdAt }).get();
    });
    this.settingsCache.delete(sourceId);
    return row;
  }

  /** Removes a signing secret; 404 when the source has no such secret. */
  async deleteSecret(sourceId: number, secretId: number): Promise<void> {
    const n = this.db.delete(sourceSecrets).where(and(eq(sourceSecrets.id, secretId), eq(sourceSecrets.sourceId, sourceId))).run().changes;
    this.settingsCache.delete(sourceId);
    if (!n) throw notFound('secret', secretId);
  }
}
