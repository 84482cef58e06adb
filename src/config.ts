import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import cron from 'node-cron';
import { closest, distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { isDiscordId } from './discord/ids.js';
import { parseAllowlist, type OutboundAllowlist } from './outbound/address-policy.js';
import { isLoopbackAddress } from './loopback.js';

/**
 * Herald's whole configuration, read once from the environment (and `.env`, loaded by main).
 * Every variable is documented in `.env.example` and docs/configuration.md; keep the three in step.
 */
const DISCORD_DEFAULT_API = 'https://discord.com/api';

const int = (name: string, def: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return def;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a whole number from ${min} to ${max} (got "${v}")` });
        return z.NEVER;
      }
      return n;
    });

/** One Discord id (17 to 20 digits), or unset. */
const snowflakeVar = (name: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const t = v?.trim();
      if (!t) return undefined;
      if (!isDiscordId(t)) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a Discord id (17 to 20 digits; got "${v}")` });
        return z.NEVER;
      }
      return t;
    });

/** Comma-separated Discord ids (spaces allowed), or unset: an empty list. */
const snowflakeList = (name: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const parts = (v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
      const bad = parts.filter((s) => !isDiscordId(s));
      if (bad.length) {
        ctx.addIssue({
          code: 'custom',
          message: `${name} must be comma-separated Discord role ids (17 to 20 digits each; not: ${bad.map((b) => `"${b}"`).join(', ')})`,
        });
        return z.NEVER;
      }
      return [...new Set(parts)];
    });

/**
 * Why an admin token is unfit, or undefined. Obviously weak tokens (one character repeated, a short
 * alphabet such as a word or a date) are refused: the admin API can route, mute and retract everything.
 */
function adminTokenProblem(token: string): string | undefined {
  if (token.length < 16) return 'HERALD_ADMIN_TOKEN must be at least 16 characters';
  const distinct = new Set(token).size;
  if (distinct < 10) {
    return `HERALD_ADMIN_TOKEN is too weak: it has only ${distinct} different character${distinct === 1 ? '' : 's'} (at least 10 are needed); use a random string, e.g. from openssl rand -base64 32`;
  }
  return undefined;
}

