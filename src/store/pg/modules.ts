import { PgAlertStore } from './alerts.js';
import { PgAlertActionStore } from './actions.js';
import { PgAttemptStore } from './attempts.js';
import { PgOutbox } from './deliveries.js';
import { PgEventStore } from './events.js';
import { PgHeartbeatStore } from './heartbeats.js';
import { PgIdempotencyStore, type PruneClock } from './idempotency.js';
import { PgMuteStore, muteCache, type MuteCache } from './mutes.js';
import type { PgDb, PgExecutor } from './open.js';
import { PgSourceStore, sourceCaches, type SourceCaches } from './sources.js';
import { PgOutboundStore, type OutboundTargetsCache } from './outbound.js';
import { PgWebhookStore } from './webhooks.js';
import { PgStormStore } from './storms.js';
import { PgMessageOps } from './message-ops.js';
import { PgDigestStore, digestListeners, type DigestListeners } from './digests.js';
import { PgRouteStore, routeCache, type RouteCache } from './routes.js';
import { PgChannelStore, channelKindCache, type ChannelKindCache } from './channels.js';
import { PgIncidentStore } from './incidents.js';
import { PgEscalationStore } from './escalations.js';
import { PgDeadLetterStore } from './dead-letters.js';
import { PgHealthStore } from './health.js';
import { PgRetentionStore } from './retention.js';

/**
 * How the PostgreSQL store is put together (issue 12; not used by Herald yet, docs/postgresql.md).
 *
 * A module is a class with the SQLite module's public methods, parameters and results (checked by
 * `implements Pick<EventStore, keyof EventStore>` and the like), whose constructor takes the `PgExecutor` it runs
 * its SQL on and, if it keeps anything between calls (a cache, a throttle), that state as a separate object.
 * `build` makes every module over one executor. The store (`pgStore`) builds them once over the pool and, for
 * each `transaction`, again over drizzle's transaction handle: the modules passed as `tx` run every statement on
 * that transaction's connection, so they commit or roll back together. The state is made once per store and
 * handed to both builds, so a transaction's modules share the caches and throttles of the pool's.
 *
 * Unlike SQLite's (one connection behind a gate, `sqlite/gate.ts`), transactions here run side by side, each on a
 * pooled connection of its own, at PostgreSQL's default isolation (read committed). A call made through the store
 * instead of `tx` inside the callback is not part of the transaction (it runs on another connection, and it waits
 * for a free one when the transaction holds the pool's last).
 */

/** State of the modules that outlives a transaction: made once per store (`pgStore`), given to every `build`. */
interface Shared {
  pruneClock: PruneClock;
  // The caches of sources, mutes and outbound targets (one per store, shared by every transaction's modules).
  sources: SourceCaches;
  mutes: MuteCache;
  outboundTargets: OutboundTargetsCache;
  // The digests' onChange listeners (one list per store: a write through a transaction's module tells them too).
  digests: DigestListeners;
  // The caches of routes (compiled routes, default channel, route → chain, grouping) and of which channels are forums.
  routes: RouteCache;
  channelKinds: ChannelKindCache;
  // The outbox's aging (`delivery.agingMs`, HERALD_AGING_MS): configuration, the same for every build.
  agingMs: number;
}

/** The PostgreSQL store modules that exist so far; the others are SQLite's only (docs/postgresql.md). */
export interface PgModules {
  readonly events: PgEventStore;
  readonly attempts: PgAttemptStore;
  readonly idempotency: PgIdempotencyStore;
  readonly alerts: PgAlertStore;
  readonly sources: PgSourceStore;
  readonly mutes: PgMuteStore;
  readonly webhooks: PgWebhookStore;
  readonly outbound: PgOutboundStore;
  readonly actions: PgAlertActionStore;
  readonly storms: PgStormStore;
  readonly heartbeats: PgHeartbeatStore;
  readonly messageOps: PgMessageOps;
  readonly digests: PgDigestStore;
  readonly routes: PgRouteStore;
  readonly channels: PgChannelStore;
  readonly deliveries: PgOutbox;
  readonly incidents: PgIncidentStore;
  readonly escalations: PgEscalationStore;
  readonly deadLetters: PgDeadLetterStore;
  readonly health: PgHealthStore;
  readonly retention: PgRetentionStore;
}

