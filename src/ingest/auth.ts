import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/open.js';
import { sourceSecrets, sources } from '../db/schema.js';
import type { Format } from '../domain/adapters/index.js';
import { hashToken } from '../domain/tokens.js';

/** What the hook needs to know about a source besides its id: its default format and signing secrets. */
export interface SourceSettings {
  name: string;
  format: Format;
  secrets: string[];
}

/** Looks source tokens up by hash, with an in-memory cache (the hook is hot); `forget` on delete. */
export class SourceAuth {
  private readonly cache = new Map<string, number>();
  private readonly settingsCache = new Map<number, SourceSettings>();
  private readonly byHash;
  private readonly sourceRow;
  private readonly secretRows;

  constructor(db: Db) {
    this.byHash = db.select({ id: sources.id }).from(sources).where(eq(sources.tokenHash, sql.placeholder('hash'))).prepare();
    this.sourceRow = db.select({ name: sources.name, format: sources.format }).from(sources).where(eq(sources.id, sql.placeholder('id'))).prepare();
    this.secretRows = db.select({ secret: sourceSecrets.secret }).from(sourceSecrets).where(eq(sourceSecrets.sourceId, sql.placeholder('id'))).orderBy(sourceSecrets.id).prepare();
  }

  /** The source's format and secrets (cached; the admin services call `refresh` after changing them). */
  settings(sourceId: number): SourceSettings | undefined {
    const cached = this.settingsCache.get(sourceId);
    if (cached) return cached;
    const row = this.sourceRow.get({ id: sourceId });
    if (!row) return undefined;
    const s: SourceSettings = { name: row.name, format: row.format ?? 'native', secrets: this.secretRows.all({ id: sourceId }).map((r) => r.secret) };
    this.settingsCache.set(sourceId, s);
    return s;
  }

  refresh(sourceId: number): void {
    this.settingsCache.delete(sourceId);
  }

  sourceFor(token: string): number | undefined {
    const hash = hashToken(token);
    const cached = this.cache.get(hash);
    if (cached !== undefined) return cached;
    const row = this.byHash.get({ hash });
    if (row) this.cache.set(hash, row.id);
    return row?.id;
  }

  forget(sourceId: number): void {
    this.settingsCache.delete(sourceId);
    for (const [hash, id] of this.cache) if (id === sourceId) this.cache.delete(hash);
  }
}
