import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './support/process.js';
import { alert, startStack, type Stack } from './support/stack.js';

const fixture = (name: string): any => JSON.parse(readFileSync(join(ROOT, 'test/fixtures', `${name}.json`), 'utf8'));

let stack: Stack;
let token: string;
beforeAll(async () => {
  stack = await startStack();
  token = await stack.source();
});
afterAll(() => stack.close());

interface Row {
  id: number;
  service: string;
  severity: string;
  title: string;
  description: string | null;
  status: string;
  dedup_key: string | null;
  environment: string | null;
  labels: Record<string, string> | null;
  fields: { name: string; value: string }[] | null;
  links: { title: string; url: string }[] | null;
  acknowledged_at: number | null;
}
const q = (sql: string, ...args: unknown[]) => stack.herald.db.$client.prepare(sql).all(...args) as Record<string, any>[];
const decode = (r: Record<string, any>): Row => ({
  ...(r as Row),
  labels: r.labels ? JSON.parse(r.labels) : null,
  fields: r.fields ? JSON.parse(r.fields) : null,
  links: r.links ? JSON.parse(r.links) : null,
});
const row = (id: number): Row => decode(q('select * from alerts where id = ?', id)[0]!);
/** The newest alert with this dedup key: after grouping lands, a resolve updates the open alert instead of adding one. */
const newest = (key: string): Row | undefined => {
  const r = q('select * from alerts where dedup_key = ? order by id desc limit 1', key)[0];
  return r ? decode(r) : undefined;
};
const countAlerts = () => q('select count(*) n from alerts')[0]!.n as number;

