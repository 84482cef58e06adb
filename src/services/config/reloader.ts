import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { z } from 'zod';
import { applyConfig, planWithChecks, type ApplyDeps } from './apply.js';
import { formatProblem, loadConfigText, type ConfigProblem, type LoadedConfig } from './load.js';
import { describeChange } from './plan.js';

export const configStatusView = z
  .object({
    file: z.string().describe('The configuration file (HERALD_CONFIG, or ./herald.yaml)'),
    state: z.enum(['pending', 'applied', 'failed']).describe('applied: the last attempt was applied; failed: it was refused and the configuration before it is still in force'),
    applied_at: z.number().nullable().describe('When the file was last applied'),
    attempted_at: z.number().nullable().describe('When it was last read (start, SIGHUP, POST /v1/admin/config/reload)'),
    problems: z.array(z.string()).describe('Why the last attempt was refused, each "file:line:column: key: message"'),
    warnings: z.array(z.string()).describe('What the last attempt accepted but should not be there (a credential written in clear)'),
  })
  .describe('The configuration file: whether its last version was applied');
export type ConfigStatus = z.output<typeof configStatusView>;

export const reloadAnswer = z.object({
  applied: z.boolean(),
  file: z.string(),
  changes: z.array(z.string()).describe('What changed, one line each: "+" created, "~" changed, "=" taken over from the API, "-" removed'),
  problems: z.array(z.string()).describe('Why it was refused (nothing was changed), each "file:line:column: key: message"'),
  warnings: z.array(z.string()),
});
export type ReloadAnswer = z.output<typeof reloadAnswer>;

export const diffAnswer = z.object({
  valid: z.boolean(),
  changes: z.array(z.string()).describe('What applying this file would change (empty: nothing)'),
  problems: z.array(z.string()),
  warnings: z.array(z.string()),
});
export type DiffAnswer = z.output<typeof diffAnswer>;

export type ReloaderDeps = ApplyDeps & {
  env: NodeJS.ProcessEnv;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Called with each valid file before it is applied (emulator mode: the emulator is given the file's channels and webhooks). */
  beforeApply?: (loaded: LoadedConfig) => void;
};

/**
 * What applying `text` would change (nothing is written), with or without a configuration file of Herald's
 * own; `herald config diff` sends a file here, with the values of the references it could expand from its own
 * environment (`env`: they win over Herald's, `deps.env`).
 */
export async function diffConfigText(deps: ApplyDeps & { env: NodeJS.ProcessEnv }, text: string, env: Record<string, string> = {}): Promise<DiffAnswer> {
  const loaded = loadConfigText(text, { env: { ...deps.env, ...env }, apiUrl: deps.config.discord.apiUrl });
  if (!loaded.ok) return { valid: false, changes: [], problems: loaded.problems.map((p) => formatProblem(p)), warnings: [] };
  const { plan, problems, warnings } = await planWithChecks(deps, loaded.config);
  return { valid: problems.length === 0, changes: plan.changes.map(describeChange), problems: problems.map((p) => formatProblem(p)), warnings: warnings.map((p) => formatProblem(p)) };
}

/**
 * The configuration file's life in a running Herald: read and applied at start, on SIGHUP and on
 * `POST /v1/admin/config/reload`, one attempt at a time. A refused file changes nothing: the last good
 * configuration stays in force, the failure is logged and shown by /readyz (`config`) until a good one is applied.
 */
export class ConfigReloader {
  private current: ConfigStatus;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly deps: ReloaderDeps,
    readonly path: string,
  ) {
    this.current = { file: path, state: 'pending', applied_at: null, attempted_at: null, problems: [], warnings: [] };
  }

  get status(): ConfigStatus {
    return this.current;
  }

  /** Reads the file and applies it (after any attempt still running). */
  reload(trigger: 'start' | 'SIGHUP' | 'api'): Promise<ReloadAnswer> {
    const run = this.running.then(() => this.attempt(trigger));
    this.running = run.catch(() => undefined);
    return run;
  }


  private async attempt(trigger: string): Promise<ReloadAnswer> {
    const now = Date.now();
    const name = this.path;
    const refuse = (problems: ConfigProblem[] | string[]): ReloadAnswer => {
      const lines = problems.map((p) => (typeof p === 'string' ? p : formatProblem(p, name)));
      this.current = { ...this.current, state: 'failed', attempted_at: now, problems: lines, warnings: [] };
      this.deps.log.error({ file: name, trigger, problems: lines }, `configuration file refused (${lines.length} problem${lines.length === 1 ? '' : 's'}); the configuration in force stays: ${lines[0]}`);
      return { applied: false, file: name, changes: [], problems: lines, warnings: [] };
    };
    let text: string;
    try {
      text = await readFile(name, 'utf8');
    } catch (err) {
      return refuse([`${name}: cannot read the configuration file (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
    }
    const loaded = loadConfigText(text, { env: this.deps.env, apiUrl: this.deps.config.discord.apiUrl });
    if (!loaded.ok) return refuse(loaded.problems);
    let outcome: Awaited<ReturnType<typeof applyConfig>>;
    try {
      this.deps.beforeApply?.(loaded.config);
      outcome = await applyConfig(this.deps, loaded.config, now);
    } catch (err) {
      // Rolled back (a database that cannot write, say): nothing of the file is in force, and it is said so.
      return refuse([`${name}: could not apply the configuration file (${err instanceof Error ? err.message : String(err)}); nothing was changed`]);
    }
    if (!outcome.ok) return refuse(outcome.problems);
    const warnings = outcome.warnings.map((p) => formatProblem(p, name));
    this.current = { file: name, state: 'applied', applied_at: now, attempted_at: now, problems: [], warnings };
    for (const w of warnings) this.deps.log.warn({ file: name }, `configuration file: ${w}`);
    this.deps.log.info({ file: name, trigger, changes: outcome.changes }, outcome.changes.length ? `configuration file applied: ${outcome.changes.length} change${outcome.changes.length === 1 ? '' : 's'}` : 'configuration file applied: nothing changed');
    return { applied: true, file: name, changes: outcome.changes, problems: [], warnings };
  }
}
