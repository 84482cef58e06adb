import type { SourceStore } from '../store/sources.js';
import type { Format, SourceMapping } from '../domain/adapters/index.js';
import { hashToken } from '../domain/tokens.js';

/** What the hook needs to know about a source besides its id: its default format, signing secrets and mapping. */
export interface SourceSettings {
  name: string;
  format: Format;
  secrets: string[];
  /** Its own severity and service mapping (null: the built-in tables), passed to the adapters. */
  mapping: SourceMapping | null;
}

/** The hook's view of sources: a token to its source (by hash), a source's settings; the sources store caches both. */
/** How many tokens' hashes are remembered: far more than the senders of one Herald. */
const REMEMBERED_TOKENS = 1024;

export class SourceAuth {
  /**
   * The hashes of tokens that named a source, so a sender's every request does not hash its token again
   * (SHA-256 was 3% of the ingest path). Only tokens that matched are kept: a client trying tokens cannot
   * churn it. Whether the hash still names a source is asked of the store each time, so a revoked token
   * stops working at once.
   */
  private readonly hashes = new Map<string, string>();

  constructor(private readonly sources: Pick<SourceStore, 'idForTokenHash' | 'settings'>) {}

  /** The source's format, secrets and mapping. */
  async settings(sourceId: number): Promise<SourceSettings | undefined> {
    return (await this.sources.settings(sourceId)) as SourceSettings | undefined;
  }

  /** The source a token names, if any. */
  async sourceFor(token: string): Promise<number | undefined> {
    const remembered = this.hashes.get(token);
    const hash = remembered ?? hashToken(token);
    const id = await this.sources.idForTokenHash(hash);
    if (id === undefined) {
      if (remembered !== undefined) this.hashes.delete(token);
    } else if (remembered === undefined) {
      if (this.hashes.size >= REMEMBERED_TOKENS) this.hashes.clear();
      this.hashes.set(token, hash);
    }
    return id;
  }
}
