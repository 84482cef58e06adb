/**
 * The bench's command line: benchmark names, `--against <rev>` (head to head with an older revision)
 * and `--rounds N` (how many times the ingest alternation runs each build).
 */
export const ALL = ['ingest', 'storm', 'p0', 'rss'] as const;
/** Run only when named: a CPU profile of Herald under the repeats (or the distinct) load, to guide optimisation. */
export const OPT_IN = ['profile', 'profile-distinct'] as const;
const KNOWN: readonly string[] = [...ALL, ...OPT_IN];

export interface BenchOptions {
  benches: string[];
  /** The git revision to measure against, as given (resolved later). */
  against?: string;
  /** Ingest rounds per build: as given, else 2 with `--against` (so noise shows) and 1 without. */
  rounds: number;
}

export const DEFAULT_ROUNDS_AGAINST = 2;

/** Parses the arguments, or returns the sentence that explains why they are refused. */
export function parseOptions(argv: string[]): BenchOptions | string {
  const names: string[] = [];
  let against: string | undefined;
  let rounds: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--against') {
      against = value();
      if (!against || against.startsWith('--')) return '--against needs a git revision (a commit, a tag, HEAD~1 …)';
    } else if (flag === '--rounds') {
      const v = value();
      rounds = Number(v);
      if (!v || !Number.isInteger(rounds) || rounds < 1) return `--rounds needs a whole number of at least 1 (got ${v ?? 'nothing'})`;
    } else if (KNOWN.includes(arg)) names.push(arg);
    else return `unknown benchmark or option ${arg}; choose from ${KNOWN.join(', ')}, --against <rev>, --rounds N`;
  }
  return { benches: names.length ? names : [...ALL], against, rounds: rounds ?? (against ? DEFAULT_ROUNDS_AGAINST : 1) };
}
