import { afterEach, describe, expect, it } from 'vitest';
import { alert, deliveredAlertIds, startStack, waitFor, type Stack, FAST } from './support/stack.js';


let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function postMany(s: Stack, token: string, n: number, over: (i: number) => Record<string, unknown> = () => ({}), perRequest = 1): Promise<number[]> {
  const ids: number[] = [];
  const requests: Promise<void>[] = [];
  for (let i = 0; i < n; i += perRequest) {
    const alerts = Array.from({ length: Math.min(perRequest, n - i) }, (_, k) => alert(i + k, over(i + k)));
    requests.push(
      s.post(token, perRequest === 1 ? alerts[0] : { alerts }).then((res) => {
        expect(res.status).toBe(202);
        ids.push(...res.body.ids);
      }),
    );
  }
  await Promise.all(requests);
  return ids;
}

function expectExactlyOnce(delivered: number[], accepted: number[]) {
  expect(new Set(delivered).size).toBe(delivered.length);
  expect([...delivered].sort((a, b) => a - b)).toEqual([...accepted].sort((a, b) => a - b));
}

describe('delivery engine against the emulator', () => {
  it('delivers a storm of 1,000 alerts to one channel: none lost, none rejected, packed under the channel cap', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 2 });
    const accepted = await postMany(stack, token, 1000);
    expect(accepted).toHaveLength(1000);

    await waitFor('all 1000 alerts delivered', () => deliveredAlertIds(stack!.emulator, ch.discordChannelId).length >= 1000, 30_000);
    expectExactlyOnce(deliveredAlertIds(stack.emulator, ch.discordChannelId), accepted);

    const stats = stack.emulator.stats();
    const messages = stack.emulator.messages(ch.discordChannelId);
    // Packing: far fewer messages than alerts, none over 10 embeds.
    expect(messages.length).toBeLessThan(200);
    expect(Math.max(...messages.map((m: { embeds: unknown[] }) => m.embeds.length))).toBeLessThanOrEqual(10);
    expect(stats.byStatus['400'] ?? 0).toBe(0);
    // Under 1 rate-limited answer per 100 requests.
    const limited = stats.rateLimited.user + stats.rateLimited.shared + stats.rateLimited.global;
    expect(limited).toBeLessThan(Math.max(1, stats.requests / 100));
    const status = await stack.admin('GET', `/v1/admin/alerts/${accepted[0]}`);
    expect(status.body.deliveries[0]).toMatchObject({ state: 'sent' });
    expect(status.body.deliveries[0].discord_message_id).toMatch(/^\d{17,20}$/);
    // Webhooks busy with a send are not an empty pool: no false alarm for an admin.
    const events = await stack.admin('GET', '/v1/admin/events');
    expect(events.body.map((e: { kind: string }) => e.kind)).not.toContain('channel_without_webhook');
  });

  it('obeys shared-scope 429s when the channel cap is lower than configured, and still delivers everything', async () => {
    // Herald believes 30 per window; the channel really allows 8 (someone else posts there too).
    stack = await startStack({ env: FAST.env, emulator: { channelCap: { limit: 8, windowMs: 1000 }, webhookBucket: FAST.emulator.webhookBucket } });
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 3 });
    const accepted = await postMany(stack, token, 150);
    await waitFor('150 alerts delivered', () => deliveredAlertIds(stack!.emulator, ch.discordChannelId).length >= 150, 30_000);
    expectExactlyOnce(deliveredAlertIds(stack.emulator, ch.discordChannelId), accepted);
    const stats = stack.emulator.stats();
    expect(stats.rateLimited.shared).toBeGreaterThan(0);
    // Herald backs off instead of hammering: few 429s overall, and no invalid-request pile-up.
    expect(stats.rateLimited.shared).toBeLessThan(15);
    const attempts = await stack.admin('GET', '/v1/admin/attempts?limit=500');
    expect(attempts.body.some((a: { rate_limit_scope: string | null }) => a.rate_limit_scope === 'shared')).toBe(true);
  });

  it('fails over when a webhook is deleted mid-storm: quarantined, nothing lost', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 2 });
    const first = await postMany(stack, token, 200);
    await waitFor('some deliveries', () => deliveredAlertIds(stack!.emulator, ch.discordChannelId).length > 20);
    stack.emulator.deleteWebhook(ch.webhookIds[0]!);
    const second = await postMany(stack, token, 200);
    const accepted = [...first, ...second];
    await waitFor('400 alerts delivered', () => deliveredAlertIds(stack!.emulator, ch.discordChannelId).length >= 400, 30_000);
    expectExactlyOnce(deliveredAlertIds(stack.emulator, ch.discordChannelId), accepted);

    const hooks = await stack.admin('GET', `/v1/admin/channels/${ch.id}/webhooks`);
    const dead = hooks.body.find((w: { discord_webhook_id: string }) => w.discord_webhook_id === ch.webhookIds[0]);
    expect(dead.state).toBe('quarantined');
    const events = await stack.admin('GET', '/v1/admin/events');
    expect(events.body.some((e: { kind: string }) => e.kind === 'webhook_quarantined')).toBe(true);
    // A dead webhook is dropped at its first 404, not hammered.
    expect(stack.emulator.stats().byStatus['404'] ?? 0).toBeLessThanOrEqual(1);
  });

  it('retries 5xx with backoff until Discord recovers, and shows every attempt of a sent delivery', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1 });
    // Sent at the first try: one attempt (it used to show 0).
    const [first] = await postMany(stack, token, 1);
    await waitFor('delivered at once', () => deliveredAlertIds(stack!.emulator, ch.discordChannelId).includes(first!));
    expect((await stack.admin('GET', `/v1/admin/alerts/${first}`)).body.deliveries[0]).toMatchObject({ state: 'sent', attempts: 1 });

    stack.emulator.injectFault({ kind: 'error', status: 502, count: 3 });
    const [id] = await postMany(stack, token, 1);
    await waitFor('delivered after 502s', () => deliveredAlertIds(stack!.emulator, ch.discordChannelId).includes(id!));
    const view = await stack.admin('GET', `/v1/admin/alerts/${id}`);
    // Three 502s and the send that worked (it used to show 3).
    expect(view.body.deliveries[0]).toMatchObject({ state: 'sent', attempts: 4 });
    expect(stack.emulator.stats().byStatus['502']).toBe(3);
    const attempts = (await stack.admin('GET', `/v1/admin/attempts?delivery_id=${view.body.deliveries[0].id}`)).body as unknown[];
    expect(attempts).toHaveLength(4);
  });

  it('dead-letters after the attempts run out, keeps Discord\'s answer, and replays on demand', async () => {
    stack = await startStack({ ...FAST, env: { ...FAST.env, HERALD_MAX_ATTEMPTS: '3', HERALD_BREAKER_THRESHOLD: '100' } });
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1 });
    stack.emulator.injectFault({ kind: 'error', status: 500 });
    const [id] = await postMany(stack, token, 1);
    await waitFor('a dead letter', async () => (await stack!.admin('GET', '/v1/admin/dead-letters')).body.length === 1);
    const letters = (await stack.admin('GET', '/v1/admin/dead-letters')).body;
    expect(letters[0].reason).toMatch(/3 attempts/);
    expect(stack.emulator.stats().byStatus['500']).toBe(3);

    stack.emulator.clearFaults();
    const replay = await stack.admin('POST', `/v1/admin/dead-letters/${letters[0].id}/replay`);
    expect(replay.status).toBe(200);
    await waitFor('delivered after replay', () => deliveredAlertIds(stack!.emulator, ch.discordChannelId).includes(id!));
  });

  it('times out a hanging Discord, retries, and delivers', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1 });
    stack.emulator.injectFault({ kind: 'hang', count: 1 });
    const [id] = await postMany(stack, token, 1);
    await waitFor('delivered after a hang', () => deliveredAlertIds(stack!.emulator, ch.discordChannelId).includes(id!), 15_000);
    const attempts = (await stack.admin('GET', '/v1/admin/attempts')).body as { outcome: string }[];
    expect(attempts.map((a) => a.outcome)).toContain('timeout');
  });

  it('opens the breaker of a failing webhook and sends through its healthy sibling', async () => {
    stack = await startStack({ ...FAST, env: { ...FAST.env, HERALD_BREAKER_THRESHOLD: '2', HERALD_BREAKER_COOLDOWN_MS: '60000' } });
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 2 });
    stack.emulator.injectFault({ kind: 'error', status: 503, webhookId: ch.webhookIds[0] });
    const accepted = await postMany(stack, token, 30);
    await waitFor('30 delivered', () => deliveredAlertIds(stack!.emulator, ch.discordChannelId).length >= 30, 20_000);
    expectExactlyOnce(deliveredAlertIds(stack.emulator, ch.discordChannelId), accepted);
    const hooks = (await stack.admin('GET', `/v1/admin/channels/${ch.id}/webhooks`)).body as { discord_webhook_id: string; breaker_state: string }[];
    expect(hooks.find((w) => w.discord_webhook_id === ch.webhookIds[0])!.breaker_state).toBe('open');
    expect(stack.emulator.stats().byStatus['503']).toBe(2);
  });

  it('sends a P0 ahead of a P3 flood, through the reserved headroom', async () => {
    stack = await startStack({ env: { ...FAST.env, HERALD_CHANNEL_WINDOW_MS: '5000' }, emulator: { channelCap: { limit: 30, windowMs: 5000 }, webhookBucket: FAST.emulator.webhookBucket } });
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 2 });
    await postMany(stack, token, 600, () => ({ severity: 'P3' }), 100);
    // Let the flood use up the low-severity budget of the window.
    await waitFor('flood started', () => stack!.emulator.messages(ch.discordChannelId).length >= 20);
    const sentAt = Date.now();
    const [p0] = await postMany(stack, token, 1, () => ({ severity: 'P0', title: 'Database down' }));
    await waitFor('P0 delivered', () => deliveredAlertIds(stack!.emulator, ch.discordChannelId).includes(p0!), 5_000, 10);
    expect(Date.now() - sentAt).toBeLessThan(2000);
    expect(stack.emulator.stats().rateLimited.shared).toBe(0);
  });
});