const envSchema = z.object({
  HERALD_HOST: z.string().min(1).default('127.0.0.1'),
  HERALD_PORT: int('HERALD_PORT', 8080, 0, 65535),
  HERALD_DB: z.string().min(1).default('./data/herald.db'),
  HERALD_ADMIN_TOKEN: z
    .string()
    .optional()
    .superRefine((v, ctx) => {
      const problem = v ? adminTokenProblem(v) : undefined;
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  HERALD_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // auto: readable lines (pino-pretty) when stdout is a terminal, JSON otherwise (a supervisor, a pipe, a file).
  HERALD_LOG_FORMAT: z.enum(['auto', 'json', 'pretty'], { message: 'HERALD_LOG_FORMAT must be auto, json or pretty' }).default('auto'),
  HERALD_BODY_LIMIT: int('HERALD_BODY_LIMIT', 1_048_576, 1024, 64 * 1_048_576),
  HERALD_DB_SYNC: z.enum(['full', 'normal']).default('full'),
  HERALD_CHANNEL_CAP: int('HERALD_CHANNEL_CAP', 30, 1, 10_000),
  HERALD_CHANNEL_WINDOW_MS: int('HERALD_CHANNEL_WINDOW_MS', 60_000, 100, 3_600_000),
  HERALD_PRIORITY_RESERVE: int('HERALD_PRIORITY_RESERVE', 2, 0, 1000),
  HERALD_THREAD_POSTS_COUNT_AGAINST_CHANNEL: z
    .enum(['true', 'false'], { message: 'HERALD_THREAD_POSTS_COUNT_AGAINST_CHANNEL must be true or false' })
    .default('true')
    .transform((v) => v === 'true'),
  HERALD_AGING_MS: int('HERALD_AGING_MS', 60_000, 0, 86_400_000),
  HERALD_STORM_HORIZON_MS: int('HERALD_STORM_HORIZON_MS', 10_000, 0, 600_000),
  HERALD_STORM_SUMMARY_EDIT_MS: int('HERALD_STORM_SUMMARY_EDIT_MS', 2000, 100, 600_000),
  HERALD_STORM_GATHER_MS: int('HERALD_STORM_GATHER_MS', 1000, 0, 60_000),
  HERALD_REQUEST_TIMEOUT_MS: int('HERALD_REQUEST_TIMEOUT_MS', 10_000, 100, 120_000),
  HERALD_MAX_ATTEMPTS: int('HERALD_MAX_ATTEMPTS', 8, 1, 100),
  HERALD_MAX_AGE_MS: int('HERALD_MAX_AGE_MS', 86_400_000, 1000, 30 * 86_400_000),
  HERALD_RETRY_BASE_MS: int('HERALD_RETRY_BASE_MS', 1000, 10, 600_000),
  HERALD_BREAKER_THRESHOLD: int('HERALD_BREAKER_THRESHOLD', 5, 1, 1000),
  HERALD_BREAKER_COOLDOWN_MS: int('HERALD_BREAKER_COOLDOWN_MS', 30_000, 100, 3_600_000),
  HERALD_USERNAME: z
    .string()
    .default('Herald')
    .refine((v) => v.length >= 1 && v.length <= 80, 'HERALD_USERNAME must be 1 to 80 characters')
    .refine((v) => !/discord|clyde/i.test(v), 'HERALD_USERNAME may not contain "discord" or "clyde" (Discord rejects it)'),
  HERALD_DIGEST_TIME: z
    .string()
    .default('09:00')
    .refine((v) => /^([01]\d|2[0-3]):[0-5]\d$/.test(v), 'HERALD_DIGEST_TIME must be a time as HH:MM (24 h), e.g. 09:00'),
  HERALD_DIGEST_TIMEZONE: z
    .string()
    .default('UTC')
    .refine((v) => {
      try {
        new Intl.DateTimeFormat('en-GB', { timeZone: v });
        return true;
      } catch {
        return false;
      }
    }, 'HERALD_DIGEST_TIMEZONE must be an IANA time zone, e.g. Europe/Paris or UTC'),
  HERALD_ESCALATION_POLL_MS: int('HERALD_ESCALATION_POLL_MS', 5000, 10, 600_000),
  HERALD_HEARTBEAT_POLL_MS: int('HERALD_HEARTBEAT_POLL_MS', 5000, 10, 600_000),
  HERALD_AUTO_RESOLVE_SWEEP_MS: int('HERALD_AUTO_RESOLVE_SWEEP_MS', 60_000, 10, 86_400_000),
  HERALD_REOPEN_WINDOW_MS: int('HERALD_REOPEN_WINDOW_MS', 3_600_000, 0, 30 * 86_400_000),
  HERALD_READY_MAX_WAIT_MS: int('HERALD_READY_MAX_WAIT_MS', 300_000, 1000, 7 * 86_400_000),
  HERALD_EMULATOR_PORT: int('HERALD_EMULATOR_PORT', 8081, 0, 65535),
  // Retention (jobs/retention.ts). At least 1 day: the daily digest reads the last 24 hours.
  HERALD_RETENTION_DAYS: int('HERALD_RETENTION_DAYS', 30, 1, 3650),
  HERALD_RETENTION_CRON: z
    .string()
    .default('30 3 * * *')
    .refine((v) => cron.validate(v), 'HERALD_RETENTION_CRON must be a cron expression such as "30 3 * * *" (minute hour day month weekday)'),
  HERALD_EMULATOR: z.enum(['', '0', '1'], { message: 'HERALD_EMULATOR must be 1 (run the built-in emulator on a non-loopback HERALD_HOST on purpose) or unset' }).optional(),
  DISCORD_API_URL: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === '' || /^https?:\/\/[^/]+/.test(v), 'DISCORD_API_URL must be an http(s) URL such as https://discord.com/api'),
  DISCORD_TOKEN: z.string().optional(),
  DISCORD_APPLICATION_ID: snowflakeVar('DISCORD_APPLICATION_ID'),
  DISCORD_GUILD_ID: snowflakeVar('DISCORD_GUILD_ID'),
  HERALD_ADMIN_ROLE_IDS: snowflakeList('HERALD_ADMIN_ROLE_IDS'),
  HERALD_ONCALL_ROLE_IDS: snowflakeList('HERALD_ONCALL_ROLE_IDS'),
  // Outbound targets may reach only public addresses, except the hosts, addresses and ranges listed here.
  HERALD_OUTBOUND_ALLOWLIST: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const r = parseAllowlist(v);
      if (r.ok) return r.allowlist;
      ctx.addIssue({
        code: 'custom',
        message: `HERALD_OUTBOUND_ALLOWLIST must be comma-separated host names, IP addresses or CIDR ranges (not: ${r.bad.map((b) => `"${b}"`).join(', ')})`,
      });
      return z.NEVER;
    }),
  // Requests refused for a wrong token (admin API, alert hook) per client address, before it gets 429s.
  HERALD_AUTH_FAILURE_LIMIT: int('HERALD_AUTH_FAILURE_LIMIT', 20, 1, 1_000_000),
  HERALD_AUTH_FAILURE_WINDOW_MS: int('HERALD_AUTH_FAILURE_WINDOW_MS', 60_000, 1000, 86_400_000),
  // The configuration file (docs/config-file.md); unset: herald.yaml in the working directory, when there is one.
  HERALD_CONFIG: z.string().optional(),
});

