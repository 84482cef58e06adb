import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOLVED_COLOR } from '../src/cards/alert-card.js';
import type { EmulatedMessage } from '../src/emulator/index.js';
import { ROOT } from './support/process.js';
import { alert, deliveredAlertIds, FAST, startStack, waitFor, type Stack, type TestChannel } from './support/stack.js';

/**
 * Issue 8 §3: a dedup key is a sender's name for its own problem. Source B naming source A's key in an
 * acknowledge or a resolve must leave A's alert, its history and its Discord card untouched, in every
 * format that can acknowledge or resolve, through the real hook, SQLite and the emulator.
 */

const fixture = (name: string): any => JSON.parse(readFileSync(join(ROOT, 'test/fixtures', `${name}.json`), 'utf8'));

let stack: Stack;
let ch: TestChannel;
let tokenA: string;
let tokenB: string;
let sourceB: number;
beforeAll(async () => {
  stack = await startStack(FAST);
  tokenA = await stack.source('source-a');
  tokenB = await stack.source('source-b');
  sourceB = (stack.herald.db.$client.prepare("select id from sources where name = 'source-b'").get() as { id: number }).id;
  // Application-owned: the card carries buttons, so an acknowledgement would visibly change it.
  ch = await stack.channel({ webhooks: 1, applicationOwned: true });
});
afterAll(() => stack.close());

