import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBotStack, type BotStack } from './support/bot.js';
import { startBrowser, type Browser } from './support/browser.js';
import { ADMIN_TOKEN, FAST, waitFor, type TestChannel } from './support/stack.js';

/**
 * The web console in a real headless Chromium (playwright-core driving Debian's chromium) against a real
 * Herald on loopback with the emulator and the bot, as in emulator mode: one browser for the whole file.
 */
describe('web console in a browser', () => {
  let stack: BotStack;
  let browser: Browser;
  let channel: TestChannel;
  let source: string;
  /** What the browser reported as errors: a Content-Security-Policy violation, a script error. */
  const problems: string[] = [];

  const go = (path: string) => browser.page.goto(stack.url + path);
  const flash = (text: string | RegExp) => browser.page.locator('.flash', { hasText: text }).waitFor();
  const postAlert = async (body: Record<string, unknown>) => {
    const res = await stack.post(source, body);
    expect(res.status).toBe(202);
    return res.body.ids[0] as number;
  };
  const alertOf = async (id: number) => (await stack.admin('GET', `/v1/admin/alerts/${id}`)).body;
  const sentMessage = async (id: number): Promise<string> => {
    let messageId: string | null = null;
    await waitFor(`alert #${id} to be posted`, async () => {
      messageId = (await alertOf(id)).deliveries[0]?.discord_message_id ?? null;
      return messageId !== null;
    });
    return messageId!;
  };

  beforeAll(async () => {
    // One try per delivery: a single injected 500 makes a dead letter at once.
    stack = await startBotStack({ emulatedConsole: true, emulator: FAST.emulator, env: { ...FAST.env, HERALD_MAX_ATTEMPTS: '1' } });
    channel = await stack.channel({ applicationOwned: true, name: 'ops' });
    source = await stack.source('console');
    browser = await startBrowser();
    browser.page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    browser.page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content.Security.Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('asks for the admin token, refuses a wrong one, and logs in with the right one', async () => {
    const { page, context } = browser;
    await go('/console');
    expect(new URL(page.url()).pathname).toBe('/console/login');
    await page.fill('input[name=token]', 'not-the-admin-token-at-all');
    await page.click('button[type=submit]');
    await flash('That is not the admin token');
    expect(await context.cookies()).toEqual([]);

    await page.fill('input[name=token]', ADMIN_TOKEN);
    await page.click('button[type=submit]');
    await page.locator('h1', { hasText: 'Overview' }).waitFor();
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'herald_console', path: '/console', httpOnly: true, sameSite: 'Strict' });
    expect(cookie!.value).not.toContain(ADMIN_TOKEN);
    // The overview's figures are there, its chart drawn server-side.
    await page.locator('svg.chart').first().waitFor();
  });

  it('shows an alert posted through the hook, and its page: messages with links, attempts with status and latency', async () => {
    const { page } = browser;
    const id = await postAlert({ service: 'checkout', severity: 'P1', title: 'Payment errors above 5%', description: 'p95 2.3s', labels: { team: 'payments' } });
    const messageId = await sentMessage(id);

    await go('/console/alerts?q=payment');
    await page.click(`tr[data-testid=alert-${id}] a >> text=Payment errors above 5%`);
    await page.locator('h1', { hasText: 'Payment errors above 5%' }).waitFor();
    const delivery = page.locator('[data-testid^=delivery-]').first();
    expect(await delivery.locator('h3').innerText()).toContain('sent');
    const attempt = delivery.locator('tbody tr').first();
    expect(await attempt.locator('td').nth(1).innerText()).toBe('200');
    expect(await attempt.locator('td').nth(2).innerText()).toMatch(/^\d+ ms$/);
    // In emulator mode the message links to the console's emulated channel.
    const link = delivery.locator(`a >> text=${messageId}`);
    expect(await link.getAttribute('href')).toBe(`/console/emulator/channels/${channel.discordChannelId}#m-${messageId}`);
    await link.click();
    const card = page.locator(`[data-testid=message-${messageId}]`);
    await card.waitFor();
    expect(await card.locator('.embed .title').innerText()).toContain('Payment errors above 5%');
    expect(await card.locator('button.dbtn').allInnerTexts()).toEqual(expect.arrayContaining(['Acknowledge', 'Resolve']));
  });

  it('replays a dead letter', async () => {
    const { page } = browser;
    stack.emulator.injectFault({ kind: 'error', status: 500, count: 1, channelId: channel.discordChannelId });
    const id = await postAlert({ service: 'checkout', severity: 'P2', title: 'Gives up at once' });
    await waitFor('the dead letter', async () => (await alertOf(id)).deliveries[0]?.state === 'dead');

    await go('/console/dead-letters');
    const row = page.locator('tr', { hasText: 'Gives up at once' });
    await row.locator('button', { hasText: 'Replay' }).click();
    await flash(/queued again as delivery/);
    await waitFor('the replayed delivery to be sent', async () => (await alertOf(id)).deliveries[0]?.state === 'sent');
    await go('/console/dead-letters?all=1');
    expect(await page.locator('tr', { hasText: 'Gives up at once' }).innerText()).toContain('replayed');
  });

  it('creates a mute that silences matching alerts, and lifts it', async () => {
    const { page } = browser;
    await go('/console/mutes');
    await page.selectOption('select[name=target]', 'service');
    await page.fill('input[name=value]', 'batch-*');
    await page.fill('input[name=duration_minutes]', '30');
    await page.fill('input[name=reason]', 'nightly maintenance');
    await page.click('button:has-text("Create mute")');
    await flash(/Mute #\d+ in force/);
    const row = page.locator('tr[data-testid^=mute-]', { hasText: 'batch-*' });
    expect(await row.innerText()).toContain('nightly maintenance');

    const muted = await postAlert({ service: 'batch-nightly', severity: 'P3', title: 'Job slow' });
    expect((await alertOf(muted)).muted_by_mute_id).not.toBeNull();

    await row.locator('button', { hasText: 'Lift' }).click();
    await flash('lifted');
    expect(await page.locator('tr[data-testid^=mute-]', { hasText: 'batch-*' }).count()).toBe(0);
    const after = await postAlert({ service: 'batch-nightly', severity: 'P3', title: 'Job slow again' });
    expect((await alertOf(after)).muted_by_mute_id).toBeNull();
  });

  it('presses a card button in the emulated channel: refused for a member without permission, acknowledges for an on-call member', async () => {
    const { page } = browser;
    const id = await postAlert({ service: 'search', severity: 'P1', title: 'Index lagging' });
    const messageId = await sentMessage(id);
    await go(`/console/emulator/channels/${channel.discordChannelId}`);
    const card = page.locator(`[data-testid=message-${messageId}]`);
    await card.waitFor();

    await page.selectOption('select[name=user_id]', { label: 'member' });
    await card.locator('button.dbtn', { hasText: 'Acknowledge' }).click();
    await flash(/Herald answered member \(only they see it\)/);
    expect((await alertOf(id)).acknowledged_at).toBeNull();

    await page.selectOption('select[name=user_id]', { label: 'oncall' });
    await page.locator(`[data-testid=message-${messageId}] button.dbtn`, { hasText: 'Acknowledge' }).click();
    await flash(/oncall pressed it/);
    const acked = await alertOf(id);
    expect(acked.acknowledged_at).not.toBeNull();
    expect(acked.acknowledged_by).toContain('oncall');
    // The card as Discord now shows it: acknowledged, with Resolve left.
    await page.locator(`[data-testid=message-${messageId}] .embed`, { hasText: 'Acknowledged' }).waitFor();

    await go(`/console/alerts/${id}`);
    expect(await page.locator('[data-testid=alert-state]').innerText()).toBe('acknowledged');
    expect(await page.locator('.timeline').first().innerText()).toContain('ack by');
  });

  it('shows an Alertmanager group posted through the hook as one incident, lists its members on its page, and acknowledges it from the console', async () => {
    const { page } = browser;
    const am = (await stack.admin('POST', '/v1/admin/sources', { name: 'alertmanager', format: 'alertmanager' })).body.token as string;
    // No group_wait for this test's card: it is posted as soon as the group is in.
    const route = (await stack.admin('GET', '/v1/admin/routes')).body[0].id as number;
    expect((await stack.admin('PATCH', `/v1/admin/routes/${route}`, { group_wait: '0' })).status).toBe(200);
    const alert = (instance: string, summary: string) => ({
      status: 'firing',
      labels: { alertname: 'DiskFull', service: 'db', severity: 'critical', instance },
      annotations: { summary },
      startsAt: '2026-12-01T09:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      fingerprint: `fp-${instance}`,
    });
    const res = await stack.post(am, {
      version: '4',
      groupKey: '{}:{alertname="DiskFull"}',
      status: 'firing',
      receiver: 'herald',
      groupLabels: { alertname: 'DiskFull' },
      commonLabels: { alertname: 'DiskFull' },
      commonAnnotations: {},
      externalURL: 'http://alertmanager.example.com',
      alerts: [alert('db-1', 'disk / on db-1 is 97% full'), alert('db-2', 'disk / on db-2 is 95% full')],
    });
    expect(res.status).toBe(202);
    const members = res.body.ids as number[];
    expect(members).toHaveLength(2);
    const incident = (await alertOf(members[0]!)).incident_id as number;
    expect((await alertOf(members[1]!)).incident_id).toBe(incident);
    const messageId = await sentMessage(members[0]!);

    await go('/console/incidents');
    const row = page.locator(`tr[data-testid=incident-${incident}]`);
    expect(await row.innerText()).toContain('alertname=DiskFull');
    expect(await row.innerText()).toContain('2 / 0 / 0');
    await row.locator('a', { hasText: 'alertname=DiskFull' }).click();
    await page.locator('h1', { hasText: `incident #${incident}` }).waitFor();
    for (const id of members) expect(await page.locator(`tr[data-testid=member-${id}] a`).first().getAttribute('href')).toBe(`/console/alerts/${id}`);
    expect(await page.locator(`tr[data-testid=incident-message-${messageId}] a`).getAttribute('href')).toBe(`/console/emulator/channels/${channel.discordChannelId}#m-${messageId}`);

    await page.click('button:has-text("Acknowledge")');
    await flash(`Incident #${incident} acknowledged: 2 alerts acknowledged`);
    expect(await page.locator('[data-testid=incident-state]').innerText()).toBe('acknowledged');
    const after = (await stack.admin('GET', `/v1/admin/incidents/${incident}`)).body;
    expect(after).toMatchObject({ acknowledged: 2, status: 'firing' });
    // The card in the emulated channel follows: its members are marked acknowledged.
    await go(`/console/emulator/channels/${channel.discordChannelId}`);
    await page.locator(`[data-testid=message-${messageId}] .embed`, { hasText: /\b2\W* acknowledged/ }).waitFor();
    // Its member's page links back to it.
    await go(`/console/alerts/${members[1]}`);
    expect(await page.locator('[data-testid=alert-incident] a').getAttribute('href')).toBe(`/console/incidents/${incident}`);
    expect((await stack.admin('PATCH', `/v1/admin/routes/${route}`, { group_wait: null })).status).toBe(200);
  });

  it('runs htmx under its Content-Security-Policy (no inline script or style) without a violation', async () => {
    const { page } = browser;
    await go('/console');
    expect(await page.evaluate(() => typeof (globalThis as unknown as { htmx?: unknown }).htmx)).toBe('object');
    // Boosted navigation: the nav link is followed by htmx, the page swapped in place.
    await page.click('header nav a:has-text("Routes")');
    await page.locator('h1', { hasText: 'Routes' }).waitFor();
    expect(problems).toEqual([]);
  });
});
