import type { z } from 'zod';
import type { statusView } from '../../services/views.js';
import { parse } from '../args.js';
import { connect } from '../connect.js';
import { json, table, time } from '../format.js';
import { TARGET_HELP, heraldUrl, targetOptions } from '../target.js';
import type { CliCommand } from '../types.js';

/** GET /v1/admin/status's answer: its type comes from the schema the API answers with. */
type Status = z.output<typeof statusView>;
interface Readiness {
  ok: boolean;
  mode: string;
  problems: string[];
}

const WHERE = 'herald status';

export const status: CliCommand = {
  name: 'status',
  summary: 'delivery at a glance: readiness, queue by severity, lanes, dead letters, breakers',
  help: `Usage: herald status [--json] [--url <url>] [--token <token>]

Shows what GET /v1/admin/status answers (queue depth by severity, each channel's lane and budget,
dead letters not replayed, webhook breaker states), with readiness from GET /readyz and the channels' names.

  --json           the answers as JSON ({"ready": <readyz>, "status": <status>}), for scripts

${TARGET_HELP}`,
  async run(args, io) {
    const { values } = parse(WHERE, args, { ...targetOptions, json: { type: 'boolean' } });
    if (values.help) return (io.out(status.help), 0);
    const herald = connect(WHERE, values, io);
    const s = await herald.request<Status>('GET', '/v1/admin/status');
    // /readyz answers 503 with its problems when not ready: read it without treating that as a failure.
    const ready = await readiness(heraldUrl(WHERE, values.url, io.env));
    if (values.json) return (io.out(json({ ready, status: s })), 0);
    const channels = await herald.request<{ id: number; name: string }[]>('GET', '/v1/admin/channels?limit=1000');
    const names = new Map(channels.map((c) => [c.id, c.name]));
    io.out(`Herald at ${herald.url}: ${ready ? (ready.ok ? 'ready' : 'NOT READY') : 'readiness unknown'}${ready ? ` (${ready.mode})` : ''}`);
    for (const p of ready?.problems ?? []) io.out(`  problem: ${p}`);
    const q = s.queue_depth_by_priority;
    io.out(`queued or in flight: P0 ${q.P0}  P1 ${q.P1}  P2 ${q.P2}  P3 ${q.P3}`);
    io.out(`dead letters not replayed: ${s.dead_letters_pending}`);
    const breakers = Object.entries(s.breakers);
    io.out(`webhook breakers: ${breakers.length ? breakers.map(([k, n]) => `${k} ${n}`).join(', ') : 'no active webhooks'}`);
    if (s.lanes.length === 0) {
      io.out('lanes: none (no channel has had a delivery since start)');
      return 0;
    }
    io.out('lanes:');
    const now = Date.now();
    const rows = s.lanes.map((l) => [
      `${names.get(l.channel_id) ?? '?'} (#${l.channel_id})`,
      l.backlog,
      l.webhooks,
      `${l.budget.in_window}/${l.budget.effective_cap}${l.budget.effective_cap !== l.budget.cap ? ` (cap ${l.budget.cap})` : ''}`,
      l.budget.in_flight,
      l.budget.blocked_until > now ? time(l.budget.blocked_until) : '-',
    ]);
    for (const line of table(['CHANNEL', 'BACKLOG', 'WEBHOOKS', 'SENT IN WINDOW/CAP', 'IN FLIGHT', 'BLOCKED UNTIL'], rows)) io.out(`  ${line}`);
    return 0;
  },
};

async function readiness(url: string): Promise<Readiness | undefined> {
  try {
    // /readyz needs no token; 200 and 503 both carry the answer.
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(15_000) });
    const body = (await res.json()) as Readiness;
    return typeof body.ok === 'boolean' ? body : undefined;
  } catch {
    return undefined;
  }
}