async function send(token: string, body: unknown, format: string, event?: string) {
  const query = `?format=${format}${event ? `&event=${event}` : ''}`;
  const res = await fetch(`${stack.url}/v1/alerts${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { ids: number[]; acknowledged?: number[]; ignored?: string[] } };
}

const q = <T = Record<string, any>>(sql: string, ...args: unknown[]) => stack.herald.db.$client.prepare(sql).all(...args) as T[];
const alertRow = (id: number) => q('select status, acknowledged_at, resolved_at, occurrences from alerts where id = ?', id)[0]!;
const cardOf = (id: number): EmulatedMessage | undefined =>
  stack.emulator
    .messages(ch.discordChannelId)
    .find((m) => !m.deleted && (m.embeds as { footer?: { text?: string } }[]).some((e) => e.footer?.text?.includes(`alert #${id}`)));

interface Case {
  name: string;
  /** Source A's alert (firing), and its dedup key. */
  fire: () => Promise<number>;
  /** The acknowledge or resolve, in the same format, sent with `token`. */
  act: (token: string) => ReturnType<typeof send>;
  /** How B's request is answered when it has nothing of its own: ignored (formats that act "only if open") or recorded as a resolved alert that fired 0 times. */
  forB: 'ignored' | 'recorded';
  /** What A's own request does to A's alert (the control: the same request does reach it). */
  forA: 'acknowledged' | 'resolved';
}

const fireWith = async (token: string, body: unknown, format: string, event?: string) => {
  const res = await send(token, body, format, event);
  expect(res.status).toBe(202);
  return res.body.ids[0]!;
};

const cases: Case[] = [
  {
    name: 'native status: resolved',
    fire: () => fireWith(tokenA, alert(1, { dedup_key: 'native-shared-key' }), 'native'),
    act: (t) => send(t, alert(1, { dedup_key: 'native-shared-key', status: 'resolved' }), 'native'),
    forB: 'recorded',
    forA: 'resolved',
  },
  {
    name: 'alertmanager resolved',
    fire: () => fireWith(tokenA, { ...fixture('alertmanager-firing'), alerts: [fixture('alertmanager-firing').alerts[0]] }, 'alertmanager'),
    act: (t) => send(t, fixture('alertmanager-resolved'), 'alertmanager'),
    forB: 'recorded',
    forA: 'resolved',
  },
  {
    name: 'pagerduty acknowledge',
    fire: () => fireWith(tokenA, { ...fixture('pagerduty-trigger'), dedup_key: 'pd-ack-key' }, 'pagerduty'),
    act: (t) => send(t, { ...fixture('pagerduty-acknowledge'), dedup_key: 'pd-ack-key' }, 'pagerduty'),
    forB: 'ignored',
    forA: 'acknowledged',
  },
  {
    name: 'pagerduty resolve',
    fire: () => fireWith(tokenA, { ...fixture('pagerduty-trigger'), dedup_key: 'pd-resolve-key' }, 'pagerduty'),
    act: (t) => send(t, { ...fixture('pagerduty-resolve'), dedup_key: 'pd-resolve-key' }, 'pagerduty'),
    forB: 'ignored',
    forA: 'resolved',
  },
  {
    name: 'jobs on_success',
    fire: () => fireWith(tokenA, fixture('jobs-on-error'), 'jobs', 'on_error'),
    act: (t) => send(t, fixture('jobs-on-success'), 'jobs', 'on_success'),
    forB: 'ignored',
    forA: 'resolved',
  },
  {
    name: 'pipeline status_changed to completed',
    fire: () => fireWith(tokenA, fixture('pipeline-status-failed'), 'pipeline'),
    act: (t) => send(t, fixture('pipeline-status-completed'), 'pipeline'),
    forB: 'ignored',
    forA: 'resolved',
  },
  {
    name: 'jobstatus job.completed',
    fire: () => fireWith(tokenA, fixture('jobstatus-failed'), 'jobstatus'),
    act: (t) => send(t, fixture('jobstatus-completed'), 'jobstatus'),
    forB: 'ignored',
    forA: 'resolved',
  },
  {
    name: 'jobstatus job.cancelled',
    fire: () => fireWith(tokenA, { ...fixture('jobstatus-failed'), job: { ...fixture('jobstatus-failed').job, id: 'job_cancel_1' } }, 'jobstatus'),
    act: (t) => send(t, { ...fixture('jobstatus-cancelled'), job: { ...fixture('jobstatus-cancelled').job, id: 'job_cancel_1' } }, 'jobstatus'),
    forB: 'ignored',
    forA: 'resolved',
  },
];

describe("one source cannot acknowledge or resolve another source's alert", () => {
  for (const c of cases) {
    it(`${c.name}: B's request with A's key leaves A's alert and its card untouched; A's own does act`, async () => {
      const id = await c.fire();
      await waitFor(`alert ${id} posted`, () => deliveredAlertIds(stack.emulator, ch.discordChannelId).includes(id));
      const card = structuredClone(cardOf(id)!);
      const alertsOfB = () => q<{ id: number }>('select id from alerts where source_id = ? order by id', sourceB).map((r) => r.id);
      const bBefore = alertsOfB();

      const fromB = await c.act(tokenB);
      expect(fromB.status).toBe(202);
      expect(fromB.body.acknowledged).toBeUndefined();
      if (c.forB === 'ignored') {
        // Nothing of B's own was open: nothing stored for B, and the answer says why.
        expect(fromB.body.ids).toEqual([]);
        expect(fromB.body.ignored?.[0]).toMatch(/^no open alert with dedup key ".+" to (acknowledge|resolve)$/);
        expect(alertsOfB()).toEqual(bBefore);
      } else {
        // Recorded as B's own resolved alert that fired 0 times, never posted (as for any resolve with nothing to resolve).
        expect(fromB.body.ids).toHaveLength(1);
        const orphan = fromB.body.ids[0]!;
        expect(orphan).not.toBe(id);
        expect(alertsOfB()).toEqual([...bBefore, orphan]);
        expect(alertRow(orphan)).toMatchObject({ status: 'resolved', occurrences: 0 });
        expect(q('select id from deliveries where alert_id = ?', orphan)).toEqual([]);
      }

      // A's alert: still firing, unacknowledged, no action recorded, no edit of its card queued or made.
      expect(alertRow(id)).toMatchObject({ status: 'firing', acknowledged_at: null, resolved_at: null });
      expect(q('select kind from alert_actions where alert_id = ?', id)).toEqual([]);
      expect(q('select m.id from message_ops m join deliveries d on d.id = m.delivery_id where d.alert_id = ?', id)).toEqual([]);
      expect(cardOf(id)).toEqual(card);

      // The control: the same request from A reaches A's alert, and its card changes.
      const fromA = await c.act(tokenA);
      expect(fromA.status).toBe(202);
      if (c.forA === 'acknowledged') {
        expect(fromA.body.acknowledged).toEqual([id]);
        expect(alertRow(id).acknowledged_at).not.toBeNull();
        await waitFor('card shows the acknowledgement', () => cardOf(id)?.editedAt !== undefined);
      } else {
        expect(alertRow(id)).toMatchObject({ status: 'resolved' });
        await waitFor('card turns resolved', () => (cardOf(id)?.embeds as { color?: number }[] | undefined)?.some((e) => e.color === RESOLVED_COLOR) ?? false);
      }
    });
  }
});
