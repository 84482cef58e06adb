import type { BusinessHours } from './hours.js';
import picomatch from 'picomatch';
import type { Severity } from './alert.js';

/** What a route matches on; an absent criterion matches every alert. */
export interface RouteRule {
  id: number;
  channelId: number;
  service: string | null;
  severities: string[] | null;
  environment: string | null;
  labels: Record<string, string> | null;
  /** Business hours (domain/hours.ts): they decide when, not whether, an alert goes. */
  businessHours?: BusinessHours | null;
  /** A firing alert it matches with no repeat for this long resolves as stale (services/auto-resolve.ts). */
  autoResolveAfterMs?: number | null;
  /** Cards of the alerts it matches get a thread for their follow-ups (delivery/threads.ts). */
  threads?: boolean;
  /** Incidents: the label names whose values make the incident key (domain/incidents.ts); null or empty: no grouping. */
  groupBy?: string[] | null;
  /** How long an incident's first card waits for more members (null: DEFAULT_GROUP_WAIT_MS). */
  groupWaitMs?: number | null;
}

export interface RoutableAlert {
  service: string;
  severity: Severity;
  environment?: string | null;
  labels?: Record<string, string> | null;
}

export interface CompiledRoute extends RouteRule {
  matches(alert: RoutableAlert): boolean;
}

/** Compiles the service glob once, so matching an alert is cheap on the ingest path. */
export function compileRoute(rule: RouteRule): CompiledRoute {
  const serviceMatches = rule.service ? picomatch(rule.service, { nocase: true, dot: true }) : () => true;
  return {
    ...rule,
    matches(alert) {
      if (!serviceMatches(alert.service)) return false;
      if (rule.severities?.length && !rule.severities.includes(alert.severity)) return false;
      if (rule.environment && rule.environment !== alert.environment) return false;
      if (rule.labels) {
        for (const [k, v] of Object.entries(rule.labels)) if (alert.labels?.[k] !== v) return false;
      }
      return true;
    },
  };
}