export interface Config {
  host: string;
  port: number;
  dbPath: string;
  /** Undefined only in emulator mode, where main generates one for the local demo. */
  adminToken: string | undefined;
  logLevel: string;
  /** How log lines are written: JSON, readable lines, or `auto` (readable on a terminal); main resolves `auto`. */
  logFormat: 'auto' | 'json' | 'pretty';
  bodyLimit: number;
  dbSync: 'full' | 'normal';
  /** The longest the escalation runner sleeps: how soon an acknowledgement or resolve is noticed at the latest. */
  escalationPollMs: number;
  /** The longest the heartbeat runner sleeps: a missed heartbeat is raised at most this late. */
  heartbeatPollMs: number;
  /** How often firing alerts are checked against their route's or source's auto_resolve_after. */
  autoResolveSweepMs: number;
  /** Defaults for a channel's daily digest (each channel may set its own). */
  digest: { time: string; timezone: string };
  /** A resolved alert firing again (same source and dedup key) within this many ms reopens its card; 0: never. */
  reopenWindowMs: number;
  /** Exceptions to the outbound targets' public-addresses-only rule (HERALD_OUTBOUND_ALLOWLIST). */
  outboundAllowlist: OutboundAllowlist;
  /**
   * What the retention job keeps: resolved and retracted alerts (with everything about them) and admin
   * events for `days`, idempotency keys for 24 h. Runs at `cron`, in the digest time zone.
   */
  retention: { days: number; cron: string; timezone: string };
  /** After `limit` requests with a wrong token within `windowMs`, a client address gets 429 until the window ends. */
  authFailures: { limit: number; windowMs: number };
  /** /readyz reports a channel whose oldest due delivery has waited longer than this. */
  readyMaxWaitMs: number;
  /** The configuration file (HERALD_CONFIG, else ./herald.yaml when present), applied at start, on SIGHUP and on POST /v1/admin/config/reload; undefined: none. */
  configFile: string | undefined;
  discord: {
    /** Base such as https://discord.com/api (no version); requests go to `${apiUrl}/v10/...`. */
    apiUrl: string;
    token: string | undefined;
    /** True when neither DISCORD_API_URL nor DISCORD_TOKEN is set: main starts the built-in emulator. */
    emulated: boolean;
    emulatorPort: number;
    /** The bot's application id; learnt from the gateway (READY) when unset. */
    applicationId: string | undefined;
    /**
     * The one server the bot acts for (required with a bot token): interactions from any other server, or
     * from DMs, change nothing. Commands are registered there.
     */
    guildId: string | undefined;
    /** Roles whose members may use configuration commands (as well as anyone with Manage Server). */
    adminRoleIds: string[];
    /** Roles whose members may acknowledge, resolve and mute (commands and buttons), as well as anyone with Manage Server; empty: Manage Server only. */
    oncallRoleIds: string[];
  };
  delivery: {
    channelCap: number;
    channelWindowMs: number;
    priorityReserve: number;
    /**
     * Whether a webhook message posted into a thread uses a slot of the parent channel's hidden cap (Discord does
     * not document it: true, the cautious default). False: each thread is budgeted as a channel of its own.
     */
    threadPostsCountAgainstChannel: boolean;
    agingMs: number;
    /** Storm mode: a backlog that cannot be posted (as packed cards) within this long makes a storm; 0: never. */
    stormHorizonMs: number;
    /** The storm's summary card is edited at most this often while the storm goes on. */
    stormSummaryEditMs: number;
    /** In a storm, a compact message with room for more lines waits this long for them (once); 0: never waits. */
    stormGatherMs: number;
    requestTimeoutMs: number;
    maxAttempts: number;
    maxAgeMs: number;
    retryBaseMs: number;
    breakerThreshold: number;
    breakerCooldownMs: number;
    username: string;
  };
}

