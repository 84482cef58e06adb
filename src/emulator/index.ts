import { buildEmulator } from './server.js';
import { EmulatorError } from './state.js';
import { parseFault } from './faults.js';
import type { Emulator, EmulatorOptions } from './types.js';

export type { EmulatedChannel, EmulatedMessage, EmulatedWebhook, Emulator, EmulatorOptions, EmulatorStats, Fault } from './types.js';
export { EmulatorError } from './state.js';

export const DEFAULT_WEBHOOK_BUCKET = { limit: 5, windowMs: 2000 } as const;
export const DEFAULT_CHANNEL_CAP = { limit: 30, windowMs: 60_000 } as const;

/**
 * Starts an emulated Discord (webhook REST API, with its limits) on `host:port` (default 127.0.0.1, an
 * ephemeral port). Everything lives in memory and is gone after close().
 */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const host = opts.host ?? '127.0.0.1';
  const webhookBucket = checkWindow('webhookBucket', opts.webhookBucket ?? DEFAULT_WEBHOOK_BUCKET);
  const channelCap = checkWindow('channelCap', opts.channelCap ?? DEFAULT_CHANNEL_CAP);
  let url = '';
  const core = buildEmulator({ webhookBucket, channelCap, logger: opts.logger ?? false, apiUrl: () => url });
  await core.app.listen({ host, port: opts.port ?? 0 });
  const address = core.app.server.address();
  if (!address || typeof address === 'string') throw new Error('emulator: the server has no TCP address');
  const port = address.port;
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/api`;

  const { state, faults, stats } = core;
  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    createChannel: (o) => state.createChannel(o),
    createWebhook: (channelId, o) => state.createWebhook(channelId, o),
    deleteWebhook(webhookId) {
      if (!state.deleteWebhook(webhookId)) throw new EmulatorError(404, `unknown webhook ${webhookId}`);
    },
    channels: () => state.channels(),
    messages: (channelId) => state.messages(channelId),
    injectFault: (f) => faults.inject(parseFault(f)),
    clearFaults: () => faults.clear(),
    stats: () => stats.snapshot(Date.now()),
    resetStats: () => stats.reset(),
    close: () => (closed ??= core.shutdown()),
  };
}

function checkWindow(name: string, w: { limit: number; windowMs: number }) {
  if (!Number.isInteger(w.limit) || w.limit < 1 || !Number.isInteger(w.windowMs) || w.windowMs < 1) {
    throw new EmulatorError(400, `emulator: ${name} needs a positive integer limit and windowMs, got ${JSON.stringify(w)}`);
  }
  return { limit: w.limit, windowMs: w.windowMs };
}
