import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every Prometheus series Herald exports, on one registry (so tests can build several apps in one process). */
export interface MetricSources {
  /** Deliveries pending or in flight per priority (0 = P0), read at scrape time. */
  queueDepth?: () => Promise<Record<number, number>>;
  /** Active webhooks per breaker state, read at scrape time. */
  breakers?: () => Promise<Record<string, number>>;
  /** Per channel, when its oldest delivery ready to go became ready (null: none), read at scrape time (by an async `collect`). */
  oldestDue?: () => Promise<{ channel: string; oldestDue: number | null }[]>;
  /** Dead letters not replayed yet, read at scrape time (the gauge's `collect` awaits it: prom-client awaits an async collect). */
  deadLettersPending?: () => Promise<number>;
}

export function createMetrics(sources: MetricSources = {}) {
  const registry = new Registry();
  // No prefix: prom-client's process and runtime metrics keep their standard names (process_cpu_seconds_total,
  // nodejs_heap_size_used_bytes, ...), which every client library uses and Node.js dashboards expect; Prometheus
  // tells Herald's apart by its job and instance labels. (They were herald_process_*, which doubled "process".)
  collectDefaultMetrics({ register: registry });
  const m = {
    registry,
    accepted: new Counter({ name: 'herald_alerts_accepted_total', help: 'Alerts committed by the hook', labelNames: ['severity'], registers: [registry] }),
    unrouted: new Counter({ name: 'herald_alerts_unrouted_total', help: 'Alerts that matched no route and no default channel (kept, listed by the admin API)', registers: [registry] }),
    delivered: new Counter({ name: 'herald_deliveries_delivered_total', help: 'Deliveries Discord accepted', registers: [registry] }),
    messages: new Counter({ name: 'herald_discord_messages_total', help: 'Messages posted to Discord (one may carry several packed alerts)', registers: [registry] }),
    failed: new Counter({ name: 'herald_delivery_failures_total', help: 'Failed requests to Discord, by reason', labelNames: ['reason'], registers: [registry] }),
    rateLimited: new Counter({ name: 'herald_discord_429_total', help: '429 answers from Discord, by scope', labelNames: ['scope'], registers: [registry] }),
    storms: new Counter({ name: 'herald_storms_total', help: 'Storms entered: a channel whose backlog could not be posted within the storm horizon', registers: [registry] }),
    deadLetters: new Counter({ name: 'herald_dead_letters_total', help: 'Deliveries given up on', labelNames: ['reason'], registers: [registry] }),
    queueDepth: new Gauge({
      name: 'herald_queue_depth',
      help: 'Deliveries pending or in flight, by priority',
      labelNames: ['priority'],
      registers: [registry],
      async collect() {
        for (const [p, n] of Object.entries((await sources.queueDepth?.()) ?? {})) this.set({ priority: `P${p}` }, n);
      },
    }),
    breakers: new Gauge({
      name: 'herald_webhook_breakers',
      help: 'Active webhooks by circuit-breaker state',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        for (const [state, n] of Object.entries((await sources.breakers?.()) ?? {})) this.set({ state }, n);
      },
    }),
    oldestDue: new Gauge({
      name: 'herald_queue_oldest_age_seconds',
      help: "How long the oldest delivery ready to go (its backoff or business hours over) has waited, by channel; 0: none waiting",
      labelNames: ['channel'],
      registers: [registry],
      async collect() {
        const channels = (await sources.oldestDue?.()) ?? [];
        this.reset(); // a deleted channel's series goes away
        const now = Date.now();
        for (const c of channels) this.set({ channel: c.channel }, c.oldestDue === null ? 0 : Math.max(0, (now - c.oldestDue) / 1000));
      },
    }),
    deadLettersPending: new Gauge({
      name: 'herald_dead_letters_pending',
      help: 'Dead letters not replayed yet',
      registers: [registry],
      async collect() {
        if (sources.deadLettersPending) this.set(await sources.deadLettersPending());
      },
    }),
    endToEnd: new Histogram({
      name: 'herald_delivery_latency_seconds',
      help: 'From alert accepted to Discord message posted',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
