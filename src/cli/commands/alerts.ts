import type { z } from 'zod';
import type { alertDetail, alertView } from '../../services/views.js';
import { idArg, pageQuery, parse } from '../args.js';
import { connect } from '../connect.js';
import { UsageError } from '../errors.js';
import { json, printList, table, time } from '../format.js';
import { TARGET_HELP, demoEnvValue, heraldUrl, targetOptions } from '../target.js';
import { heraldClient } from '../client.js';
import type { CliCommand, CliIo } from '../types.js';

type AlertView = z.output<typeof alertView>;
type AlertDetail = z.output<typeof alertDetail>;

const SEVERITIES = ['P0', 'P1', 'P2', 'P3'] as const;

const SEND_HELP = `Usage: herald alerts send [options]

Posts one alert to Herald's hook (POST /v1/alerts) with a source's token, as a sender would: a test that
routing and delivery work. Prints the alert's id once Herald has committed it.

  --service <name>        the alert's service (default: herald-cli)
  --severity <P0-P3>      P0 (most urgent) to P3 (default: P3)
  --title <text>          (default: "Test alert from the herald CLI")
  --description <text>
  --dedup-key <key>       repeats with the same key fold into one alert
  --environment <name>
  --label <key=value>     a label; repeat the flag for several
  --resolved              send it as resolved (ends the alert with that dedup key)
  --source-token <token>  the source's token; prefer HERALD_SOURCE_TOKEN in the environment (a token on the
                          command line is visible to other users: a warning says so). In emulator mode,
                          the demo source's token (HERALD_DEMO_SOURCE_TOKEN, demo.env) is used when unset.
  --json                  Herald's answer as JSON
  --url <url>             Herald's address (see herald alerts --help)`;

const LIST_HELP = `Usage: herald alerts list [--limit <n>] [--before-id <id>] [--unrouted] [--muted] [--json]

Lists alerts, newest first (GET /v1/admin/alerts).

  --limit <n>        how many (1-1000, default 50)
  --before-id <id>   the page after this id (the last id of the previous page)
  --unrouted         only alerts no route and no default channel took
  --muted            only alerts a mute silenced
  --json             the answer as JSON

${TARGET_HELP}`;

const SHOW_HELP = `Usage: herald alerts show <id> [--json]

One alert (GET /v1/admin/alerts/:id): its fields, lifecycle, and each delivery with its state and the Discord
message it was posted as.

  --json   the answer as JSON

${TARGET_HELP}`;

export const alerts: CliCommand = {
  name: 'alerts',
  summary: 'send a test alert, list alerts, show one with its deliveries',
  help: `Usage: herald alerts <send|list|show> [options]

  send     post a test alert to the hook with a source token (herald alerts send --help)
  list     alerts, newest first (herald alerts list --help)
  show     one alert with its deliveries (herald alerts show --help)

${TARGET_HELP}`,
  async run(args, io) {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'send':
        return send(rest, io);
      case 'list':
        return list(rest, io);
      case 'show':
        return show(rest, io);
      case '--help':
      case '-h':
        io.out(alerts.help);
        return 0;
      case undefined:
        throw new UsageError('herald alerts: a subcommand is missing: send, list or show (see herald alerts --help)');
      default:
        throw new UsageError(`herald alerts: unknown subcommand "${sub}": use send, list or show (see herald alerts --help)`);
    }
  },
};

