import { sql } from 'kysely';
import type { Tx } from '../../platform/db.js';

/** What this module still holds under a purpose: counts only, no one's data (decision 0982). */
export interface ConsentPurposeUses {
  consentRecords: number;
  mailingsInFlight: number;
}

/**
 * Per purpose of `purposes`, the consent records on file (Art. 7(1): the proof must stay
 * demonstrable) and the mailings drafted or being sent under it; purposes with neither are absent.
 */
export async function readConsentPurposeUses(
  tx: Tx,
  purposes: readonly string[],
): Promise<Map<string, ConsentPurposeUses>> {
  const uses = new Map<string, ConsentPurposeUses>();
  if (purposes.length === 0) return uses;
  const rows = await sql<{ purpose: string; records: number; mailings: number }>`
    select p.purpose,
           (select count(*)::int from consent_records c where c.purpose = p.purpose) as records,
           (select count(*)::int from mailings m where m.purpose = p.purpose and m.state <> 'sent') as mailings
      from unnest(${[...purposes]}::text[]) as p(purpose)`.execute(tx);
  for (const row of rows.rows) {
    if (row.records > 0 || row.mailings > 0)
      uses.set(row.purpose, { consentRecords: row.records, mailingsInFlight: row.mailings });
  }
  return uses;
}
