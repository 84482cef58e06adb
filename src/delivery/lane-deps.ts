import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { BotRest } from '../discord/bot-rest.js';
import type { Guard } from '../guard.js';
import type { Metrics } from '../metrics.js';
import type { MessageOps } from '../store/message-ops.js';
import type { OutcomeRecorder } from './outcome-recorder.js';
import type { Outbox } from '../store/deliveries.js';
import type { WebhookPool } from './pool.js';
import type { DiscordTransport } from './transport.js';
import type { WebhookStore } from '../store/webhooks.js';
import type { StormStore } from '../store/storms.js';
import type { ThreadPolicy } from './threads.js';
import type { IncidentStore } from '../store/incidents.js';

/**
 * What a channel's lane and its message-operation runner need: the types they share, kept apart from
 * both so neither imports the other for them.
 */
export interface LaneDeps {
  outbox: Outbox;
  ops: MessageOps;
  /** The bot's REST client, when a bot token is configured: the fallback for messages whose webhook is gone. */
  bot?: BotRest | undefined;
  store: WebhookStore;
  /** The channel's storms: the summary card's message, kept across restarts. */
  storms: StormStore;
  /**
   * Incidents' titles and mute state, for their cards (absent: a lane built without incidents renders members as
   * alert cards); `members`: an escalation page's card of the whole incident.
   */
  incidents?: (Pick<IncidentStore, 'titles'> & Partial<Pick<IncidentStore, 'mutedUntil' | 'renderMembers'>>) | undefined;
  /** How posts meet threads (threads routes, forum channels); absent: no threads. */
  threads?: ThreadPolicy | undefined;
  transport: DiscordTransport;
  config: Config['delivery'];
  metrics: Metrics;
  log: Logger;
  /** Guards the lane's timer work: a database error is logged and retried with backoff, never thrown to the process. */
  guard: Guard;
  /** Every write that records the outcome of a request already made goes through it (retried until recorded). */
  recorder: OutcomeRecorder;
}

/** What the message-operation runner needs of its channel's lane: the pool (whose members' buckets it shares) and its timer. */
export interface LaneHooks {
  readonly pool: WebhookPool;
  schedule(at: number): void;
  pump(): void;
  /** Deliveries were queued for this channel (a card reposted after its webhook was gone). */
  enqueued(count: number): void;
}
