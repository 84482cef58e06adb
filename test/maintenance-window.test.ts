import { describe, expect, it } from 'vitest';
import { windowInForce } from '../src/domain/maintenance.js';

/** The pure decision behind maintenance windows: is a window open at a time. */
describe('windowInForce', () => {
  const at = (iso: string) => Date.parse(iso);

  it('opens a one-off window at its start and closes it at its end', () => {
    const open = windowInForce({ kind: 'once', startsAt: at('2030-01-01T00:00:00Z'), endsAt: at('2030-01-01T02:00:00Z') });
    expect([open(at('2029-12-31T23:59:59Z')), open(at('2030-01-01T00:00:00Z')), open(at('2030-01-01T01:59:59Z')), open(at('2030-01-01T02:00:00Z'))]).toEqual([false, true, true, false]);
  });

  it('follows the cron expression in its time zone, across a daylight-saving change, asked in any order', () => {
    // 06:00 in Paris every day for 30 min: 05:00Z in winter, 04:00Z from 2026-03-29 on.
    const open = windowInForce({ kind: 'recurring', cron: '0 6 * * *', timezone: 'Europe/Paris', durationMs: 30 * 60_000 });
    const cases: [string, boolean][] = [
      ['2026-03-28T05:10:00Z', true],
      ['2026-03-28T04:10:00Z', false],
      ['2026-03-29T04:10:00Z', true],
      ['2026-03-29T05:10:00Z', false],
      ['2026-03-28T05:29:59Z', true],
      ['2026-03-28T05:30:00Z', false],
      ['2026-03-30T04:00:00Z', true],
    ];
    expect(cases.map(([t]) => [t, open(at(t))])).toEqual(cases);
  });
});
