import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderIncidentCard } from '../src/cards/incident-card.js';
import { stormSummaryCard } from '../src/cards/storm.js';
import type { StatefulAlert } from '../src/domain/alert-state.js';

/**
 * The example messages in docs/incidents.md are what Herald's real renderers send to Discord for these
 * inputs: this test renders them again and finds each, verbatim, in the page. After a change of a card,
 * `UPDATE_EXAMPLES=1 npx vitest run test/docs-examples.test.ts` prints the new JSON to paste.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const page = () => readFileSync(join(root, 'docs/incidents.md'), 'utf8');

const T0 = Date.parse('2026-12-01T09:12:00Z');
const m = (id: number, over: Partial<StatefulAlert>): StatefulAlert => ({ id, service: 'postgres', severity: 'P2', title: '', status: 'firing', receivedAt: T0, incidentId: 42, ...over });

export const exampleIncident = () =>
  renderIncidentCard(
    { id: 42, title: 'alertname=PostgresReplicationLag, cluster=eu1' },
    [
      m(1201, { severity: 'P1', service: 'postgres-primary', title: 'PostgresReplicationLag: replica db-2 is 94 s behind', receivedAt: T0 }),
      m(1202, { severity: 'P2', service: 'postgres-replica', title: 'PostgresReplicationLag: replica db-3 is 41 s behind', receivedAt: T0 + 4_000, acknowledgedAt: T0 + 300_000, acknowledgedBy: 'alice' }),
      m(1203, { severity: 'P2', service: 'checkout', title: 'CheckoutSlowQueries: p95 query time 2.4 s', receivedAt: T0 + 65_000 }),
      m(1204, { severity: 'P3', service: 'reporting', title: 'ReportingStale: nightly report 2 h late', receivedAt: T0 + 120_000 }),
      m(1205, { severity: 'P2', service: 'postgres-replica', title: 'PostgresReplicationLag: replica db-4 is 12 s behind', status: 'resolved', resolvedAt: T0 + 600_000, receivedAt: T0 + 9_000 }),
    ],
    { username: 'Herald', buttons: true },
  );

export const exampleStormSummary = () =>
  stormSummaryCard(
    {
      stormId: 7,
      startedAt: T0,
      endedAt: null,
      waiting: 212,
      total: 640,
      messages: 9,
      bySeverity: { P2: 410, P3: 230 },
      byService: [
        { service: 'kube-node', count: 301 },
        { service: 'ingress', count: 188 },
        { service: 'postgres-replica', count: 95 },
        { service: 'checkout', count: 56 },
      ],
      firstArrivalAt: T0,
      lastArrivalAt: T0 + 21_000,
    },
    'Herald',
  );

const json = (v: unknown) => JSON.stringify(v, null, 2);

describe('the example cards in docs/incidents.md', () => {
  it('are what the renderers produce now', () => {
    if (process.env.UPDATE_EXAMPLES) console.log(`\n${json(exampleIncident())}\n\n${json(exampleStormSummary())}`);
    expect(page()).toContain(json(exampleIncident()));
    expect(page()).toContain(json(exampleStormSummary()));
  });
});