async function send(args: string[], io: CliIo): Promise<number> {
  const where = 'herald alerts send';
  const { values } = parse(where, args, {
    url: { type: 'string' },
    service: { type: 'string' },
    severity: { type: 'string' },
    title: { type: 'string' },
    description: { type: 'string' },
    'dedup-key': { type: 'string' },
    environment: { type: 'string' },
    label: { type: 'string', multiple: true },
    resolved: { type: 'boolean' },
    'source-token': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) return (io.out(SEND_HELP), 0);
  const severity = (values.severity ?? 'P3').toUpperCase();
  if (!(SEVERITIES as readonly string[]).includes(severity)) throw new UsageError(`${where}: --severity must be one of P0, P1, P2, P3 (got "${values.severity}")`);
  const labels: Record<string, string> = {};
  for (const l of values.label ?? []) {
    const at = l.indexOf('=');
    if (at < 1) throw new UsageError(`${where}: --label must be key=value (got "${l}")`);
    labels[l.slice(0, at)] = l.slice(at + 1);
  }
  for (const flag of ['service', 'title', 'description', 'dedup-key', 'environment'] as const) {
    if (values[flag] !== undefined && values[flag].trim() === '') throw new UsageError(`${where}: --${flag} is empty`);
  }
  let token = values['source-token'];
  if (token !== undefined) {
    io.err(`${where}: warning: a token given with --source-token is visible to other users of this machine (ps, shell history); prefer HERALD_SOURCE_TOKEN`);
  } else {
    token = io.env.HERALD_SOURCE_TOKEN || io.env.HERALD_DEMO_SOURCE_TOKEN || demoEnvValue('HERALD_DEMO_SOURCE_TOKEN', io.env);
  }
  if (!token) throw new UsageError(`${where}: no source token: set HERALD_SOURCE_TOKEN to a source's token (POST /v1/admin/sources makes one)`);
  const alert = {
    service: values.service ?? 'herald-cli',
    severity,
    title: values.title ?? 'Test alert from the herald CLI',
    ...(values.description !== undefined ? { description: values.description } : {}),
    ...(values['dedup-key'] !== undefined ? { dedup_key: values['dedup-key'] } : {}),
    ...(values.environment !== undefined ? { environment: values.environment } : {}),
    ...(Object.keys(labels).length ? { labels } : {}),
    ...(values.resolved ? { status: 'resolved' } : {}),
  };
  // The hook takes only the source token: no admin token is needed (or sent) here.
  const herald = heraldClient(where, heraldUrl(where, values.url, io.env), token);
  const answer = await herald.request<{ ids: number[] }>('POST', '/v1/alerts', { body: alert, token });
  if (values.json) return (io.out(json(answer)), 0);
  for (const id of answer.ids) io.out(`accepted: alert #${id} (${severity} ${alert.service}: ${alert.title}); see: herald alerts show ${id}`);
  return 0;
}

async function list(args: string[], io: CliIo): Promise<number> {
  const where = 'herald alerts list';
  const { values } = parse(where, args, {
    ...targetOptions,
    limit: { type: 'string' },
    'before-id': { type: 'string' },
    unrouted: { type: 'boolean' },
    muted: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (values.help) return (io.out(LIST_HELP), 0);
  const q = pageQuery(where, values);
  if (values.unrouted) q.set('unrouted', 'true');
  if (values.muted) q.set('muted', 'true');
  const herald = connect(where, values, io);
  const rows = await herald.request<AlertView[]>('GET', `/v1/admin/alerts${q.size ? `?${q}` : ''}`);
  return printList(io.out, rows, {
    json: values.json,
    none: 'no alerts',
    header: ['ID', 'SEV', 'STATE', 'SERVICE', 'TITLE', 'RECEIVED'],
    row: (a) => [a.id, a.severity, stateOf(a), a.service, a.title, time(a.received_at)],
    max: 48,
  });
}

async function show(args: string[], io: CliIo): Promise<number> {
  const where = 'herald alerts show';
  const { values, positionals } = parse(where, args, { ...targetOptions, json: { type: 'boolean' } }, { positionals: true });
  if (values.help) return (io.out(SHOW_HELP), 0);
  const id = idArg(where, 'alert', positionals);
  const herald = connect(where, values, io);
  const a = await herald.request<AlertDetail>('GET', `/v1/admin/alerts/${id}`);
  if (values.json) return (io.out(json(a)), 0);
  io.out(`alert #${a.id}: ${a.severity} ${a.service}: ${a.title}`);
  const field = (name: string, value: string | number | null | undefined) => {
    if (value !== null && value !== undefined && value !== '') io.out(`  ${`${name}:`.padEnd(14)}${value}`);
  };
  field('state', stateOf(a));
  field('description', a.description);
  field('environment', a.environment);
  field('dedup key', a.dedup_key);
  if (a.labels) field('labels', Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(' '));
  field('received', time(a.received_at));
  field('occurrences', a.occurrences);
  if (a.acknowledged_at) field('acknowledged', `${time(a.acknowledged_at)} by ${a.acknowledged_by ?? '?'}`);
  if (a.resolved_at) field('resolved', `${time(a.resolved_at)} by ${a.resolved_by ?? '?'}`);
  if (a.retracted_at) field('retracted', `${time(a.retracted_at)} (${a.retract_mode}${a.retract_reason ? `: ${a.retract_reason}` : ''})`);
  if (a.muted_by_mute_id) field('muted', `by mute #${a.muted_by_mute_id}`);
  if (a.unrouted) field('unrouted', 'no route and no default channel took it');
  if (a.deliveries.length === 0) return (io.out('  deliveries:   none'), 0);
  io.out('  deliveries:');
  for (const line of table(
    ['ID', 'CHANNEL', 'STATE', 'ATTEMPTS', 'SENT', 'DISCORD MESSAGE', 'LAST ERROR'],
    a.deliveries.map((d) => [d.id, d.channel_id, d.state, d.attempts, time(d.sent_at), d.discord_message_id, d.last_error]),
  ))
    io.out(`    ${line}`);
  return 0;
}

/** One word for where an alert stands. */
function stateOf(a: AlertView): string {
  if (a.retracted_at) return 'retracted';
  if (a.status === 'resolved') return 'resolved';
  if (a.muted_by_mute_id) return 'muted';
  if (a.acknowledged_at) return 'acknowledged';
  return 'firing';
}