async function request(body: unknown, format: string | undefined, t: string, headers: Record<string, string>) {
  const res = await fetch(`${stack.url}/v1/alerts${format ? `?format=${format}` : ''}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}
const post = (body: unknown, format?: string, t = token) => request(body, format, t, {});

describe('Alertmanager webhook v4', () => {
  it('stores one alert per Alertmanager alert, fingerprint as dedup key, fields mapped', async () => {
    const res = await post(fixture('alertmanager-firing'), 'alertmanager');
    expect(res.status).toBe(202);
    expect(res.body.ids).toHaveLength(2);
    const [a, b] = (res.body.ids as number[]).map(row) as [Row, Row];
    expect(a).toMatchObject({
      service: 'checkout',
      severity: 'P0',
      title: 'HighErrorRate: 5xx rate above 5%',
      description: expect.stringContaining('above 5% for 10 minutes'),
      status: 'firing',
      dedup_key: 'c1a2b3d4e5f60718',
      environment: 'prod',
    });
    expect(a.labels).toMatchObject({ alertname: 'HighErrorRate', job: 'checkout-api', severity: 'critical' });
    expect(a.links!.map((l) => l.title)).toEqual(['Source', 'Runbook', 'Alertmanager']);
    expect(a.links![0]!.url).toMatch(/^http:\/\/prometheus\.example\.com:9090\/graph/);
    expect(a.fields).toContainEqual({ name: 'Started', value: '2026-11-24T20:58:30.123Z' });
    // No service label: the job; warning → P2; a relative generatorURL is left out (not a link).
    expect(b).toMatchObject({ service: 'node', severity: 'P2', title: 'DiskWillFillIn4Hours: Disk /var/lib/postgresql on db-1 will fill within 4 hours', dedup_key: '9f0e1d2c3b4a5968' });
    expect(b.links!.map((l) => l.title)).toEqual(['Alertmanager']);
  });

  it('a resolved notification (notification_reason present) leaves the alert with that fingerprint resolved', async () => {
    await post(fixture('alertmanager-firing'), 'alertmanager');
    const res = await post(fixture('alertmanager-resolved'), 'alertmanager');
    expect(res.status).toBe(202);
    expect(newest('c1a2b3d4e5f60718')).toMatchObject({ status: 'resolved', severity: 'P0', service: 'checkout' });
    // The resolved folds into the firing alert (grouping: one alert, its card edited), which keeps its content.
    expect(res.body.ids).toEqual([newest('c1a2b3d4e5f60718')!.id]);
    // A resolved for a fingerprint never seen firing is recorded as it came (with its end time), not posted.
    const resolved = fixture('alertmanager-resolved');
    const orphan = await post({ ...resolved, alerts: [{ ...resolved.alerts[0], fingerprint: 'f0f0f0f0f0f0f0f0' }] }, 'alertmanager');
    expect(orphan.status).toBe(202);
    expect(newest('f0f0f0f0f0f0f0f0')).toMatchObject({ status: 'resolved', occurrences: 0 });
    expect(newest('f0f0f0f0f0f0f0f0')!.fields).toContainEqual({ name: 'Ended', value: '2026-11-24T21:14:30.123Z' });
  });

  it('maps severities, with P2 as the default for a missing or unknown label', async () => {
    const base = fixture('alertmanager-firing');
    const one = (severity: string | undefined, fp: string) => {
      const a = structuredClone(base.alerts[1]);
      if (severity === undefined) delete a.labels.severity;
      else a.labels.severity = severity;
      return { ...a, fingerprint: fp };
    };
    const res = await post({ ...base, alerts: [one('error', 's1'), one('info', 's2'), one(undefined, 's3'), one('bogus', 's4'), one('P1', 's5')] }, 'alertmanager');
    expect(res.status).toBe(202);
    expect(res.body.ids.map((id: number) => row(id).severity)).toEqual(['P1', 'P3', 'P2', 'P2', 'P1']);
  });
});

describe('PagerDuty Events API v2', () => {
  it('trigger stores the alert; acknowledge acknowledges it; resolve resolves it', async () => {
    const trig = await post(fixture('pagerduty-trigger'), 'pagerduty');
    expect(trig.status).toBe(202);
    const a = row(trig.body.ids[0]);
    expect(a).toMatchObject({ service: 'prod-datapipe', severity: 'P0', title: 'DISK at 99% on machine prod-datapipe03.example.com', dedup_key: 'disk-prod-datapipe03', status: 'firing' });
    expect(a.labels).toEqual({ source: 'prod-datapipe03.example.com', component: 'mysql', group: 'prod-datapipe', class: 'disk' });
    expect(a.fields).toEqual(expect.arrayContaining([{ name: 'free space', value: '1%' }, { name: 'load avg', value: '0.75' }]));
    expect(a.links).toEqual([{ title: 'Disk runbook', url: 'https://example.com/runbooks/disk' }, { title: 'Sample Monitoring Service', url: 'https://monitoring.example.com' }]);

    const ack = await post(fixture('pagerduty-acknowledge'), 'pagerduty');
    expect(ack.status).toBe(202);
    expect(ack.body).toEqual({ ids: [], acknowledged: [a.id] });
    expect(row(a.id).acknowledged_at).not.toBeNull();
    const actions = q("select kind, actor_kind, actor_name from alert_actions where alert_id = ?", a.id);
    expect(actions).toContainEqual({ kind: 'ack', actor_kind: 'system', actor_name: expect.any(String) });

    const res = await post(fixture('pagerduty-resolve'), 'pagerduty');
    expect(res.status).toBe(202);
    expect(newest('disk-prod-datapipe03')!.status).toBe('resolved');
  });

  it('maps error/warning/info to P1/P2/P3', async () => {
    const ids: number[] = [];
    for (const severity of ['error', 'warning', 'info']) {
      const body = fixture('pagerduty-trigger');
      body.payload.severity = severity;
      body.dedup_key = `sev-${severity}`;
      ids.push((await post(body, 'pagerduty')).body.ids[0]);
    }
    expect(ids.map((id) => row(id).severity)).toEqual(['P1', 'P2', 'P3']);
  });

  it('acknowledge or resolve of an unknown key changes nothing and says why', async () => {
    const before = countAlerts();
    const ack = await post({ routing_key: 'x', event_action: 'acknowledge', dedup_key: 'never-seen' }, 'pagerduty');
    const res = await post({ routing_key: 'x', event_action: 'resolve', dedup_key: 'never-seen' }, 'pagerduty');
    expect(ack).toEqual({ status: 202, body: { ids: [], ignored: ['no open alert with dedup key "never-seen" to acknowledge'] } });
    expect(res).toEqual({ status: 202, body: { ids: [], ignored: ['no open alert with dedup key "never-seen" to resolve'] } });
    expect(countAlerts()).toBe(before);
  });
});

describe('job-scheduler hooks', () => {
  it('on_error fires, on_retries_exhausted fires at P1, on_success resolves the job alert', async () => {
    // The scheduler's payload names no hook: each hook's URL does (?event=).
    const err = await post(fixture('jobs-on-error'), 'jobs&event=on_error');
    expect(err.status).toBe(202);
    expect(row(err.body.ids[0])).toMatchObject({
      service: 'nightly-export',
      severity: 'P2',
      title: 'Job nightly-export failed (attempt 1)',
      status: 'firing',
      dedup_key: 'job:nightly-export',
      description: expect.stringContaining('timeout expired'),
    });
    expect(row(err.body.ids[0]).fields).toEqual(
      expect.arrayContaining([{ name: 'Exit code', value: '1' }, { name: 'Triggered by', value: 'cron' }, { name: 'Retry attempt', value: '0' }, { name: 'Retries exhausted', value: 'false' }]),
    );

    const ex = await post(fixture('jobs-on-retries-exhausted'), 'jobs&event=on_retries_exhausted');
    expect(ex.status).toBe(202);
    expect(row(ex.body.ids[0])).toMatchObject({ severity: 'P1', title: 'Job nightly-export failed: retries exhausted', dedup_key: 'job:nightly-export' });

    const ok = await post(fixture('jobs-on-success'), 'jobs&event=on_success');
    expect(ok.status).toBe(202);
    expect(newest('job:nightly-export')).toMatchObject({ status: 'resolved' });
  });

  it('takes the event from ?event= when the payload is fixed (one URL per hook); the body wins when it names one', async () => {
    const { event: _drop, ...payload } = { ...fixture('jobs-on-retries-exhausted'), name: 'url-hooked' };
    const res = await post(payload, 'jobs&event=on_retries_exhausted');
    expect(res.status).toBe(202);
    expect(row(res.body.ids[0])).toMatchObject({ severity: 'P1', dedup_key: 'job:url-hooked' });
    const withBody = await post({ ...payload, event: 'on_error' }, 'jobs&event=on_retries_exhausted');
    // Same job, same dedup key: folded into the open alert, which takes the on_error title (its severity only goes up).
    expect(withBody.body.ids).toEqual(res.body.ids);
    expect(row(withBody.body.ids[0])).toMatchObject({ severity: 'P1', title: expect.stringMatching(/failed \(attempt \d+\)$/), occurrences: 2 });
    const missing = await post(payload, 'jobs');
    expect(missing.status).toBe(400);
    expect(missing.body.problems.map((p: { path: string }) => p.path)).toContain('event');
  });

  it('on_success with no open alert for the job stores nothing', async () => {
    const before = countAlerts();
    const body = { ...fixture('jobs-on-success'), name: 'always-fine' };
    const res = await post(body, 'jobs&event=on_success');
    expect(res.status).toBe(202);
    expect(res.body.ids).toEqual([]);
    expect(res.body.ignored[0]).toMatch(/no open alert with dedup key "job:always-fine"/);
    expect(countAlerts()).toBe(before);
  });
});

describe('pipeline events', () => {
  it('maps each event', async () => {
    const created = row((await post(fixture('pipeline-job-created'), 'pipeline')).body.ids[0]);
    expect(created).toMatchObject({ service: 'listings', severity: 'P3', title: 'Job scrape berlin listings created' });

    const failed = row((await post(fixture('pipeline-status-failed'), 'pipeline')).body.ids[0]);
    expect(failed).toMatchObject({ severity: 'P1', status: 'firing', dedup_key: 'pipeline:job:4812', description: 'HTTP 503 from source after 5 retries' });
    const done = await post(fixture('pipeline-status-completed'), 'pipeline');
    expect(done.status).toBe(202);
    expect(newest('pipeline:job:4812')!.status).toBe('resolved');

    const scraper = row((await post(fixture('pipeline-scraper-completed'), 'pipeline')).body.ids[0]);
    expect(scraper).toMatchObject({ severity: 'P2', title: 'Scraper berlin completed with 3 errors' });
    expect(scraper.fields).toContainEqual({ name: 'Items', value: '1832' });

    const digest = row((await post(fixture('pipeline-daily-digest'), 'pipeline')).body.ids[0]);
    expect(digest).toMatchObject({ severity: 'P3', title: 'Daily digest 2026-11-24', description: '12 scrapes, 1 failure' });
    expect(digest.fields).toContainEqual({ name: 'items', value: '20311' });

    const error = row((await post(fixture('pipeline-error-alert'), 'pipeline')).body.ids[0]);
    expect(error).toMatchObject({ service: 'listings/fetcher', severity: 'P0', title: 'Proxy pool exhausted', description: 'ProxyError: no healthy proxy left (0/40)', dedup_key: 'pipeline:error:fetcher:Proxy pool exhausted' });
  });
});

describe('job status events', () => {
  it('job.failed fires; job.completed resolves; job.created and job.processing are accepted and ignored', async () => {
    const before = countAlerts();
    for (const e of ['created', 'processing']) {
      const res = await post(fixture(`jobstatus-${e}`), 'jobstatus');
      expect(res).toEqual({ status: 202, body: { ids: [], ignored: [`job.${e}: informational, no alert`] } });
    }
    expect(countAlerts()).toBe(before);

    const failed = row((await post(fixture('jobstatus-failed'), 'jobstatus')).body.ids[0]);
    expect(failed).toMatchObject({ service: 'billing', severity: 'P1', title: 'Job send-invoices failed', description: 'SMTPException: 421 too many connections', dedup_key: 'jobstatus:job_01JD8X' });
    expect((await post(fixture('jobstatus-completed'), 'jobstatus')).status).toBe(202);
    expect(newest('jobstatus:job_01JD8X')!.status).toBe('resolved');

    // Cancelled with nothing open: nothing to resolve.
    const cancelled = await post(fixture('jobstatus-cancelled'), 'jobstatus');
    expect(cancelled.body.ids).toEqual([]);
  });
});

describe('choosing the format', () => {
  it("uses the source's configured format unless ?format= says otherwise", async () => {
    const created = await stack.admin('POST', '/v1/admin/sources', { name: 'am-default', format: 'alertmanager' });
    expect(created.status).toBe(201);
    const am = created.body.token as string;
    expect((await stack.admin('GET', `/v1/admin/sources/${created.body.id}`)).body).toMatchObject({ format: 'alertmanager', secrets: [] });

    expect((await post(fixture('alertmanager-firing'), undefined, am)).status).toBe(202);
    // A native alert to the same source needs ?format=native.
    expect((await post(alert(1), undefined, am)).status).toBe(400);
    expect((await post(alert(1), 'native', am)).status).toBe(202);

    const patched = await stack.admin('PATCH', `/v1/admin/sources/${created.body.id}`, { format: 'pagerduty' });
    expect(patched.body.format).toBe('pagerduty');
    expect((await post(fixture('pagerduty-trigger'), undefined, am)).status).toBe(202);
    expect((await stack.admin('PATCH', `/v1/admin/sources/${created.body.id}`, { format: 'nagios' })).status).toBe(400);
  });

  it('takes application/json with a charset parameter', async () => {
    const res = await request(fixture('pagerduty-trigger'), 'pagerduty', token, { 'content-type': 'application/json; charset=utf-8' });
    expect(res.status).toBe(202);
  });

  it('400 for an unknown ?format=', async () => {
    const res = await post(alert(1), 'nagios');
    expect(res.status).toBe(400);
    expect(res.body.problems[0].path).toBe('querystring.format');
  });
});

describe('bad input: 400 with every problem and its path, nothing stored', () => {
  const cases: [string, string, unknown, string[]][] = [
    ['alertmanager: wrong version', 'alertmanager', { ...fixture('alertmanager-firing'), version: '3' }, ['version']],
    ['alertmanager: missing fields and bad alert', 'alertmanager', { version: '4', status: 'burning', alerts: [{ status: 'firing', labels: { alertname: 5 }, startsAt: 1 }] }, ['groupKey', 'status', 'receiver', 'alerts[0].labels.alertname', 'alerts[0].startsAt', 'alerts[0].fingerprint']],
    ['alertmanager: no alerts', 'alertmanager', { ...fixture('alertmanager-firing'), alerts: [] }, ['alerts']],
    ['pagerduty: unknown action', 'pagerduty', { ...fixture('pagerduty-trigger'), event_action: 'escalate' }, ['event_action']],
    ['pagerduty: trigger without payload fields', 'pagerduty', { event_action: 'trigger', routing_key: 'x', payload: { severity: 'urgent' } }, ['payload.summary', 'payload.source', 'payload.severity']],
    ['pagerduty: acknowledge without dedup_key', 'pagerduty', { event_action: 'acknowledge', routing_key: 'x' }, ['dedup_key']],
    ['jobs: unknown event, bad types', 'jobs', { event: 'on_start', name: '', status: 'failed', retry_attempt: -1, triggered: true, triggered_by_job_run: 'run_1' }, ['event', 'name', 'status', 'retry_attempt', 'triggered', 'triggered_by_job_run']],
    ['pipeline: unknown event', 'pipeline', { event: 'job_deleted', data: {} }, ['event']],
    ['pipeline: status_changed without new_status', 'pipeline', { event: 'status_changed', data: { job_id: 1 } }, ['data.new_status']],
    ['jobstatus: missing job id', 'jobstatus', { event: 'job.failed', job: { name: 'x' } }, ['job.id']],
    ['jobstatus: not an object', 'jobstatus', [1, 2], ['(body)']],
  ];
  for (const [name, format, body, paths] of cases) {
    it(name, async () => {
      const before = countAlerts();
      const res = await post(body, format);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      const got = res.body.problems.map((p: { path: string }) => p.path);
      for (const p of paths) expect(got).toContain(p);
      for (const p of res.body.problems) expect(typeof p.message).toBe('string');
      expect(JSON.stringify(res.body)).not.toMatch(/\bat .*\.ts:\d+/);
      expect(countAlerts()).toBe(before);
    });
  }

  it('a body that is not JSON is 400 for every format', async () => {
    for (const format of ['alertmanager', 'pagerduty', 'jobs', 'pipeline', 'jobstatus']) {
      const res = await post('{"version": ', format);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    }
  });
});