/**
 * HERALD_* names that are not Herald's settings but are read elsewhere, so their presence is no typo:
 * the CLI's (HERALD_URL, HERALD_SOURCE_TOKEN: docs/cli.md), what emulator mode writes to demo.env for a shell
 * to source, and HERALD_CONFIG (the configuration file).
 */
const OTHER_HERALD_VARIABLES = ['HERALD_URL', 'HERALD_SOURCE_TOKEN', 'HERALD_DEMO_SOURCE_TOKEN', 'HERALD_DEMO_CHANNEL', 'HERALD_EMULATOR_URL', 'HERALD_CONFIG'];

/** Every HERALD_* name Herald or its tools read. */
export const KNOWN_HERALD_VARIABLES: readonly string[] = [...Object.keys(envSchema.shape).filter((k) => k.startsWith('HERALD_')), ...OTHER_HERALD_VARIABLES];

/**
 * One warning per HERALD_* variable set in `env` that Herald does not know (most often a typo such as
 * HERALD_PROT, which would otherwise be ignored without a word), with the closest known name when one is close.
 */
export function unknownVariableWarnings(env: NodeJS.ProcessEnv = process.env): string[] {
  const known = new Set(KNOWN_HERALD_VARIABLES);
  return Object.keys(env)
    .filter((name) => name.startsWith('HERALD_') && !known.has(name))
    .sort()
    .map((name) => {
      const near = closest(name, KNOWN_HERALD_VARIABLES as string[]);
      // Within a few edits (a swapped or missing letter or two): a suggestion; beyond, a guess would mislead.
      const hint = distance(name, near) <= Math.max(2, Math.floor(near.length / 5)) ? `; did you mean ${near}?` : '';
      return `${name} is set but is not a Herald variable, so it is ignored${hint} (every variable: docs/configuration.md)`;
    });
}

export type ConfigResult = { ok: true; config: Config } | { ok: false, problems: string[] };

