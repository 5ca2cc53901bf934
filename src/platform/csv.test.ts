import { describe, expect, it } from 'vitest';
import { csvRecord } from './csv.js';

describe('csvRecord (RFC 4180, formulas defused, decision 0870)', () => {
  it('defuses what a spreadsheet could run, and keeps a signed number exactly (attack S18-5)', () => {
    const cells = (values: string[]) => csvRecord(values, '\n').slice(0, -1);
    expect(cells(['+3256223345', '-12.50', '-5', '+0'])).toBe('+3256223345,-12.50,-5,+0');
    expect(cells(['=HYPERLINK("x")', '@SUM(A1)', '+32 470 00 00 01', '-2+3+cmd', '+1.', '-.5'])).toBe(
      `"'=HYPERLINK(""x"")",'@SUM(A1),'+32 470 00 00 01,'-2+3+cmd,'+1.,'-.5`,
    );
    expect(cells(['\tx', '＝1+1', '＋1'])).toBe(`'\tx,'＝1+1,'＋1`);
    expect(cells(['plain', 'a,b', 'line\nbreak'])).toBe('plain,"a,b","line\nbreak"');
  });
});
