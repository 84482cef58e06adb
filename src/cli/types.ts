/** The `herald` command line's one interface: each command group (src/cli/commands/) is a `CliCommand`. */
export interface CliIo {
  out(line: string): void;       // stdout
  err(line: string): void;       // stderr
  env: NodeJS.ProcessEnv;
}
export interface CliCommand {
  name: string;                  // 'config', 'alerts', 'status', ...
  summary: string;               // one line for `herald --help`
  help: string;                  // full help text for `herald <name> --help`
  run(args: string[], io: CliIo): Promise<number>;  // exit code: 0 ok, 2 usage/validation error, 1 runtime failure
}
