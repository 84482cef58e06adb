import type { Scheduler } from '../delivery/scheduler.js';
import type { Store } from '../store/index.js';
import { listChannels } from './channels.js';
import { getStatus } from './status.js';
import type { ChannelView, StatusView } from './views.js';

/** How many minutes of traffic the overview charts. */
export const OVERVIEW_MINUTES = 30;

/** A channel as the overview shows it: its backlog, its pool, and whether it is in storm mode. */
export interface ChannelActivity extends ChannelView {
  /** When the storm going on began (the channel posts P2/P3 as compact lines), or null. */
  storm_since: number | null;
}

/** One minute of requests to Discord: how many, and how many were answered 429. */
export interface MinuteTraffic {
  minute: number;
  requests: number;
  rate_limited: number;
}

export interface Overview {
  status: StatusView;
  channels: ChannelActivity[];
  /** The last OVERVIEW_MINUTES minutes, oldest first, every minute present (0 when quiet). */
  traffic: MinuteTraffic[];
}

type Deps = { store: Pick<Store, 'deliveries' | 'deadLetters' | 'webhooks' | 'channels' | 'attempts' | 'storms'>; scheduler: Pick<Scheduler, 'laneStates'> };

/** The console's overview: /status, each channel with its storm state, and requests (and 429s) per minute. */
export async function getOverview(h: Deps, now = Date.now()): Promise<Overview> {
  const first = Math.floor(now / 60_000) * 60_000 - (OVERVIEW_MINUTES - 1) * 60_000;
  const counted = new Map((await h.store.attempts.perMinute(first)).map((m) => [m.minute, m]));
  const traffic: MinuteTraffic[] = [];
  for (let i = 0; i < OVERVIEW_MINUTES; i++) {
    const minute = first + i * 60_000;
    const m = counted.get(minute);
    traffic.push({ minute, requests: m?.requests ?? 0, rate_limited: m?.rateLimited ?? 0 });
  }
  const channels: ChannelActivity[] = [];
  for (const c of await listChannels(h)) channels.push({ ...c, storm_since: (await h.store.storms.current(c.id))?.startedAt ?? null });
  return { status: await getStatus(h), channels, traffic };
}
