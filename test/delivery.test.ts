import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { alert, deliveredAlertIds, startStack, waitFor, type Stack, FAST } from './support/stack.js';
import { holdWriteLock } from './support/process.js';


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
    // Storm mode off: this is the reserve of the card path under a flood of many messages (storm.test.ts has a P0 mid-storm).
    stack = await startStack({ env: { ...FAST.env, HERALD_CHANNEL_WINDOW_MS: '5000', HERALD_STORM_HORIZON_MS: '0' }, emulator: { channelCap: { limit: 30, windowMs: 5000 }, webhookBucket: FAST.emulator.webhookBucket } });
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

describe('database failures during delivery', () => {
  const delivery = (s: Stack, alertId: number) =>
    s.herald.db.$client.prepare('select state, discord_message_id as messageId from deliveries where alert_id = ?').get(alertId) as { state: string; messageId: string | null };

  it('a send whose recording meets a locked database is recorded once the lock goes: posted once, its id kept, acks edit it', async () => {
    // Discord takes 3 s to answer this post (within the request timeout): long enough for another process
    // to take the write lock meanwhile.
    stack = await startStack({ ...FAST, env: { ...FAST.env, HERALD_REQUEST_TIMEOUT_MS: '10000' } });
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 1 });
    stack.emulator.injectFault({ kind: 'slow', delayMs: 3000, webhookId: ch.webhookIds[0], count: 1 });
    const [id] = await postMany(stack, token, 1);
    await waitFor('the send in flight', () => delivery(stack!, id!).state === 'leased', 5000, 10);
    // Held well past the answer (longer than any synchronous busy wait would last).
    const lock = await holdWriteLock(join(stack.dir, 'herald.db'), 9000);
    // The answer comes while the lock is held: recording the message id fails (SQLITE_BUSY).
    expect(stack.emulator.messages(ch.discordChannelId)).toHaveLength(0);
    await waitFor('the message posted', () => stack!.emulator.messages(ch.discordChannelId).length === 1, 10_000);
    await waitFor('the recording failure logged', () => stack!.logs.join('').includes('could not record the outcome of a request already made'), 5000);
    expect(delivery(stack, id!).state).toBe('leased');
    await lock.released;

    const posted = stack.emulator.messages(ch.discordChannelId)[0]!;
    await waitFor('the message id recorded', () => delivery(stack!, id!).state === 'sent', 10_000);
    expect(delivery(stack, id!).messageId).toBe(posted.id);
    // No second post: not while the outcome waited, and a lease sweep (even one far in the future) finds
    // nothing to hand out again.
    await stack.herald.scheduler.sweep(Date.now() + 120_000);
    expect(stack.emulator.messages(ch.discordChannelId)).toHaveLength(1);

    expect((await stack.admin('POST', `/v1/admin/alerts/${id}/ack`, { by: 'erin' })).status).toBe(200);
    await waitFor('the message edited by the ack', () => stack!.emulator.messages(ch.discordChannelId)[0]!.editedAt !== undefined, 10_000);
    expect(JSON.stringify(stack.emulator.messages(ch.discordChannelId)[0]!.embeds)).toMatch(/erin/);
    expect(deliveredAlertIds(stack.emulator, ch.discordChannelId)).toEqual([id]);
  });

  it('reclaims a lease left behind while running (not only at start) and delivers it', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 0 });
    const [id] = await postMany(stack, token, 1);
    // A lease nothing holds any more (as a send whose settling failed leaves it), already expired.
    expect(await stack.herald.outbox.claim(ch.id, Date.now(), 10, 3, 1)).toHaveLength(1);
    const hook = stack.emulator.createWebhook(ch.discordChannelId);
    expect((await stack.admin('POST', `/v1/admin/channels/${ch.id}/webhooks`, { url: hook.url })).status).toBe(201);
    await waitFor('the stranded delivery sent', () => deliveredAlertIds(stack!.emulator, ch.discordChannelId).includes(id!), 15_000);
    // Discord holds the message before Herald has read the answer and recorded it: wait for the record.
    await waitFor('the stranded delivery recorded as sent', () => delivery(stack!, id!).state === 'sent');
    expect(stack.logs.join('')).toMatch(/reclaimed expired leases/);
  });
});

describe('/readyz is honest', () => {
  const readyz = async (s: Stack) => {
    const res = await fetch(`${s.url}/readyz`);
    return { status: res.status, body: (await res.json()) as { ok: boolean; problems: string[] } };
  };

  it('fails while writes fail (a full disk), with the reason; ingest answers 503 with Retry-After', async () => {
    stack = await startStack(FAST);
    const token = await stack.source();
    await stack.channel({ webhooks: 1 });
    expect(await readyz(stack)).toEqual({ status: 200, body: { ok: true, mode: 'discord', problems: [] } });
    const sqlite = stack.herald.db.$client;
    // SQLite's own "database or disk is full": no page may be added to the file.
    sqlite.pragma(`max_page_count = ${sqlite.pragma('page_count', { simple: true }) as number}`);
    try {
      const big = Array.from({ length: 50 }, (_, i) => alert(i, { description: 'x'.repeat(4000) }));
      const res = await fetch(`${stack.url}/v1/alerts`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ alerts: big }) });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(((await res.json()) as { message: string }).message).toMatch(/nothing was stored/);
      const ready = await readyz(stack);
      expect(ready.status).toBe(503);
      expect(ready.body.ok).toBe(false);
      expect(ready.body.problems.join('\n')).toMatch(/database: a write failed \d+ s ago \(SQLITE_FULL: database or disk is full\)/);
    } finally {
      sqlite.pragma('max_page_count = 1073741823');
    }
  });

  it('names a channel with no healthy webhook and one whose oldest due delivery waits too long', async () => {
    stack = await startStack({ ...FAST, env: { ...FAST.env, HERALD_READY_MAX_WAIT_MS: '1000' } });
    const token = await stack.source();
    const ch = await stack.channel({ webhooks: 0, name: 'no-hooks' });
    await postMany(stack, token, 1);
    await waitFor('/readyz naming the waiting channel', async () => (await readyz(stack!)).body.problems.some((p) => /oldest due delivery has waited/.test(p)), 10_000);
    const ready = await readyz(stack);
    expect(ready.status).toBe(503);
    expect(ready.body.problems).toEqual(
      expect.arrayContaining([
        `channel ${ch.id} (no-hooks) has no healthy webhook: add one, or restore a quarantined one`,
        expect.stringMatching(new RegExp(`^channel ${ch.id} \\(no-hooks\\): its oldest due delivery has waited \\d+ s \\(over 1 s\\)$`)),
      ]),
    );
  });
});
