import type { SourceStore } from '../store/sources.js';
import type { Format } from '../domain/adapters/index.js';
import { hashToken } from '../domain/tokens.js';

/** What the hook needs to know about a source besides its id: its default format and signing secrets. */
export interface SourceSettings {
  name: string;
  format: Format;
  secrets: string[];
}

/** The hook's view of sources: a token to its source (by hash), a source's settings; the sources store caches both. */
export class SourceAuth {
  constructor(private readonly sources: Pick<SourceStore, 'idForTokenHash' | 'settings'>) {}

  /** The source's format and secrets. */
  settings(sourceId: number): SourceSettings | undefined {
    return this.sources.settings(sourceId) as SourceSettings | undefined;
  }

  sourceFor(token: string): number | undefined {
    return this.sources.idForTokenHash(hashToken(token));
  }
}
