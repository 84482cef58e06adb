import { describe, expect, it } from 'vitest';
import { isStaleResolution, staleResolverName } from '../src/domain/auto-resolve.js';
import { formatDuration, parseDurationMs } from '../src/domain/duration.js';

describe('durations as people write them and as Herald writes them back', () => {
  it('reads 30s, 5m, 5 min, 2h, 1d; a bare number only with a unit to assume (or 0)', () => {
    expect(['30s', '5m', '5 min', '2h', '1d', ' 10 S '].map((d) => parseDurationMs(d))).toEqual([30_000, 300_000, 300_000, 7_200_000, 86_400_000, 10_000]);
    expect(parseDurationMs('15')).toBeUndefined();
    expect(parseDurationMs('15', 'm')).toBe(900_000);
    expect(parseDurationMs('15', 's')).toBe(15_000);
    expect(parseDurationMs('0')).toBe(0);
    expect(['', 'soon', '-1m', '1.5h', '5 m 3 s', '1w'].map((d) => parseDurationMs(d, 'm'))).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('writes 45 s, 7 min, 1 h, 2 h 30 min, 1 d', () => {
    const s = 1000;
    const min = 60 * s;
    expect([45 * s, 90 * s, 2 * min, 7 * min + 999, 60 * min, 90 * min, 150 * min, 4 * 60 * min, 24 * 60 * min, 50 * 60 * min].map(formatDuration)).toEqual([
      '45 s', '90 s', '2 min', '7 min', '1 h', '90 min', '2 h 30 min', '4 h', '1 d', '2 d',
    ]);
  });

  it('names the stale resolver so that the card can tell it from a person or a sender', () => {
    expect(staleResolverName(4 * 3_600_000)).toBe('stale (no update for 4 h)');
    expect(isStaleResolution('stale (no update for 4 h)', null)).toBe(true);
    expect(isStaleResolution('prometheus', null)).toBe(false);
    expect(isStaleResolution('stale (no update for 4 h)', '123456789012345678')).toBe(false);
  });
});
