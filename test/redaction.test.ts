import { describe, expect, it } from 'vitest';
import { createLogger, maskUrl, scrubSecrets } from '../src/log.js';
import { Writable } from 'node:stream';
import { alert, deliveredAlertIds, startStack, waitFor, ADMIN_TOKEN } from './support/stack.js';

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _e, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, log: createLogger('trace', sink) };
}

describe('secrets never reach the logs', () => {
  it('pino redacts tokens, URLs and authorization headers wherever they are logged', () => {
    const { lines, log } = capture();
    const secret = 'T0k3n_' + 'x'.repeat(62);
    log.info({ token: secret, url: `https://discord.com/api/webhooks/123456789012345678/${secret}` }, 'top level');
    log.info({ webhook: { token: secret, webhookUrl: `https://x/webhooks/1/${secret}` } }, 'nested');
    log.info({ req: { headers: { authorization: `Bearer ${secret}` } }, headers: { authorization: `Bearer ${secret}` } }, 'headers');
    log.info({ DISCORD_TOKEN: secret, adminToken: secret }, 'config');
    expect(lines).toHaveLength(4);
    for (const l of lines) expect(l).not.toContain(secret);
    expect(lines.join('')).toContain('[redacted]');
  });

  it('masks webhook tokens in URLs and free text', () => {
    const secret = 'a'.repeat(68);
    expect(maskUrl(`http://127.0.0.1:1/api/v10/webhooks/123456789012345678/${secret}?wait=true`)).toBe('http://127.0.0.1:1/api/v10/webhooks/123456789012345678/****?wait=true');
    expect(scrubSecrets(`failed POST /webhooks/1/${secret}: Bearer ${secret}`)).not.toContain(secret);
  });

  it('a whole run (webhooks added, alerts posted, a webhook deleted, Discord failing) logs no token', async () => {
    const stack = await startStack({
      env: { HERALD_LOG_LEVEL: 'trace', HERALD_CHANNEL_WINDOW_MS: '1000', HERALD_RETRY_BASE_MS: '20', HERALD_REQUEST_TIMEOUT_MS: '300' },
      emulator: { channelCap: { limit: 30, windowMs: 1000 }, webhookBucket: { limit: 5, windowMs: 100 } },
    });
    try {
      const source = await stack.source();
      const ch = await stack.channel({ webhooks: 2 });
      const hookTokens = ch.webhookTokens;
      expect(hookTokens).toHaveLength(2);
      stack.emulator.injectFault({ kind: 'error', status: 500, count: 2 });
      stack.emulator.injectFault({ kind: 'hang', count: 1 });
      const posted = await stack.post(source, { alerts: [alert(1), alert(2), alert(3)] });
      expect(posted.status).toBe(202);
      await stack.post('hrl_wrong-token-for-the-log', alert(4));
      stack.emulator.deleteWebhook(ch.webhookIds[0]!);
      await stack.post(source, alert(5));
      await waitFor('delivered', () => deliveredAlertIds(stack.emulator, ch.discordChannelId).length >= 4, 15_000);

      const text = stack.logs.join('');
      expect(text.length).toBeGreaterThan(0);
      for (const secret of [source, ADMIN_TOKEN, 'hrl_wrong-token-for-the-log', ...hookTokens]) expect(text).not.toContain(secret);
      // The admin API never returns a webhook token either.
      const hooks = await stack.admin('GET', `/v1/admin/channels/${ch.id}/webhooks`);
      for (const t of hookTokens) expect(JSON.stringify(hooks.body)).not.toContain(t);
    } finally {
      await stack.close();
    }
  });
});
