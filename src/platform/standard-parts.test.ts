import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addDays, addMonths, belgianDay, longDate } from './calendar.js';
import { escapeHtml } from './html.js';

const SRC = path.resolve(import.meta.dirname, '..');

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map(async (entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return sourceFiles(full);
      return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
    }),
  );
  return nested.flat();
}

/** The files of src/ whose code matches: a second hand-written copy shows up here. */
async function filesMatching(pattern: RegExp): Promise<string[]> {
  const found: string[] = [];
  for (const file of await sourceFiles(SRC)) {
    if (pattern.test(await readFile(file, 'utf8'))) found.push(path.relative(SRC, file));
  }
  return found.sort();
}

describe('one copy of each common part (issue 12)', () => {
  it('HTML is escaped by one function, platform/html.ts', async () => {
    expect(await filesMatching(/(function|const)\s+escapeHtml\b/)).toEqual(['platform/html.ts']);
    expect(escapeHtml(`<a href="x">Jan & 'Els'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;Jan &amp; &#39;Els&#39;&lt;/a&gt;',
    );
  });

  it('Belgian days and day arithmetic live in platform/calendar.ts only', async () => {
    expect(await filesMatching(/timeZone: 'Europe\/Brussels',\s*year:/)).toEqual(['platform/calendar.ts']);
    expect(await filesMatching(/function\s+(addDays|addMonths|addCalendarMonths)\b/)).toEqual([
      'platform/calendar.ts',
    ]);
    // 22:30 UTC on 30 June is already 1 July in Brussels (summer time), 23:30 on 31 Dec is 1 Jan.
    expect(belgianDay(new Date('2026-06-30T22:30:00Z'))).toBe('2026-07-01');
    expect(belgianDay(new Date('2026-12-31T23:30:00Z'))).toBe('2027-01-01');
    expect(addDays('2026-03-28', 2)).toBe('2026-03-30'); // across the switch to summer time
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addMonths('2028-01-31', 1)).toBe('2028-02-29');
    expect(addMonths('2026-03-31', -1)).toBe('2026-02-28');
  });

  it('a day a person reads is written in words by one function, platform/calendar.ts longDate', async () => {
    expect(await filesMatching(/dateStyle: 'long',\s*timeZone: 'UTC'/)).toEqual(['platform/calendar.ts']);
    expect(longDate('2026-12-02', 'nl')).toBe('2 december 2026');
    expect(longDate('2026-12-02', 'fr')).toBe('2 décembre 2026');
    expect(longDate('2026-12-02', 'en')).toBe('2 December 2026');
    // A date-only value never shifts: the last and first day of a year stay themselves.
    expect(longDate('2026-12-31', 'nl')).toBe('31 december 2026');
    expect(longDate('2027-01-01', 'fr')).toBe('1 janvier 2027');
    // Anything else is printed as given, never thrown inside a letter.
    for (const given of ['', '2026-02-30', '31/12/2026', 'accounting (10 years)'])
      expect(longDate(given, 'nl')).toBe(given);
  });

  it('CSV is written by csv-stringify, not by hand', async () => {
    expect(await filesMatching(/function\s+csvCell\b/)).toEqual([]);
  });
});
