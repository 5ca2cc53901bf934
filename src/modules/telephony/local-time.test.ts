import { describe, expect, it } from 'vitest';
import { assertTimeZone, findOffsetMs, parseTimestamp, resolveWallClock } from './local-time.js';
import type { WallClock } from './local-time.js';

function wallOf(text: string): WallClock {
  const parsed = parseTimestamp(text);
  if (parsed?.kind !== 'wall') throw new Error('not a wall-clock time');
  return parsed.wall;
}

const iso = (instants: number[]): string[] => instants.map((ms) => new Date(ms).toISOString());

describe('local time in an IANA zone', () => {
  it('winter and summer offsets of Europe/Brussels', () => {
    expect(iso(resolveWallClock(wallOf('2024-01-15 12:00:00'), 'Europe/Brussels'))).toEqual([
      '2024-01-15T11:00:00.000Z',
    ]);
    expect(iso(resolveWallClock(wallOf('2024-07-15 12:00:00'), 'Europe/Brussels'))).toEqual([
      '2024-07-15T10:00:00.000Z',
    ]);
    expect(findOffsetMs(Date.parse('2024-07-15T10:00:00Z'), 'Europe/Brussels')).toBe(7_200_000);
  });

  it('the missing spring hour moves forward (02:30 reads as 03:30 summer time)', () => {
    expect(iso(resolveWallClock(wallOf('2024-03-31 02:30:00'), 'Europe/Brussels'))).toEqual([
      '2024-03-31T01:30:00.000Z',
    ]);
  });

  it('the repeated autumn hour has two instants, earliest first', () => {
    expect(iso(resolveWallClock(wallOf('2024-10-27 02:30:00'), 'Europe/Brussels'))).toEqual([
      '2024-10-27T00:30:00.000Z',
      '2024-10-27T01:30:00.000Z',
    ]);
  });

  it('the minutes around the changes are exact', () => {
    expect(iso(resolveWallClock(wallOf('2024-03-31 01:59:59'), 'Europe/Brussels'))).toEqual([
      '2024-03-31T00:59:59.000Z',
    ]);
    expect(iso(resolveWallClock(wallOf('2024-03-31 03:00:00'), 'Europe/Brussels'))).toEqual([
      '2024-03-31T01:00:00.000Z',
    ]);
    expect(iso(resolveWallClock(wallOf('2024-10-27 03:00:00'), 'Europe/Brussels'))).toEqual([
      '2024-10-27T02:00:00.000Z',
    ]);
  });

  it('UTC and explicit offsets', () => {
    expect(iso(resolveWallClock(wallOf('2024-10-27 02:30:00'), 'UTC'))).toEqual(['2024-10-27T02:30:00.000Z']);
    expect(parseTimestamp('2024-06-03T14:00:04+02:00')).toEqual({
      kind: 'instant',
      epochMs: Date.parse('2024-06-03T12:00:04Z'),
    });
    expect(parseTimestamp('2024-06-03 14:00:04.250Z')).toEqual({
      kind: 'instant',
      epochMs: Date.parse('2024-06-03T14:00:04Z'),
    });
  });

  it('impossible or malformed timestamps are refused', () => {
    for (const text of [
      '2024-02-30 10:00:00',
      '2023-02-29 10:00:00',
      '2024-13-01 10:00:00',
      '2024-01-01 24:00:00',
      '2024-01-01',
      '1706368044',
      '',
    ]) {
      expect(parseTimestamp(text), text).toBeNull();
    }
    expect(parseTimestamp('2024-02-29 10:00:00')).not.toBeNull();
  });

  it('an unknown zone is refused', () => {
    expect(() => assertTimeZone('Mars/Olympus')).toThrow(RangeError);
  });
});
