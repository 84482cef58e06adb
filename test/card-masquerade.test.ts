/**
 * Issue 8 §5 end to end: hostile alerts through the real hook, read back as the emulator received them.
 * What a person reads as a link is where it goes; sender markdown, mentions, control and bidi characters
 * are shown as text; only Herald's own escalation mention may ping.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatedMessage } from '../src/emulator/index.js';
import { FAST, startStack, waitFor, type Stack, type TestChannel } from './support/stack.js';

const ZWSP = '\u200B';
const ROLE = '222222222222222222';

interface Embed {
  title?: string;
  description?: string;
  url?: string;
  footer?: { text: string };
  fields?: { name: string; value: string }[];
}

/** The message and embed the emulator holds for the alert (its footer names it), once it is there. */
async function cardOf(stack: Stack, ch: TestChannel, alertId: number, which: (m: EmulatedMessage) => boolean = () => true) {
  let found: { message: EmulatedMessage; embed: Embed } | undefined;
  await waitFor(`the card of alert #${alertId}`, () => {
    for (const message of stack.emulator.messages(ch.discordChannelId)) {
      if (!which(message)) continue;
      const embed = (message.embeds as Embed[]).find((e) => new RegExp(`alert #${alertId}( |$)`).test(e.footer?.text ?? ''));
      if (embed) found = { message, embed };
    }
    return found !== undefined;
  }, 10_000);
  return found!;
}

const field = (e: Embed, name: string) => e.fields?.find((f) => f.name === name)?.value;

async function postAs(stack: Stack, token: string, body: unknown, format?: string): Promise<number> {
  const res = await fetch(`${stack.url}/v1/alerts${format ? `?format=${format}` : ''}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as { ids: number[] };
  expect(res.status).toBe(202);
  return answer.ids[0]!;
}

describe('hostile alerts through the hook', () => {
  let stack: Stack;
  let token: string;
  let ch: TestChannel;
  beforeAll(async () => {
    stack = await startStack(FAST);
    token = await stack.source();
    ch = await stack.channel();
  });
  afterAll(() => stack.close());

  it('native format: links show where they go, markdown and mentions are text, nothing pings', async () => {
    const id = await postAs(stack, token, {
      service: 'pay\u202Ements\u0007',
      severity: 'P1',
      title: '**URGENT** [https://grafana.example/d/1](https://evil.example/login) @everyone',
      description: 'Log in at [https://grafana.example/login](https://evil.example/login)\n@here <@&123456789012345678> <@123456789012345678>\n# fake heading',
      dedup_key: 'hostile-1',
      labels: { team: 'ops\nseverity=P0', note: '<!channel> ||hidden||' },
      fields: [{ name: '**Runbook**', value: 'see https://grafana.example/d/1)[Grafana](https://evil.example' }],
      links: [
        { title: 'https://grafana.example/d/1', url: 'https://evil.example/x' },
        { title: 'Grafana', url: 'https://grafana.example@evil.example/' },
      ],
    });
    const { message, embed } = await cardOf(stack, ch, id);

    expect(message.content).toBe('');
    expect(message.allowedMentions).toEqual({ parse: [] });
    expect(embed.url).toBeUndefined();
    expect(embed.title).toBe(`[P1] \\*\\*URGENT\\*\\* <https://grafana.example/d/1> (<https://evil.example/login>) @${ZWSP}everyone`);
    expect(embed.description).toBe(
      `Log in at <https://grafana.example/login> (<https://evil.example/login>)\n@${ZWSP}here \\<@&123456789012345678\\> \\<@123456789012345678\\>\n\\# fake heading`,
    );
    expect(field(embed, 'Service')).toBe('payments');
    expect(field(embed, 'Labels')).toBe('team=ops severity=P0\nnote=\\<!channel\\> \\|\\|hidden\\|\\|');
    expect(field(embed, '\\*\\*Runbook\\*\\*')).toBe('see <https://grafana.example/d/1)[Grafana](https://evil.example>');
    expect(field(embed, 'Links')).toBe('<https://grafana.example/d/1>: <https://evil.example/x>\nGrafana: <https://evil.example/>');
    expect(embed.footer?.text).toBe(`Herald · alert #${id} · dedup hostile-1`);
  });

  it('Alertmanager format: annotations and generator URL get the same treatment', async () => {
    const id = await postAs(
      stack,
      token,
      {
        receiver: 'herald',
        status: 'firing',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'High_Error_Rate', service: 'checkout', severity: 'critical' },
            annotations: { summary: '`rm -rf` **now**', description: '[Silence it here](https://evil.example/silence) \u2066@everyone\u2069' },
            startsAt: '2026-11-24T20:58:30.123Z',
            endsAt: '0001-01-01T00:00:00Z',
            generatorURL: 'https://prometheus.example@evil.example/graph',
            fingerprint: 'aaaabbbbccccdddd',
          },
        ],
        groupLabels: {},
        commonLabels: {},
        commonAnnotations: {},
        externalURL: 'http://alertmanager.example.com:9093',
        version: '4',
        groupKey: '{}:{}',
        truncatedAlerts: 0,
      },
      'alertmanager',
    );
    const { message, embed } = await cardOf(stack, ch, id);
    expect(message.allowedMentions).toEqual({ parse: [] });
    expect(embed.title).toBe('[P0] High\\_Error\\_Rate: \\`rm -rf\\` \\*\\*now\\*\\*');
    expect(embed.description).toBe(`Silence it here (<https://evil.example/silence>) @${ZWSP}everyone`);
    expect(field(embed, 'Links')).toBe('Source: <https://evil.example/graph>\nAlertmanager: <http://alertmanager.example.com:9093/>');
  });
});

describe('escaping and Herald’s own escalation mention', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('the step’s role still pings, alone; the sender’s mentions on the same card do not', async () => {
    stack = await startStack({ ...FAST, env: { ...FAST.env, HERALD_ESCALATION_POLL_MS: '50' } });
    const token = await stack.source();
    const ch = await stack.channel();
    const chain = await stack.admin('POST', '/v1/admin/escalation-chains', { name: 'page-ops', steps: [{ kind: 'role', delay_ms: 50, target: ROLE }] });
    expect(chain.status).toBe(201);
    const route = ((await stack.admin('GET', '/v1/admin/routes')).body as { id: number; channel_id: number }[]).find((r) => r.channel_id === ch.id)!;
    expect((await stack.admin('PUT', `/v1/admin/routes/${route.id}/escalation-chain`, { chain_id: chain.body.id })).status).toBe(200);

    const id = await postAs(stack, token, { service: 'db', severity: 'P1', title: 'Primary down <@&999999999999999999>', description: '@everyone <@&999999999999999999>' });
    const { message, embed } = await cardOf(stack, ch, id, (m) => m.content !== '');
    expect(message.content).toBe(`<@&${ROLE}>`);
    expect(message.allowedMentions).toEqual({ parse: [], roles: [ROLE] });
    expect(embed.title).toBe('[P1] Primary down \\<@&999999999999999999>');
    expect(embed.description).toBe(`@${ZWSP}everyone \\<@&999999999999999999>`);
  });
});
