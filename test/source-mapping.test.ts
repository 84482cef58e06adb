import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertBody } from '../src/domain/adapters/index.js';
import { mappedSeverity, type SourceMapping } from '../src/domain/adapters/mapping.js';
import { startStack, type Stack } from './support/stack.js';

/** One Alertmanager alert in a webhook v4 payload. */
function amPayload(labels: Record<string, string>, over: Record<string, unknown> = {}) {
  return {
    version: '4',
    groupKey: '{}:{alertname="X"}',
    status: 'firing',
    receiver: 'herald-receiver',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://am.example.com',
    alerts: [{ status: 'firing', labels: { alertname: 'QueueBacklog', ...labels }, annotations: { summary: 'backlog' }, startsAt: '2026-11-24T20:58:30Z', fingerprint: 'fp-1', ...over }],
  };
}

function converted(format: Parameters<typeof convertBody>[0], body: unknown, mapping?: SourceMapping) {
  const r = convertBody(format, body, mapping);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.conversion.alerts.map((a) => a.input);
}

describe('adapters with a source mapping (pure)', () => {
  it('Alertmanager: another severity label, own words first, own default; service from the listed labels, then the receiver', () => {
    const mapping: SourceMapping = { severity_label: 'priority', severity_words: { sev1: 'P1', urgent: 'P0' }, default_severity: 'P3', service_labels: ['team', 'service'] };
    // sev1 is P0 in the built-in words: the source's own word wins.
    expect(converted('alertmanager', amPayload({ priority: 'SEV1 ', team: 'payments', service: 'checkout' }), mapping)[0]).toMatchObject({ severity: 'P1', service: 'payments' });
    expect(converted('alertmanager', amPayload({ priority: 'urgent' }), mapping)[0]).toMatchObject({ severity: 'P0', service: 'herald-receiver' });
    // Built-in words still apply to the mapped label; the `severity` label is no longer read.
    expect(converted('alertmanager', amPayload({ priority: 'warning', severity: 'critical', service: 'checkout' }), mapping)[0]).toMatchObject({ severity: 'P2', service: 'checkout' });
    // Missing or unknown → the source's default, not P2.
    expect(converted('alertmanager', amPayload({ severity: 'critical' }), mapping)[0]!.severity).toBe('P3');
    expect(converted('alertmanager', amPayload({ priority: 'constructor' }), mapping)[0]!.severity).toBe('P3');
    // service_labels replaces the built-in list: `job` is not tried.
    expect(converted('alertmanager', amPayload({ job: 'node' }), mapping)[0]!.service).toBe('herald-receiver');
  });

  it('Alertmanager without a mapping keeps the built-in tables', () => {
    expect(converted('alertmanager', amPayload({ severity: 'sev1', job: 'node', priority: 'P3' }))[0]).toMatchObject({ severity: 'P0', service: 'node' });
    expect(converted('alertmanager', amPayload({ team: 'x' }), {})[0]).toMatchObject({ severity: 'P2', service: 'herald-receiver' });
  });

  it('PagerDuty: words re-map its four severities; service_labels pick among source, component, group, class', () => {
    const trigger = (severity: string) => ({ event_action: 'trigger', payload: { summary: 's', source: 'host-1', severity, component: 'db', group: 'payments', class: 'disk' } });
    expect(converted('pagerduty', trigger('warning'))[0]).toMatchObject({ severity: 'P2', service: 'payments' });
    const mapping: SourceMapping = { severity_words: { warning: 'P3', error: 'P0' }, service_labels: ['class', 'component'] };
    expect(converted('pagerduty', trigger('warning'), mapping)[0]).toMatchObject({ severity: 'P3', service: 'disk' });
    expect(converted('pagerduty', trigger('error'), mapping)[0]!.severity).toBe('P0');
    expect(converted('pagerduty', trigger('critical'), mapping)[0]!.severity).toBe('P0');
    // None of the listed fields set → payload.source.
    const bare = { event_action: 'trigger', payload: { summary: 's', source: 'host-1', severity: 'info' } };
    expect(converted('pagerduty', bare, mapping)[0]).toMatchObject({ severity: 'P3', service: 'host-1' });
  });

  it("the pipeline's error_alert: own words and default", () => {
    const body = (severity?: string) => ({ event: 'error_alert', data: { message: 'boom', ...(severity ? { severity } : {}) } });
    expect(converted('pipeline', body())[0]!.severity).toBe('P1');
    expect(converted('pipeline', body(), { default_severity: 'P2' })[0]!.severity).toBe('P2');
    expect(converted('pipeline', body('Blocker'), { severity_words: { blocker: 'P0' } })[0]!.severity).toBe('P0');
  });

  it('mappedSeverity: own words, then built-in, then own default, then the fallback; prototype keys are no words', () => {
    const builtIn = (w: string) => (w === 'critical' ? 'P0' : undefined);
    expect(mappedSeverity(' Critical', {}, builtIn, 'P2')).toBe('P0');
    expect(mappedSeverity('critical', { severity_words: { critical: 'P1' } }, builtIn, 'P2')).toBe('P1');
    expect(mappedSeverity('toString', { severity_words: {} }, builtIn, 'P2')).toBe('P2');
    expect(mappedSeverity(undefined, { default_severity: 'P3' }, builtIn, 'P2')).toBe('P3');
    expect(mappedSeverity('', {}, builtIn, 'P1')).toBe('P1');
  });
});

