import type { FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import { type ReadinessChecks, storageAndDeliveryProblems } from '../services/readiness.js';
import { configStatusView, type ConfigReloader } from '../services/config/reloader.js';
import { errorBody } from './error-body.js';
import { typed } from './typed-app.js';

/** What the ops endpoints read: storage and delivery health, the checks added by later starters (the bot), metrics. */
export type OpsDeps = Parameters<typeof storageAndDeliveryProblems>[0] & {
  config: Pick<Config, 'discord' | 'readyMaxWaitMs'>;
  metrics: Pick<Metrics, 'registry'>;
  readiness: Pick<ReadinessChecks, 'problems'>;
  /** The configuration file's last attempt, shown by /readyz (a refused file does not make Herald unready: it runs on the last good one). */
  configFile: Pick<ConfigReloader, 'status'> | undefined;
};

/** Which Discord Herald talks to: its built-in emulator (nothing reaches Discord) or a configured one. */
const modeOf = (herald: OpsDeps): 'emulator' | 'discord' => (herald.config.discord.emulated ? 'emulator' : 'discord');

/** `herald_mode{mode="emulator"|"discord"} 1`, an info gauge, so a dashboard shows a Herald that delivers nowhere. */
function exportMode(herald: OpsDeps): void {
  const registry = herald.metrics.registry;
  if (registry.getSingleMetric('herald_mode')) return;
  new Gauge({ name: 'herald_mode', help: 'Always 1; the label says whether Herald delivers to Discord or to its built-in emulator', labelNames: ['mode'], registers: [registry] }).set(
    { mode: modeOf(herald) },
    1,
  );
}

const readiness = z.object({
  ok: z.boolean(),
  mode: z.enum(['emulator', 'discord']).describe('emulator: Herald delivers to its built-in emulator, nothing reaches Discord'),
  problems: z.array(z.string()).describe('What keeps Herald from being ready, one plain sentence each'),
  config: configStatusView
    .optional()
    .describe('Present once the configuration file was read: `state` failed means its last version was refused (see `problems`) and Herald serves the last good configuration; this alone does not make Herald unready'),
});

/** Liveness, readiness and Prometheus metrics, at the root (no prefix: probes and scrapers expect these paths). */
export const opsEndpoints = (herald: OpsDeps) => async (scope: FastifyInstance): Promise<void> => {
  const app = typed(scope);
  exportMode(herald);
  app.get(
    '/healthz',
    { schema: { summary: 'Liveness: the process answers', response: { 200: z.object({ ok: z.literal(true) }).describe('The process answers') } } },
    async () => ({ ok: true as const }),
  );

  const readinessSummary =
    'Readiness: the database takes writes, every channel has a healthy webhook and no due delivery waits too long (HERALD_READY_MAX_WAIT_MS); when a bot token is set, the bot is connected to the gateway';
  const readinessAnswers = {
    200: readiness.describe('Ready'),
    // Not ready names its problems; a failure to check at all is the server's own 503.
    503: z.union([readiness, errorBody]).describe('Not ready: `problems` says why'),
  };
  app.get('/readyz', { schema: { summary: readinessSummary, response: readinessAnswers } }, async (_req, reply) => {
    const problems = [...(await storageAndDeliveryProblems(herald)), ...herald.readiness.problems()];
    // Once the file was read (at start, right after listening): before that there is nothing to say about it.
    const config = herald.configFile?.status;
    const shown = config && config.attempted_at !== null ? { config } : {};
    return reply.code(problems.length ? 503 : 200).send({ ok: problems.length === 0, mode: modeOf(herald), problems, ...shown });
  });

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', produces: ['text/plain'], response: { 200: z.string().describe('Prometheus text exposition format') } } }, async (_req, reply) => {
    reply.header('content-type', herald.metrics.registry.contentType);
    return herald.metrics.registry.metrics();
  });
};
