import { describe, expect, it } from 'vitest';
import { parseHoursOptions } from '../commands/route.js';
import { type BusinessHours, businessHoursInput, decideHours, isOpen, isTimeZone, localTime, nextOpening, offsetAt, parseHoursSpec, zonedTime } from '../src/domain/hours.js';

const Z = (iso: string) => Date.parse(iso);
const hours = (over: Partial<BusinessHours>): BusinessHours => ({ timezone: 'UTC', days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00', outside: 'wait', ...over });

describe('business hours: pure rules', () => {
  it('reads the wall clock of the zone, DST included', () => {
    expect(offsetAt(Z('2026-01-15T12:00:00Z'), 'Europe/Berlin')).toBe(3_600_000);
    expect(offsetAt(Z('2026-07-15T12:00:00Z'), 'Europe/Berlin')).toBe(7_200_000);
    expect(offsetAt(Z('2026-07-15T12:00:00Z'), 'America/New_York')).toBe(-4 * 3_600_000);
    expect(localTime(Z('2026-03-06T23:00:00Z'), 'America/New_York')).toEqual({ year: 2026, month: 3, day: 6, weekday: 5, minute: 18 * 60 });
  });

  it('opens at 09:00 local on both sides of a DST change (New York, spring and autumn)', () => {
    const ny = hours({ timezone: 'America/New_York' });
    // Friday 18:00 EST; clocks go forward on Sunday 8 March: Monday 09:00 is EDT (UTC-4).
    expect(isOpen(ny, Z('2026-03-06T23:00:00Z'))).toBe(false);
    expect(new Date(nextOpening(ny, Z('2026-03-06T23:00:00Z'))).toISOString()).toBe('2026-03-09T13:00:00.000Z');
    // Friday 18:00 EDT; clocks go back on Sunday 1 November: Monday 09:00 is EST (UTC-5).
    expect(new Date(nextOpening(ny, Z('2026-10-30T22:00:00Z'))).toISOString()).toBe('2026-11-02T14:00:00.000Z');
    expect(isOpen(ny, Z('2026-11-02T14:00:00Z'))).toBe(true);
    expect(isOpen(ny, Z('2026-11-02T13:59:00Z'))).toBe(false);
    // Open now: now.
    expect(nextOpening(ny, Z('2026-11-03T15:00:00Z'))).toBe(Z('2026-11-03T15:00:00Z'));
  });

  it('an opening time that does not exist (spring forward) opens when the clocks jump; one that happens twice opens the first time', () => {
    const berlin = hours({ timezone: 'Europe/Berlin', days: ['sun'], start: '02:30', end: '05:00' });
    // 29 March 2026: 02:00 CET becomes 03:00 CEST at 01:00Z; 02:30 never happens.
    expect(new Date(zonedTime(2026, 3, 29, 150, 'Europe/Berlin')).toISOString()).toBe('2026-03-29T01:00:00.000Z');
    expect(new Date(nextOpening(berlin, Z('2026-03-28T23:00:00Z'))).toISOString()).toBe('2026-03-29T01:00:00.000Z');
    expect(isOpen(berlin, Z('2026-03-29T01:00:00Z'))).toBe(true);
    expect(isOpen(berlin, Z('2026-03-29T00:59:00Z'))).toBe(false);
    // 25 October 2026: 03:00 CEST becomes 02:00 CET at 01:00Z; 02:30 happens at 00:30Z and again at 01:30Z.
    expect(new Date(zonedTime(2026, 10, 25, 150, 'Europe/Berlin')).toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(new Date(nextOpening(berlin, Z('2026-10-24T22:00:00Z'))).toISOString()).toBe('2026-10-25T00:30:00.000Z');
    // An ordinary day in summer and in winter.
    expect(new Date(zonedTime(2026, 7, 5, 9 * 60, 'Europe/Berlin')).toISOString()).toBe('2026-07-05T07:00:00.000Z');
    expect(new Date(zonedTime(2026, 1, 4, 9 * 60, 'Europe/Berlin')).toISOString()).toBe('2026-01-04T08:00:00.000Z');
  });

  it('runs overnight windows into the next morning, from the listed day they start on', () => {
    const night = hours({ start: '22:00', end: '06:00' });
    expect(isOpen(night, Z('2026-11-27T22:30:00Z'))).toBe(true); // Friday night
    expect(isOpen(night, Z('2026-11-28T03:00:00Z'))).toBe(true); // Saturday early: Friday's window
    expect(isOpen(night, Z('2026-11-28T07:00:00Z'))).toBe(false);
    expect(isOpen(night, Z('2026-11-29T23:00:00Z'))).toBe(false); // Sunday night: not listed
    expect(new Date(nextOpening(night, Z('2026-11-28T07:00:00Z'))).toISOString()).toBe('2026-11-30T22:00:00.000Z');
    expect(isOpen(hours({ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '24:00' }), Z('2026-11-29T23:59:00Z'))).toBe(true);
  });

  it('P0/P1 always go; P2/P3 wait for the opening or go to the digest', () => {
    const h = hours({});
    const saturday = Z('2026-11-28T12:00:00Z');
    expect(decideHours(h, 'P0', saturday)).toEqual({ send: 'now' });
    expect(decideHours(h, 'P1', saturday)).toEqual({ send: 'now' });
    expect(decideHours(h, 'P3', saturday)).toEqual({ send: 'later', at: Z('2026-11-30T09:00:00Z') });
    expect(decideHours({ ...h, outside: 'digest' }, 'P2', saturday)).toEqual({ send: 'digest' });
    expect(decideHours(h, 'P3', Z('2026-11-30T10:00:00Z'))).toEqual({ send: 'now' });
    expect(decideHours(null, 'P3', saturday)).toEqual({ send: 'now' });
  });

  it('validates time zones, times and days', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isTimeZone('')).toBe(false);
    const ok = businessHoursInput.safeParse({ timezone: 'Asia/Kolkata', days: ['mon'], start: '09:30', end: '24:00' });
    expect(ok.success && ok.data.outside).toBe('wait');
    const bad = (v: unknown) => businessHoursInput.safeParse(v).error?.issues[0]?.message;
    expect(bad({ timezone: 'Nowhere/Town', days: ['mon'], start: '09:00', end: '17:00' })).toMatch(/IANA time zone/);
    expect(bad({ timezone: 'UTC', days: ['mon'], start: '9:00', end: '17:00' })).toMatch(/HH:MM/);
    expect(bad({ timezone: 'UTC', days: ['mon'], start: '09:00', end: '09:00' })).toMatch(/must differ/);
    expect(bad({ timezone: 'UTC', days: [], start: '09:00', end: '17:00' })).toBeDefined();
    expect(bad({ timezone: 'UTC', days: ['funday'], start: '09:00', end: '17:00' })).toBeDefined();
  });

  it('parses the slash command spec', () => {
    expect(parseHoursSpec('mon-fri 9:00-18:00')).toEqual({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '18:00' });
    expect(parseHoursSpec('sat-mon 22:00-06:00')).toEqual({ days: ['sun', 'mon', 'sat'], start: '22:00', end: '06:00' });
    expect(parseHoursSpec('Daily 00:00-24:00')).toMatchObject({ days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] });
    expect(parseHoursSpec('whenever')).toHaveProperty('error');
    expect(parseHoursSpec('mon-fry 09:00-17:00')).toHaveProperty('error');
    expect(parseHoursOptions('mon,wed 08:00-12:00', 'Europe/Paris', 'digest')).toEqual({ days: ['mon', 'wed'], start: '08:00', end: '12:00', timezone: 'Europe/Paris', outside: 'digest' });
    expect(parseHoursOptions(null, null, null)).toBeUndefined();
    expect(() => parseHoursOptions('mon 09:00-17:00', 'Moon/Base', null)).toThrow(/not a known IANA time zone/);
    expect(() => parseHoursOptions('mon 25:00-26:00', null, null)).toThrow(/HH:MM/);
    expect(() => parseHoursOptions(null, 'UTC', null)).toThrow(/give the hours too/);
  });
});
