import { describe, expect, it } from 'vitest';
import { buildRegisterRows, generateRegister } from './register.generator.js';
import { loadSeedPolicy } from './statement.test-helpers.js';

/** A strict RFC 4180 reader, so the test does not trust the writer's own idea of CSV. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) throw new Error('CSV does not end with CRLF');
  return rows;
}

describe('record of processing activities (Art. 30)', () => {
  for (const name of ['voiceking', 'voxtra'] as const) {
    const policy = loadSeedPolicy(name);

    it(`${name}: the CSV has a header and exactly one row per purpose, in policy order`, () => {
      const rows = parseCsv(generateRegister(policy, { format: 'csv' }));
      const [header, ...body] = rows;
      expect(header).toEqual([
        'Sleutel',
        'Doeleinde',
        'Rechtsgrond',
        'Betrokkenen',
        'Categorieën persoonsgegevens',
        'Rollen met toegang',
        'Ontvangers',
        'Doorgifte buiten de EER',
        'Bewaartermijn',
        'Wettelijke bewaarplicht',
        'Beveiligingsmaatregelen',
      ]);
      expect(body.map((row) => row[0])).toEqual(Object.keys(policy.purposes));
      for (const row of body) expect(row).toHaveLength(11);
    });

    it(`${name}: the Markdown register has a table row per purpose and names the controller and policy version`, () => {
      const md = generateRegister(policy, { format: 'md' });
      const tableRows = md.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| ---'));
      expect(tableRows).toHaveLength(Object.keys(policy.purposes).length + 1);
      expect(md).toContain(policy.controller.enterpriseNumber);
      expect(md).toContain(`Beleidsversie: ${policy.statement.version}`);
    });
  }

  it('a VoiceKing row carries categories with their keys, subjects, recipients with agreements, retention, holds and measures', () => {
    const policy = loadSeedPolicy('voiceking');
    const billing = buildRegisterRows(policy, 'en').find((row) => row.purposeKey === 'billing');
    expect(billing).toMatchObject({
      purpose: 'invoicing and payments',
      legalBasis:
        'the performance of a contract with you (or steps at your request before a contract) (contract)',
      subjectTypes: 'customers; contact persons at customers',
      roles: 'billing',
      recipients: 'invoicing service provider (processor, EU, VK-VWO-INVOICING 2018-05-01)',
      transfers: 'none',
      retention: 'while the contract runs and 3 years after it ends',
      legalHolds:
        'accounting retention obligation (art. III.88 WER; art. 60 WBTW): 10 years, counted from 1 January after the date of the document',
    });
    expect(billing?.categories).toContain('bank account number(s)) [user.financial.bank_account]');
    expect(billing?.securityMeasures).toContain('internal policy on the use of digital documents');
  });

  it('lists a transfer outside the EEA with its safeguard', () => {
    const policy = structuredClone(loadSeedPolicy('voiceking'));
    const recipient = policy.recipients.email_marketing;
    if (recipient === undefined) throw new Error('fixture');
    recipient.country = 'US';
    recipient.transferSafeguard = 'standard_contractual_clauses';
    const row = buildRegisterRows(policy, 'en').find((r) => r.purposeKey === 'newsletter_customers');
    expect(row?.transfers).toBe(
      'e-mail marketing service provider, US (standard contractual clauses of the European Commission)',
    );
  });

  it('defuses spreadsheet formulas and quotes commas in CSV cells', () => {
    const policy = structuredClone(loadSeedPolicy('voxtra'));
    const purpose = policy.purposes.quotes;
    if (purpose === undefined) throw new Error('fixture');
    purpose.label.nl = '=HYPERLINK("http://evil")';
    const rows = parseCsv(generateRegister(policy, { format: 'csv', lang: 'nl' }));
    expect(rows.find((row) => row[0] === 'quotes')?.[1]).toBe('\'=HYPERLINK("http://evil")');
  });
});
