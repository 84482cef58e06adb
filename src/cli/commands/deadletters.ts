import type { z } from 'zod';
import type { deadLetterView } from '../../services/views.js';
import { idArg, pageQuery, parse } from '../args.js';
import { connect } from '../connect.js';
import { UsageError } from '../errors.js';
import { json, printList, time } from '../format.js';
import { TARGET_HELP, targetOptions } from '../target.js';
import type { CliCommand, CliIo } from '../types.js';

type DeadLetter = z.output<typeof deadLetterView>;

const LIST_HELP = `Usage: herald deadletters list [--pending] [--limit <n>] [--before-id <id>] [--json]

Discord deliveries Herald gave up on, newest first, with the reason and Discord's error (GET /v1/admin/dead-letters).

  --pending          only those not replayed yet
  --limit <n>        how many (1-1000, default 50)
  --before-id <id>   the page after this id
  --json             the answer as JSON (with Discord's error body)

${TARGET_HELP}`;

const REPLAY_HELP = `Usage: herald deadletters replay <id> [--json]

Queues a dead letter's delivery again, from a fresh start (POST /v1/admin/dead-letters/:id/replay). A dead letter
already replayed, or whose alert was retracted, is refused.

  --json   the answer as JSON

${TARGET_HELP}`;

export const deadletters: CliCommand = {
  name: 'deadletters',
  summary: 'list deliveries given up on, replay one',
  help: `Usage: herald deadletters <list|replay> [options]

  list     deliveries given up on, with the reason (herald deadletters list --help)
  replay   queue one again (herald deadletters replay --help)

${TARGET_HELP}`,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'list') return list(rest, io);
    if (sub === 'replay') return replay(rest, io);
    if (sub === '--help' || sub === '-h') return (io.out(deadletters.help), 0);
    if (sub === undefined) throw new UsageError('herald deadletters: a subcommand is missing: list or replay (see herald deadletters --help)');
    throw new UsageError(`herald deadletters: unknown subcommand "${sub}": use list or replay (see herald deadletters --help)`);
  },
};

async function list(args: string[], io: CliIo): Promise<number> {
  const where = 'herald deadletters list';
  const { values } = parse(where, args, { ...targetOptions, limit: { type: 'string' }, 'before-id': { type: 'string' }, pending: { type: 'boolean' }, json: { type: 'boolean' } });
  if (values.help) return (io.out(LIST_HELP), 0);
  const q = pageQuery(where, values);
  if (values.pending) q.set('pending', 'true');
  const herald = connect(where, values, io);
  const rows = await herald.request<DeadLetter[]>('GET', `/v1/admin/dead-letters${q.size ? `?${q}` : ''}`);
  return printList(io.out, rows, {
    json: values.json,
    none: values.pending ? 'no dead letters waiting for a replay' : 'no dead letters',
    header: ['ID', 'ALERT', 'SEV', 'CHANNEL', 'REASON', 'DEAD SINCE', 'REPLAYED'],
    row: (d) => [d.id, d.alert_id === null ? '-' : `#${d.alert_id} ${d.alert_title ?? ''}`, d.severity, d.channel_id, d.reason, time(d.created_at), time(d.replayed_at)],
    max: 48,
  });
}

async function replay(args: string[], io: CliIo): Promise<number> {
  const where = 'herald deadletters replay';
  const { values, positionals } = parse(where, args, { ...targetOptions, json: { type: 'boolean' } }, { positionals: true });
  if (values.help) return (io.out(REPLAY_HELP), 0);
  const id = idArg(where, 'dead letter', positionals);
  const herald = connect(where, values, io);
  const answer = await herald.request<{ delivery_id: number }>('POST', `/v1/admin/dead-letters/${id}/replay`);
  if (values.json) return (io.out(json(answer)), 0);
  io.out(`dead letter ${id} queued again as delivery ${answer.delivery_id}`);
  return 0;
}
