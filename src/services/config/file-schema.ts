import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { parseDurationMs } from '../../domain/duration.js';
import { isTimeZone } from '../../domain/hours.js';
import { channelInput } from '../channels.js';
import { digestInput } from '../digest.js';
import { chainFields, stepFields, stepRules } from '../escalation.js';
import { heartbeatInput } from '../heartbeats.js';
import { muteFields } from '../mutes.js';
import { targetInput } from '../../outbound/service.js';
import { routeInput } from '../routes.js';
import { sourceInput } from '../sources.js';
import { webhookInput } from '../webhooks.js';

/**
 * The configuration file (HERALD_CONFIG, docs/config-file.md), built from the zod schemas the admin API
 * validates with: one copy of each rule. Where the API takes an id the file takes a name (`channel`,
 * `source`, `escalation`, `route`), resolved against the file itself (load.ts checks the references).
 * `npm run config:schema` writes the JSON Schema of this (schema/herald.schema.json) for editors.
 */

const name = (what: string) => z.string().trim().min(1).max(100).describe(`The ${what}'s name, as the file names it elsewhere`);

/** A webhook of a channel's pool: its URL (write it as a `${ENV}` reference: the URL holds the token), or the URL with its owner. */
const poolWebhook = z.union([webhookInput.shape.url, webhookInput]).describe('A webhook URL, e.g. "${OPS_WEBHOOK_1}" (the URL is a credential: keep it out of the file), or {url, owner}');

export const fileChannel = channelInput
  .pick({ name: true, discord_channel_id: true, default: true, kind: true })
  .extend({
    webhooks: z.array(poolWebhook).max(15).optional().describe("The channel's webhook pool (Discord allows 15 per channel); the file's list replaces the pool's file-managed members"),
  });

export const fileOutbound = targetInput.extend({
  secret: z
    .string()
    .optional()
    .describe('kind webhook: the whsec_<base64> signing secret its receiver verifies with, as a ${ENV} reference (required: Herald cannot show a secret it made from the file)'),
});

/**
 * A route: the API's fields, its channel and chain by name, its outbound targets inline. `name` (optional)
 * keeps its identity across edits; an unnamed route is known by its criteria. New route settings are one
 * line in `routeInput` (services/routes.ts) and appear here by themselves.
 */
export const fileRoute = routeInput
  .omit({ channel_id: true })
  .extend({
    name: name('route').optional(),
    channel: name('channel').describe('The channel matching alerts go to (a channel of this file)'),
    escalation: name('escalation chain').optional().describe('The escalation chain armed for alerts this route matches'),
    outbound: z.array(fileOutbound).max(20).optional().describe('Slack-compatible or signed generic webhooks that also get these alerts'),
  });

export const fileStep = stepFields
  .omit({ channel_id: true })
  .extend({ channel: name('channel').optional().describe('Channel steps: where to post. Mention steps: where (default: the channels the alert was routed to)') })
  .superRefine(stepRules('channel'));

export const fileChain = chainFields.extend({ steps: z.array(fileStep).max(20).default([]).describe('Steps, in order') });

export const fileHeartbeat = heartbeatInput.omit({ source_id: true }).extend({ source: name('source').describe('The source that beats (a source of this file)') });

export const fileDigest = digestInput.extend({ channel: name('channel').describe('The channel the daily digest is posted in') });

const duration = z
  .string()
  .trim()
  .refine((d) => (parseDurationMs(d) ?? 0) > 0, 'a duration such as "30m", "2h" or "1d"')
  .describe('How long, e.g. "30m", "2h", "1d"');
const instant = z.iso.datetime({ offset: true }).describe('A date and time with its offset, e.g. "2026-12-24T22:00:00Z"');

/**
 * A maintenance window: a mute (one target, as the API's mutes) in force between `start` and `end`, or for
 * `duration` from each time `cron` fires (in `timezone`, default UTC).
 */
