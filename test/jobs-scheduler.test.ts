import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOLVED_COLOR } from '../src/cards/alert-card.js';
import { ROOT } from './support/process.js';
import { deliveredAlertIds, FAST, startStack, waitFor, type Stack, type TestChannel } from './support/stack.js';

/**
 * Issue 8 §8: the job scheduler's hook exactly as its documentation shows it (`status` is the exit code,
 * a number; `triggered` a list of job names; `triggered_by_job_run` the parent job's run), taken through
 * the real hook, stored, and posted to the emulator with the exit code and the parent job on the card.
 */

const fixtureBytes = (name: string) => readFileSync(join(ROOT, 'test/fixtures', `${name}.json`));

let stack: Stack;
let ch: TestChannel;
let token: string;
beforeAll(async () => {
  stack = await startStack(FAST);
  token = await stack.source('scheduler');
  ch = await stack.channel({ webhooks: 1 });
});
afterAll(() => stack.close());

/** Posts the body's bytes as they are (a fixture is sent verbatim, not re-serialized). */
async function hook(event: string, body: Buffer | string) {
  const res = await fetch(`${stack.url}/v1/alerts?format=jobs&event=${event}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
  });
  return { status: res.status, body: (await res.json()) as any };
}

type Embed = { title?: string; description?: string; color?: number; fields?: { name: string; value: string }[]; footer?: { text?: string } };
const cardOf = (id: number): Embed | undefined =>
  stack.emulator
    .messages(ch.discordChannelId)
    .filter((m) => !m.deleted)
    .flatMap((m) => m.embeds as Embed[])
    .find((e) => e.footer?.text?.includes(`alert #${id}`));
const field = (e: Embed, name: string) => e.fields?.find((f) => f.name === name)?.value;

describe('job-scheduler hook, as the scheduler documents it', () => {
  it('takes the documented payload verbatim; the card shows the exit code, the parent job and the jobs it triggered', async () => {
    const res = await hook('on_retries_exhausted', fixtureBytes('jobs-documented'));
    expect(res.status).toBe(202);
    const id = res.body.ids[0] as number;
    await waitFor(`alert ${id} posted`, () => deliveredAlertIds(stack.emulator, ch.discordChannelId).includes(id));

    const card = cardOf(id)!;
    expect(card.title).toBe('[P1] Job TeapotTask failed: retries exhausted');
    expect(card.description).toContain("I'm a teapot, not a coffee machine!");
    expect(field(card, 'Exit code')).toBe('0');
    expect(field(card, 'Parent job')).toBe('ParentJob (exit code 0), triggered by cron at 2023-04-01T11:59:00Z');
    expect(field(card, 'Parent job log')).toBe('Parent job completed successfully');
    expect(field(card, 'Triggered jobs')).toBe('CoffeeMachine');
    expect(field(card, 'Triggered by')).toBe('CoffeeRequestButton');
    expect(field(card, 'Retry attempt')).toBe('2');
    expect(field(card, 'Retries exhausted')).toBe('true');

    const stored = (await stack.admin('GET', `/v1/admin/alerts/${id}`)).body;
    expect(stored).toMatchObject({ service: 'TeapotTask', dedup_key: 'job:TeapotTask', labels: { job: 'TeapotTask', exit_code: '0', parent_job: 'ParentJob' } });
  });

  it('on_error, on_retries_exhausted and on_success in the documented shape: fired with the exit code, then resolved on the card', async () => {
    const err = await hook('on_error', fixtureBytes('jobs-on-error'));
    expect(err.status).toBe(202);
    const id = err.body.ids[0] as number;
    await waitFor(`alert ${id} posted`, () => cardOf(id) !== undefined);
    expect(cardOf(id)).toMatchObject({ title: '[P2] Job nightly-export failed (attempt 1)' });
    expect(field(cardOf(id)!, 'Exit code')).toBe('1');
    // Not triggered by a job: no parent on the card; an empty list of triggered jobs shows nothing.
    expect(field(cardOf(id)!, 'Parent job')).toBeUndefined();
    expect(field(cardOf(id)!, 'Triggered jobs')).toBeUndefined();

    const exhausted = await hook('on_retries_exhausted', fixtureBytes('jobs-on-retries-exhausted'));
    expect(exhausted.body.ids).toEqual([id]);
    // Sender text is shown as sent: the card escapes the markdown underscore (cleanup\_job reads cleanup_job).
    await waitFor('card raised to P1 with the job it triggered', () => field(cardOf(id) ?? {}, 'Triggered jobs') === 'cleanup\\_job');

    const ok = await hook('on_success', fixtureBytes('jobs-on-success'));
    expect(ok.status).toBe(202);
    await waitFor('card resolved', () => cardOf(id)?.color === RESOLVED_COLOR);
    expect(field(cardOf(id)!, 'Exit code')).toBe('1');
    expect((await stack.admin('GET', `/v1/admin/alerts/${id}`)).body).toMatchObject({ status: 'resolved', resolved_by: 'scheduler' });
  });

  it('refuses what the scheduler never sends, naming the field: a status that is not an exit code, triggered that is not a list', async () => {
    const documented = JSON.parse(fixtureBytes('jobs-documented').toString('utf8'));
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ status: 'failed' }, 'status', /exit code/],
      [{ status: 1.5 }, 'status', /whole number/],
      [{ triggered: 'CoffeeMachine' }, 'triggered', /list of job names/],
      [{ triggered_by_job_run: 'run_7f3a2c' }, 'triggered_by_job_run', /parent job/],
      [{ triggered_by_job_run: { ...documented.triggered_by_job_run, status: 'ok' } }, 'triggered_by_job_run.status', /exit code/],
    ];
    const before = (await stack.admin('GET', '/v1/admin/alerts')).body.length;
    for (const [change, path, message] of cases) {
      const res = await hook('on_error', JSON.stringify({ ...documented, ...change }));
      expect(res.status, JSON.stringify(change)).toBe(400);
      expect(res.body.problems).toContainEqual({ path, message: expect.stringMatching(message) });
    }
    expect((await stack.admin('GET', '/v1/admin/alerts')).body).toHaveLength(before);
  });
});