/** Parses the environment; on failure returns one plain sentence per problem, never a stack trace. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ConfigResult {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => {
        const name = String(i.path[0] ?? 'environment');
        return i.message.includes(name) ? i.message : `${name}: ${i.message}`;
      }),
    };
  }
  const e = parsed.data;
  const apiUrl = (e.DISCORD_API_URL || DISCORD_DEFAULT_API).replace(/\/+$/, '');
  const token = e.DISCORD_TOKEN || undefined;
  const emulated = !e.DISCORD_API_URL && !token;
  const problems: string[] = [];
  if (!emulated && !e.HERALD_ADMIN_TOKEN) {
    problems.push('HERALD_ADMIN_TOKEN is required when Discord is configured (set a random string of 16+ characters, at least 10 different ones)');
  }
  // Emulator mode is a local demo: its admin token is written to demo.env and nothing reaches Discord.
  // On an address others can reach, it is far more likely a forgotten DISCORD_TOKEN than a wish.
  if (emulated && !isLoopbackAddress(e.HERALD_HOST) && e.HERALD_EMULATOR !== '1') {
    problems.push(
      `Discord is not configured (no DISCORD_TOKEN or DISCORD_API_URL), so Herald would run its built-in emulator on ${e.HERALD_HOST}, which is not a loopback address; ` +
        'configure Discord, or set HERALD_EMULATOR=1 to run the emulator there on purpose',
    );
  }
  if (token && !e.DISCORD_GUILD_ID) {
    // A bot invited to a second server would otherwise take /ack, /retract and /mute from there too.
    problems.push("DISCORD_GUILD_ID is required with DISCORD_TOKEN: the id of the one server Herald's bot acts for (in Discord with Developer Mode on: right-click the server → Copy Server ID)");
  }
  if (e.HERALD_PRIORITY_RESERVE >= e.HERALD_CHANNEL_CAP) {
    problems.push(`HERALD_PRIORITY_RESERVE (${e.HERALD_PRIORITY_RESERVE}) must be below HERALD_CHANNEL_CAP (${e.HERALD_CHANNEL_CAP})`);
  }
  if (e.HERALD_RETENTION_DAYS * 86_400_000 < e.HERALD_REOPEN_WINDOW_MS) {
    // A resolved alert can reopen until its window ends: deleting it sooner would post a second card.
    problems.push(`HERALD_RETENTION_DAYS (${e.HERALD_RETENTION_DAYS}) must cover HERALD_REOPEN_WINDOW_MS (${e.HERALD_REOPEN_WINDOW_MS} ms)`);
  }
  const configFile = configFilePath(e.HERALD_CONFIG, problems);
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    config: {
      host: e.HERALD_HOST,
      port: e.HERALD_PORT,
      dbPath: e.HERALD_DB,
      adminToken: e.HERALD_ADMIN_TOKEN || undefined,
      logLevel: e.HERALD_LOG_LEVEL,
      logFormat: e.HERALD_LOG_FORMAT,
      bodyLimit: e.HERALD_BODY_LIMIT,
      dbSync: e.HERALD_DB_SYNC,
      escalationPollMs: e.HERALD_ESCALATION_POLL_MS,
      heartbeatPollMs: e.HERALD_HEARTBEAT_POLL_MS,
      autoResolveSweepMs: e.HERALD_AUTO_RESOLVE_SWEEP_MS,
      digest: { time: e.HERALD_DIGEST_TIME, timezone: e.HERALD_DIGEST_TIMEZONE },
      reopenWindowMs: e.HERALD_REOPEN_WINDOW_MS,
      outboundAllowlist: e.HERALD_OUTBOUND_ALLOWLIST,
      retention: { days: e.HERALD_RETENTION_DAYS, cron: e.HERALD_RETENTION_CRON, timezone: e.HERALD_DIGEST_TIMEZONE },
      authFailures: { limit: e.HERALD_AUTH_FAILURE_LIMIT, windowMs: e.HERALD_AUTH_FAILURE_WINDOW_MS },
      readyMaxWaitMs: e.HERALD_READY_MAX_WAIT_MS,
      configFile,
      discord: {
        apiUrl,
        token,
        emulated,
        emulatorPort: e.HERALD_EMULATOR_PORT,
        applicationId: e.DISCORD_APPLICATION_ID,
        guildId: e.DISCORD_GUILD_ID,
        adminRoleIds: e.HERALD_ADMIN_ROLE_IDS,
        oncallRoleIds: e.HERALD_ONCALL_ROLE_IDS,
      },
      delivery: {
        channelCap: e.HERALD_CHANNEL_CAP,
        channelWindowMs: e.HERALD_CHANNEL_WINDOW_MS,
        priorityReserve: e.HERALD_PRIORITY_RESERVE,
        threadPostsCountAgainstChannel: e.HERALD_THREAD_POSTS_COUNT_AGAINST_CHANNEL,
        agingMs: e.HERALD_AGING_MS,
        stormHorizonMs: e.HERALD_STORM_HORIZON_MS,
        stormSummaryEditMs: e.HERALD_STORM_SUMMARY_EDIT_MS,
        stormGatherMs: e.HERALD_STORM_GATHER_MS,
        requestTimeoutMs: e.HERALD_REQUEST_TIMEOUT_MS,
        maxAttempts: e.HERALD_MAX_ATTEMPTS,
        maxAgeMs: e.HERALD_MAX_AGE_MS,
        retryBaseMs: e.HERALD_RETRY_BASE_MS,
        breakerThreshold: e.HERALD_BREAKER_THRESHOLD,
        breakerCooldownMs: e.HERALD_BREAKER_COOLDOWN_MS,
        username: e.HERALD_USERNAME,
      },
    },
  };
}

/** HERALD_CONFIG (which must name a file), else herald.yaml in the working directory when there is one. */
function configFilePath(raw: string | undefined, problems: string[]): string | undefined {
  const given = raw?.trim();
  if (given) {
    const path = resolve(given);
    if (!existsSync(path) || !statSync(path).isFile()) problems.push(`HERALD_CONFIG: no configuration file at ${path}`);
    return path;
  }
  const here = resolve('herald.yaml');
  return existsSync(here) ? here : undefined;
}