export const fileMaintenance = muteFields
  .pick({ service: true, dedup_key: true, reason: true })
  .extend({
    name: name('maintenance window'),
    route: name('route').optional().describe('Silence one named route of this file'),
    source: name('source').optional().describe("With dedup_key: only this source's alerts"),
    start: instant.optional().describe('One-off window: when it starts'),
    end: instant.optional().describe('One-off window: when it ends'),
    cron: z.string().trim().min(1).max(100).optional().describe('Recurring window: when each occurrence starts, a cron expression (minute hour day month weekday), e.g. "0 2 * * sun"'),
    duration: duration.optional().describe('Recurring window: how long each occurrence lasts (at most 31 days)'),
    timezone: z.string().refine(isTimeZone, 'an IANA time zone, e.g. Europe/Paris').optional().describe('Recurring window: the time zone of `cron` (default UTC)'),
  })
  .superRefine((w, ctx) => {
    const targets = [w.service, w.route, w.dedup_key].filter((v) => v !== undefined).length;
    if (targets !== 1) ctx.addIssue({ code: 'custom', path: ['service'], message: 'give exactly one of service, route, dedup_key' });
    if (w.source !== undefined && w.dedup_key === undefined) ctx.addIssue({ code: 'custom', path: ['source'], message: 'source narrows a dedup_key window; give it only with dedup_key' });
    const oneOff = w.start !== undefined || w.end !== undefined;
    const recurring = w.cron !== undefined || w.duration !== undefined;
    if (oneOff === recurring) {
      ctx.addIssue({ code: 'custom', path: ['start'], message: 'a window is either one-off (start and end) or recurring (cron and duration)' });
      return;
    }
    if (oneOff) {
      if (w.start === undefined || w.end === undefined) ctx.addIssue({ code: 'custom', path: [w.start === undefined ? 'start' : 'end'], message: 'a one-off window needs start and end' });
      else if (Date.parse(w.end) <= Date.parse(w.start)) ctx.addIssue({ code: 'custom', path: ['end'], message: 'end must be after start' });
      if (w.timezone !== undefined) ctx.addIssue({ code: 'custom', path: ['timezone'], message: 'timezone is for cron; start and end carry their own offset' });
      return;
    }
    if (w.cron === undefined || w.duration === undefined) {
      ctx.addIssue({ code: 'custom', path: [w.cron === undefined ? 'cron' : 'duration'], message: 'a recurring window needs cron and duration' });
      return;
    }
    if (!validCron(w.cron)) ctx.addIssue({ code: 'custom', path: ['cron'], message: `"${w.cron}" is not a cron expression (minute hour day month weekday), e.g. "0 2 * * sun"` });
    if ((parseDurationMs(w.duration) ?? 0) > MAX_WINDOW_MS) ctx.addIssue({ code: 'custom', path: ['duration'], message: 'a window lasts at most 31 days' });
  });

export const MAX_WINDOW_MS = 31 * 86_400_000;

/** Five fields (no seconds: nothing in Herald is finer than a minute). */
export function validCron(expr: string): boolean {
  if (expr.trim().split(/\s+/).length !== 5) return false;
  try {
    CronExpressionParser.parse(expr, { tz: 'UTC' });
    return true;
  } catch {
    return false;
  }
}

export const configFile = z
  .strictObject({
    version: z.literal(1).optional().describe('The file format version (1)'),
    channels: z.array(fileChannel).default([]).describe('Discord channels alerts go to, each with its webhook pool'),
    routes: z.array(fileRoute).default([]).describe('Which alerts go to which channel (every matching route; else the default channel)'),
    escalations: z.array(fileChain).default([]).describe('Escalation chains, armed by routes (`escalation: <name>`)'),
    sources: z.array(sourceInput).default([]).describe('Senders of alerts; their tokens are never in the file (POST /v1/admin/sources/{id}/token issues one)'),
    heartbeats: z.array(fileHeartbeat).default([]).describe("Dead man's switches of the file's sources"),
    maintenance: z.array(fileMaintenance).default([]).describe('Maintenance windows: mutes with a start and an end, or recurring'),
    digests: z.array(fileDigest).default([]).describe("Channels' daily digests"),
  })
  .describe('Herald configuration file (docs/config-file.md)');

export type ConfigFile = z.output<typeof configFile>;
export type FileChannel = ConfigFile['channels'][number];
export type FileRoute = ConfigFile['routes'][number];
export type FileChain = ConfigFile['escalations'][number];
export type FileSource = ConfigFile['sources'][number];
export type FileHeartbeat = ConfigFile['heartbeats'][number];
export type FileMaintenance = ConfigFile['maintenance'][number];
export type FileDigest = ConfigFile['digests'][number];
export type FileOutbound = NonNullable<FileRoute['outbound']>[number];

/** The JSON Schema of the file (what editors validate and complete), as `npm run config:schema` commits it. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configFile, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });
  return { ...schema, title: 'Herald configuration file' };
}
