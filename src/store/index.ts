/**
 * Herald's storage layer: ALL SQL lives under src/store/, one module per table family, each the only
 * writer of its tables and the owner of any in-memory cache of them (refreshed by the module itself
 * after its own writes: no caller calls a `reload()`). Nothing outside src/store/ imports drizzle-orm,
 * better-sqlite3 or the schema. See src/store/README.md for the contract (transactions, what becomes
 * async with a second backend).
 */
import { AlertActionStore } from './actions.js';
import { AlertStore } from './alerts.js';
import { AttemptStore } from './attempts.js';
import { ChannelStore } from './channels.js';
import { DeadLetterStore } from './dead-letters.js';
import { DigestStore } from './digests.js';
import { EscalationStore } from './escalations.js';
import { OutboundStore } from './outbound.js';
import { EventStore } from './events.js';
import { HealthStore } from './health.js';
import { HeartbeatStore } from './heartbeats.js';
import { IdempotencyStore } from './idempotency.js';
import { IncidentStore } from './incidents.js';
import { SourceStore } from './sources.js';
import { Outbox } from './deliveries.js';
import { MessageOps } from './message-ops.js';
import { StormStore } from './storms.js';
import { MuteStore } from './mutes.js';
import { RetentionStore } from './retention.js';
import { RouteStore } from './routes.js';
import { durabilityFor } from './sqlite/durability.js';
import { ConnectionGate, gated } from './sqlite/gate.js';
import { openDb, type Db } from './sqlite/open.js';
import { WebhookStore } from './webhooks.js';

export interface Store {
  /**
   * The SQLite handle. For the store's own modules, and for tests that inspect tables; nothing else
   * in src/ uses it (it goes away from the interface with the PostgreSQL backend).
   */
  readonly db: Db;
  /**
   * Runs `fn` as one transaction: every call made through `tx` (the same modules, bound to the transaction)
   * commits together or not at all; a throw rolls it all back and is rethrown. Inside `fn`, call only `tx`
   * (never this store: on SQLite that call would wait for the transaction it is in) and await nothing but
   * `tx`'s calls (the transaction holds the database meanwhile). `tx.transaction` joins the transaction.
   */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  /**
   * Resolves once everything committed before the call is on stable storage (HERALD_DB_SYNC=full: an fsync of
   * the write-ahead log in the thread pool, shared by every caller waiting at the time; 'normal': at once).
   * Answers that promise durability wait for it: ingest's 202, the admin API's changes.
   */
  durable(): Promise<void>;
  readonly alerts: AlertStore;
  /** Incidents: the groups alerts belong to (find-or-create on ingest, the admin API's reads). */
  readonly incidents: IncidentStore;
  readonly actions: AlertActionStore;
  readonly deliveries: Outbox;
  readonly messageOps: MessageOps;
  /** Storms of a channel's lane: the summary card's message, the tally it shows. */
  readonly storms: StormStore;
  readonly webhooks: WebhookStore;
  readonly channels: ChannelStore;
  readonly routes: RouteStore;
  readonly mutes: MuteStore;
  readonly digests: DigestStore;
  readonly escalations: EscalationStore;
  readonly outbound: OutboundStore;
  readonly sources: SourceStore;
  readonly idempotency: IdempotencyStore;
  readonly attempts: AttemptStore;
  readonly deadLetters: DeadLetterStore;
  readonly events: EventStore;
  /** Heartbeats (dead man's switches): declarations, beats, the runner's due reads. */
  readonly heartbeats: HeartbeatStore;
  /** What /readyz asks of the database. */
  readonly health: HealthStore;
  readonly retention: RetentionStore;
  /**
   * Reads every cache again (routes, mutes, outbound targets, forum channels, sources). For the one writer whose
   * several-module transaction can roll back after modules refreshed their caches inside it: the configuration
   * file's apply (services/config/apply.ts). Asynchronous, as a backend that reads over the network must be (on
   * SQLite it reads at once, through the gate like any call from outside a transaction).
   */
  refreshCaches(): Promise<void>;
  /** Closes the database. */
  close(): void;
}

export interface StoreOptions {
  sync?: 'full' | 'normal';
  onWarning?: (message: string) => void;
  /** Deliveries' aging: a lower priority waiting this long ranks like one step higher (HERALD_AGING_MS). */
  agingMs: number;
}

/** Opens (creating and migrating) the database and builds every store module over it, in dependency order. */
export function openStore(path: string, opts: StoreOptions): Store {
  const db = openDb(path, { ...(opts.onWarning ? { onWarning: opts.onWarning } : {}) });
  const durability = durabilityFor(db.$client, path, opts.sync ?? 'full', (err) =>
    opts.onWarning?.(`could not fsync the database's write-ahead log (${err instanceof Error ? err.message : String(err)}); tried again shortly`),
  );
  const deliveries = new Outbox(db, opts.agingMs);
  const actions = new AlertActionStore(db);
  const routes = new RouteStore(db);
  const idempotency = new IdempotencyStore(db);
  const messageOps = new MessageOps(db);
  const channels = new ChannelStore(db, routes, deliveries);
  const mutes = new MuteStore(db, actions);
  const outbound = new OutboundStore(db);
  const sources = new SourceStore(db, idempotency);
  const modules = {
    alerts: new AlertStore(db),
    incidents: new IncidentStore(db),
    actions,
    deliveries,
    messageOps,
    storms: new StormStore(db),
    webhooks: new WebhookStore(db),
    channels,
    routes,
    mutes,
    digests: new DigestStore(db),
    escalations: new EscalationStore(db, routes),
    outbound,
    sources,
    idempotency,
    attempts: new AttemptStore(db),
    deadLetters: new DeadLetterStore(db, deliveries, messageOps),
    events: new EventStore(db),
    heartbeats: new HeartbeatStore(db),
    health: new HealthStore(db),
    retention: new RetentionStore(db),
  };
  const reloadCaches = async () => {
    routes.load();
    mutes.load();
    outbound.load();
    channels.load();
    sources.load();
  };
  const common = {
    db,
    durable: () => durability.durable(),
    close: () => {
      durability.close();
      db.$client.close();
    },
  };
  const gate = new ConnectionGate((what) =>
    opts.onWarning?.(`${what} has waited 30 s for a transaction to end: a call inside store.transaction must go through its tx, not the store`),
  );
  // The transaction's view: the modules themselves (one connection: they are bound to it already).
  const tx: Store = { ...common, ...modules, refreshCaches: reloadCaches, transaction: (fn) => fn(tx) };
  const client = db.$client;
  const transaction = <T>(fn: (tx: Store) => Promise<T>): Promise<T> =>
    gate.exclusive(async () => {
      client.exec('BEGIN');
      try {
        const result = await fn(tx);
        client.exec('COMMIT');
        return result;
      } catch (err) {
        // SQLite may have rolled back already (a full disk, an I/O error).
        if (client.inTransaction) client.exec('ROLLBACK');
        throw err;
      }
    });
  const outside = Object.fromEntries(Object.entries(modules).map(([name, m]) => [name, gated(m, name, gate)])) as typeof modules;
  return { ...common, ...outside, refreshCaches: () => gate.call('refreshCaches', reloadCaches), transaction };
}
