import type { FastifyInstance } from 'fastify';
import type { ConfigReloader, ConfigStatus } from '../../../services/config/reloader.js';
import { ServiceError } from '../../../services/errors.js';
import { html } from '../html.js';
import type { Kit } from '../kit.js';
import { ago, when } from '../layout.js';

/** What these pages use of the app: the configuration file's reloader (absent without a file), the admin route's own. */
export type ConfigPageDeps = { configFile: Pick<ConfigReloader, 'reload' | 'status'> | undefined };

/** The admin API's answer without a file, word for word. */
const NO_FILE = 'Herald runs without a configuration file: set HERALD_CONFIG (or put herald.yaml in its working directory) and restart it';

/** A marker for objects the configuration file manages (their changes are made in the file). */
export const fileManaged = (managedBy: 'file' | undefined) =>
  managedBy === 'file' ? html`<span class="pill file" title="Managed by the configuration file: change it there and reload">file</span>` : '';

/** The overview's card: whether a file is in use, its state, and every problem of a refused reload. */
export function configCard(status: ConfigStatus | undefined, csrf: string, now = Date.now()) {
  if (!status) {
    return html`<div class="card config" data-testid="config-file"><h3>Configuration file</h3><div>none in use</div>
<div class="small muted">Channels, routes and mutes are made with the console, the admin API or slash commands. Set <code>HERALD_CONFIG</code> (or put <code>herald.yaml</code> in Herald's working directory) to manage them from a file.</div></div>`;
  }
  const pill = status.state === 'applied' ? html`<span class="pill ok">applied</span>` : status.state === 'failed' ? html`<span class="pill bad">failed</span>` : html`<span class="pill">pending</span>`;
  return html`<div class="card config" data-testid="config-file"><h3>Configuration file</h3>
<div><code>${status.file}</code> <span data-testid="config-state">${pill}</span></div>
<div class="small">applied ${when(status.applied_at)}${status.applied_at !== null ? ` (${ago(status.applied_at, now)})` : ''} · last read ${when(status.attempted_at)}${status.attempted_at !== null ? ` (${ago(status.attempted_at, now)})` : ''}</div>
${
  status.problems.length
    ? html`<div class="small">The last version was refused; the configuration applied before it is still in force:</div><ul class="problems" data-testid="config-problems">${status.problems.map((p) => html`<li class="mono">${p}</li>`)}</ul>`
    : ''
}
${status.warnings.length ? html`<div class="small">Warnings:</div><ul class="problems warnings" data-testid="config-warnings">${status.warnings.map((p) => html`<li class="mono">${p}</li>`)}</ul>` : ''}
<form class="inline" method="post" action="/console/config/reload"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit">Reload</button></form>
<span class="small muted">reads the file again and applies it, as SIGHUP does; a refused file changes nothing</span></div>`;
}

/** Reload the configuration file (the admin route's reload), back to the overview with the outcome. */
export function registerConfigPages(app: FastifyInstance, herald: ConfigPageDeps, kit: Kit): void {
  app.post('/config/reload', async (req, reply) =>
    kit.act(req, reply, '/console', async () => {
      if (!herald.configFile) throw new ServiceError(409, 'no_config_file', NO_FILE);
      const answer = await herald.configFile.reload('api');
      if (!answer.applied) {
        return { kind: 'error' as const, text: `Configuration file refused (${answer.problems.length} problem${answer.problems.length === 1 ? '' : 's'}, listed below); the configuration in force stays. First: ${answer.problems[0] ?? ''}` };
      }
      return answer.changes.length
        ? `Configuration file applied: ${answer.changes.length} change${answer.changes.length === 1 ? '' : 's'} (${answer.changes.join('; ')}).`
        : 'Configuration file applied: nothing changed.';
    }),
  );
}
