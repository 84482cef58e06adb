import { alertInput, describeIssues, parseAlertsBody, type InputProblem } from '../alert.js';
import { PLAIN } from '../messages.js';
import { alertmanager } from './alertmanager.js';
import { jobs } from './jobs.js';
import { jobstatus } from './jobstatus.js';
import { pagerduty } from './pagerduty.js';
import { pipeline } from './pipeline.js';
import { NO_MAPPING, type SourceMapping } from './mapping.js';
import { conversion, type Adapter, type Conversion } from './types.js';

export const FORMATS = ['native', 'alertmanager', 'pagerduty', 'jobs', 'pipeline', 'jobstatus'] as const;
export type Format = (typeof FORMATS)[number];

const adapters: Record<Exclude<Format, 'native'>, Adapter> = { alertmanager, pagerduty, jobs, pipeline, jobstatus };

/**
 * Validates a hook body in the given format and converts it into native alerts. Every problem is
 * reported with its path in the sender's payload. The converted alerts are checked against the native
 * schema too (a safety net: adapters fit values into the native limits, so this should never report).
 */
export function convertBody(format: Format, data: unknown, mapping: SourceMapping = NO_MAPPING): { ok: true; conversion: Conversion } | { ok: false; problems: InputProblem[] } {
  if (format === 'native') {
    const parsed = parseAlertsBody(data);
    return parsed.ok ? { ok: true, conversion: conversion({ alerts: parsed.alerts.map((input) => ({ input })) }) } : parsed;
  }
  const adapter = adapters[format];
  const parsed = adapter.schema.safeParse(data, PLAIN);
  if (!parsed.success) return { ok: false, problems: describeIssues(parsed.error) };
  const c = adapter.convert(parsed.data, mapping);
  const problems: InputProblem[] = [];
  c.alerts.forEach((a, i) => {
    // The firing's start and the sender's group are the adapter's own additions, not native fields.
    const { firing_started_at: _start, sender_group: _group, ...native } = a.input;
    const check = alertInput.safeParse(native, PLAIN);
    if (!check.success) problems.push(...describeIssues(check.error).map((p) => ({ path: `(converted alert ${i}).${p.path}`, message: p.message })));
  });
  return problems.length ? { ok: false, problems } : { ok: true, conversion: c };
}

export type { Conversion } from './types.js';
export type { SourceMapping } from './mapping.js';
