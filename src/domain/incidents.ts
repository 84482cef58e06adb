/**
 * Incidents (issue 10 §1), the pure rules: which group an alert belongs to (its incident key), and what
 * an incident's state is given its members. No I/O: the pipeline's incident stage asks `incidentOf`, the
 * store keeps the rows, the cards render what `incidentState` says.
 */
import { severityRank, type Severity } from './alert.js';

/** A route's `group_wait` when it sets none: long enough for a burst to land as one card. */
export const DEFAULT_GROUP_WAIT_MS = 5_000;
/** The longest `group_wait` a route may set: an incident's first card must not wait for ever. */
export const MAX_GROUP_WAIT_MS = 10 * 60_000;
/** Alertmanager's special `group_by: ['...']`: every label of the alert. */
export const GROUP_BY_ALL = '...';

/** The group an alert belongs to: its key within its source, and what its card is headed with. */
export interface IncidentRef {
  key: string;
  title: string;
}

/** What grouping reads of a route: its id and its `group_by` (null or empty: the route does not group). */
export interface GroupingRoute {
  id: number;
  groupBy?: readonly string[] | null;
}

/** Keys and titles are cut here: they are stored and shown, not free text of any length. */
const KEY_MAX = 1000;
const TITLE_MAX = 200;
const cut = (s: string, n: number) => (s.length <= n ? s : s.slice(0, n - 1) + '…');

/**
 * A route's `group_by` applied to an alert's labels (Alertmanager's semantics): the key is the values of
 * those labels, a label the alert lacks counting as empty; `['...']` takes every label. Undefined when the
 * route does not group (`groupBy` null or empty). Label names are sorted so the order they were given in
 * does not split one group in two.
 */
export function keyFromLabels(routeId: number, groupBy: readonly string[] | null | undefined, labels: Readonly<Record<string, string>> | null | undefined): IncidentRef | undefined {
  if (!groupBy || groupBy.length === 0) return undefined;
  const l = labels ?? {};
  const names = groupBy.includes(GROUP_BY_ALL) ? Object.keys(l) : [...new Set(groupBy)];
  names.sort();
  const pairs = names.map((n) => [n, l[n] ?? ''] as const);
  const title = pairs.filter(([, v]) => v !== '').map(([n, v]) => `${n}=${v}`).join(', ') || '(no labels)';
  return { key: cut(`route:${routeId}:${JSON.stringify(pairs)}`, KEY_MAX), title: cut(title, TITLE_MAX) };
}

/**
 * The incident an incoming alert belongs to, or undefined (an incident of one: shown as today). In this
 * order: the sender's own group (an Alertmanager `groupKey`, mapped by its adapter: `senderGroup`), a native
 * alert's `group`, then the first matching route (in route order) that has a `group_by`. Scoped to the
 * source by the caller (the store looks a key up within its source only).
 */
export function incidentOf(
  input: { group?: string | undefined; labels?: Readonly<Record<string, string>> | undefined; sender_group?: IncidentRef | undefined },
  matched: readonly GroupingRoute[],
): IncidentRef | undefined {
  if (input.sender_group) return { key: cut(`am:${input.sender_group.key}`, KEY_MAX), title: cut(input.sender_group.title, TITLE_MAX) };
  if (input.group !== undefined) return { key: cut(`group:${input.group}`, KEY_MAX), title: cut(input.group, TITLE_MAX) };
  for (const r of matched) {
    const ref = keyFromLabels(r.id, r.groupBy, input.labels);
    if (ref) return ref;
  }
  return undefined;
}

/** What the incident's state is read from: each member as it stands. */
export interface MemberState {
  severity: Severity;
  status: 'firing' | 'resolved';
  acknowledgedAt?: number | null;
  resolvedAt?: number | null;
  retractedAt?: number | null;
}

export interface IncidentState {
  /** Members neither resolved nor retracted. */
  firing: number;
  resolved: number;
  /** Members retracted (not counted as firing or resolved). */
  retracted: number;
  /** Firing members acknowledged. */
  acknowledged: number;
  /** The most severe firing member's severity; with none firing, the most severe member's. */
  worst: Severity | null;
  /** Resolved: members there were, and none fires (the last firing member resolved). */
  isResolved: boolean;
  /** Every firing member acknowledged (and at least one fires). */
  isAcknowledged: boolean;
  /** The latest acknowledgement of a firing member, when every firing member is acknowledged; else null. */
  acknowledgedAt: number | null;
  /** When the last member resolved, once the incident is resolved; else null. */
  resolvedAt: number | null;
}

/** An incident's state from its members': it resolves when its last firing member resolves. */
export function incidentState(members: readonly MemberState[]): IncidentState {
  let firing = 0;
  let resolved = 0;
  let retracted = 0;
  let acknowledged = 0;
  let worstFiring: Severity | null = null;
  let worstAny: Severity | null = null;
  let ackAt = 0;
  let resolvedAt = 0;
  const worse = (w: Severity | null, s: Severity) => (w === null || severityRank(s) < severityRank(w) ? s : w);
  for (const m of members) {
    if (m.retractedAt) {
      retracted++;
      continue;
    }
    worstAny = worse(worstAny, m.severity);
    if (m.status === 'resolved' || m.resolvedAt) {
      resolved++;
      resolvedAt = Math.max(resolvedAt, m.resolvedAt ?? 0);
      continue;
    }
    firing++;
    worstFiring = worse(worstFiring, m.severity);
    if (m.acknowledgedAt) {
      acknowledged++;
      ackAt = Math.max(ackAt, m.acknowledgedAt);
    }
  }
  const isResolved = firing === 0 && resolved > 0;
  const isAcknowledged = firing > 0 && acknowledged === firing;
  return {
    firing,
    resolved,
    retracted,
    acknowledged,
    worst: worstFiring ?? worstAny,
    isResolved,
    isAcknowledged,
    acknowledgedAt: isAcknowledged ? ackAt : null,
    resolvedAt: isResolved ? resolvedAt || null : null,
  };
}