describe('a source with a mapping, end to end', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('is set on create, validated with clear 400s, shown in the source view, changed and cleared with PATCH', async () => {
    const bad = await stack.admin('POST', '/v1/admin/sources', {
      name: 'am-bad',
      mapping: { severity_words: { sev1: 'P9', Sev2: 'P1', SEV2: 'P2' }, service_labels: [], colour: 'red' },
    });
    expect(bad.status).toBe(400);
    const problems = bad.body.problems as { path: string; message: string }[];
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: 'mapping.colour', message: 'unknown field' },
        { path: 'mapping.severity_words.sev1', message: 'must be one of P0, P1, P2, P3' },
        expect.objectContaining({ path: 'mapping.service_labels', message: expect.stringMatching(/at least one label/) }),
      ]),
    );
    const dupes = await stack.admin('POST', '/v1/admin/sources', { name: 'am-dupes', mapping: { severity_words: { Sev2: 'P1', SEV2: 'P2' } } });
    expect(dupes.status).toBe(400);
    expect(dupes.body.problems[0]).toMatchObject({ path: 'mapping.severity_words', message: expect.stringMatching(/case-insensitively/) });
    expect((await stack.admin('POST', '/v1/admin/sources', { name: 'am-x', mapping: { default_severity: 'high' } })).body.problems[0]).toMatchObject({ path: 'mapping.default_severity' });

    const created = await stack.admin('POST', '/v1/admin/sources', {
      name: 'am-mapped',
      format: 'alertmanager',
      mapping: { severity_label: 'priority', severity_words: { ' SEV1': 'P1' }, service_labels: ['team'] },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as number;
    const view = (await stack.admin('GET', `/v1/admin/sources/${id}`)).body;
    // Words are shown as they are compared: lower-case, trimmed.
    expect(view.mapping).toEqual({ severity_label: 'priority', severity_words: { sev1: 'P1' }, service_labels: ['team'] });

    const patched = await stack.admin('PATCH', `/v1/admin/sources/${id}`, { mapping: { default_severity: 'P3' } });
    expect(patched.status).toBe(200);
    // A mapping replaces the whole of the old one.
    expect(patched.body.mapping).toEqual({ default_severity: 'P3' });
    expect((await stack.admin('PATCH', `/v1/admin/sources/${id}`, { mapping: { service_labels: ['a'.repeat(129)] } })).status).toBe(400);
    const cleared = await stack.admin('PATCH', `/v1/admin/sources/${id}`, { mapping: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body).not.toHaveProperty('mapping');
    // An empty mapping says nothing: none is stored.
    expect((await stack.admin('PATCH', `/v1/admin/sources/${id}`, { mapping: {} })).body).not.toHaveProperty('mapping');
    const plain = (await stack.admin('GET', `/v1/admin/sources/${(await stack.admin('POST', '/v1/admin/sources', { name: 'plain' })).body.id}`)).body;
    expect(plain).not.toHaveProperty('mapping');
  });

  it('an Alertmanager payload with priority "sev1" becomes P1, its service from the team label; a PATCH applies at once', async () => {
    const created = await stack.admin('POST', '/v1/admin/sources', {
      name: 'am-team',
      format: 'alertmanager',
      mapping: { severity_label: 'priority', severity_words: { sev1: 'P1' }, service_labels: ['team'] },
    });
    const token = created.body.token as string;
    const res = await stack.post(token, amPayload({ priority: 'sev1', team: 'payments', service: 'checkout', severity: 'critical' }));
    expect(res.status).toBe(202);
    const a = (await stack.admin('GET', `/v1/admin/alerts/${res.body.ids[0]}`)).body;
    expect(a).toMatchObject({ severity: 'P1', service: 'payments', labels: expect.objectContaining({ priority: 'sev1', team: 'payments' }) });

    // The hook reads the source's settings from the cache the PATCH refreshed: the next alert follows the new mapping.
    await stack.admin('PATCH', `/v1/admin/sources/${created.body.id}`, { mapping: null });
    const again = await stack.post(token, amPayload({ priority: 'sev1', team: 'payments', service: 'checkout', severity: 'critical' }, { fingerprint: 'fp-2' }));
    expect((await stack.admin('GET', `/v1/admin/alerts/${again.body.ids[0]}`)).body).toMatchObject({ severity: 'P0', service: 'checkout' });
  });
});