/** Every module over `db`: the pool's database, or a transaction of it. */
function build(db: PgExecutor, shared: Shared): PgModules {
  // Channels refresh the routes' cache after their writes, through the routes module over the same executor.
  const routes = new PgRouteStore(db, shared.routes);
  return {
    events: new PgEventStore(db),
    attempts: new PgAttemptStore(db),
    idempotency: new PgIdempotencyStore(db, shared.pruneClock),
    alerts: new PgAlertStore(db),
    sources: new PgSourceStore(db, shared.sources, (over) => new PgIdempotencyStore(over, shared.pruneClock)),
    mutes: new PgMuteStore(db, shared.mutes),
    webhooks: new PgWebhookStore(db),
    outbound: new PgOutboundStore(db, shared.outboundTargets),
    actions: new PgAlertActionStore(db),
    storms: new PgStormStore(db),
    heartbeats: new PgHeartbeatStore(db),
    messageOps: new PgMessageOps(db),
    digests: new PgDigestStore(db, shared.digests),
    routes,
    channels: new PgChannelStore(db, shared.channelKinds, routes),
    deliveries: new PgOutbox(db, shared.agingMs),
    incidents: new PgIncidentStore(db),
    // Route → chain through the routes module over the escalation module's own transaction, then its cache refreshed.
    escalations: new PgEscalationStore(db, (over) => (over === db ? routes : new PgRouteStore(over, shared.routes))),
    // Replay revives through the outbox and the message operations built over its own transaction.
    deadLetters: new PgDeadLetterStore(db, (over) => ({ deliveries: new PgOutbox(over, shared.agingMs), messageOps: new PgMessageOps(over) })),
    health: new PgHealthStore(db),
    retention: new PgRetentionStore(db),
  };
}

/** The part of `Store` (`../index.ts`) that exists on PostgreSQL so far, with the same transaction contract. */
export interface PgStore extends PgModules {
  /**
   * Runs `fn` as one transaction on one pooled connection: every call made through `tx` commits together or not at
   * all; a throw rolls it back and is rethrown. `tx.transaction(fn)` joins the transaction (no savepoint, as on
   * SQLite: a throw inside it that the outer callback catches undoes nothing by itself).
   */
  transaction<T>(fn: (tx: PgStore) => Promise<T>): Promise<T>;
  /** At once: a PostgreSQL commit is durable when it returns. */
  durable(): Promise<void>;
}

/**
 * The PostgreSQL store over an open database (`openPg(…).db`); closing the pool is the caller's (`PgHandle.close`).
 * `agingMs`: the outbox's aging, as `openStore`'s (default HERALD_AGING_MS's, 60 s).
 */
export function pgStore(db: PgDb, opts: { agingMs?: number } = {}): PgStore {
  const shared: Shared = {
    pruneClock: { lastPrune: 0 },
    sources: sourceCaches(),
    mutes: muteCache(),
    outboundTargets: { byRoute: new Map() },
    digests: digestListeners(),
    routes: routeCache(),
    channelKinds: channelKindCache(),
    agingMs: opts.agingMs ?? 60_000,
  };
  const durable = async (): Promise<void> => {};
  const transaction = async <T>(fn: (tx: PgStore) => Promise<T>): Promise<T> => {
    // `fn`'s throw, kept: when the connection died, drizzle's ROLLBACK fails too and throws its own error instead.
    let thrown: { err: unknown } | undefined;
    try {
      // drizzle takes a connection from the pool, sends BEGIN, and COMMIT after `fn` resolves (ROLLBACK after a
      // throw, which it rethrows), then gives the connection back.
      return await db.transaction(async (txDb) => {
        const tx: PgStore = { ...build(txDb, shared), durable, transaction: (inner) => inner(tx) };
        try {
          return await fn(tx);
        } catch (err) {
          thrown = { err };
          throw err;
        }
      });
    } catch (err) {
      throw thrown ? thrown.err : err;
    }
  };
  return { ...build(db, shared), durable, transaction };
}
