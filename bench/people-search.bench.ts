import { readFile } from 'node:fs/promises';
import pg from 'pg';
import {
  createPeopleInBulk,
  findPeopleByContact,
  type UseCaseContext,
} from '../src/modules/parties/index.js';
import { createTenant } from '../src/modules/tenants/index.js';
import { readPersonBare } from './bare-read.js';
import { ownerQuery, pairedMs, type BenchDatabase, type Figure } from './harness.js';

/** People in the tenant: `--people=N` or KLUIS_BENCH_PEOPLE scales it down (the output says the size). */
export const SEARCH_PEOPLE = Number(
  process.argv.find((arg) => arg.startsWith('--people='))?.slice('--people='.length) ??
    process.env.KLUIS_BENCH_PEOPLE ??
    1_000_000,
);
const SEARCHED = 50;
const SEARCHES = 200;
const REPEATS = 5;

/**
 * Search by e-mail (blind index) in a tenant of SEARCH_PEOPLE people: `findPeopleByContact` (gate
 * for the search, keyed hash, index lookup, gate and audit for the read, decryption) against a
 * bare indexed lookup of the same rows (the keyed hash, the same person statement by blind index,
 * decryption, in a tenant transaction, no gate, no audit).
 *
 * The tenant is filled by the database owner with one INSERT … SELECT: the filler people's blind
 * indexes are 16 pseudo-random bytes (md5 of a counter), which is what a truncated HMAC-SHA-256
 * looks like to the index, so the index has the size and shape of a real one. The SEARCHED people
 * who are searched for are created through the service (real keyed hashes, encrypted e-mail).
 */
export async function benchPeopleSearch(bench: BenchDatabase): Promise<Figure[]> {
  const { kernel } = bench;
  if (!Number.isInteger(SEARCH_PEOPLE) || SEARCH_PEOPLE < SEARCHED) {
    throw new Error(`bench search: --people must be an integer ≥ ${SEARCHED}`);
  }
  const tenant = await createTenant(bench.db, { slug: 'bench-search', name: 'Search bench' });
  await kernel.policies.install(
    tenant.tenantId,
    await readFile('policies/voiceking.yaml', 'utf8'),
    'policies/voiceking.yaml',
  );
  const owner = new pg.Client({ connectionString: bench.ownerUrl });
  await owner.connect();
  const fillStarted = Date.now();
  try {
    await owner.query(
      `with subjects as (
         insert into data_subjects (tenant_id, subject_type)
         select $1, 'customer' from generate_series(1, $2::int)
         returning subject_id)
       insert into people (tenant_id, subject_id, family_name, given_name, email_bidx)
       select $1, subject_id, 'Filler' || subject_id, 'Bulk', decode(md5('bench-bidx-' || subject_id), 'hex')
       from subjects`,
      [tenant.tenantId, SEARCH_PEOPLE - SEARCHED],
    );
  } finally {
    await owner.end();
  }
  const context: UseCaseContext = {
    tenantId: tenant.tenantId,
    actor: { kind: 'staff', staffId: 1, role: 'sales' },
    purpose: 'order_processing',
  };
  const emails = Array.from({ length: SEARCHED }, (_, i) => `searched${i}@bench.example`);
  await createPeopleInBulk(
    kernel,
    context,
    emails.map((email, i) => ({
      subjectType: 'customer',
      familyName: `Searched${i}`,
      givenName: 'Sam',
      gender: null,
      preferredLanguage: 'nl',
      email,
      phone: `+3247200${String(i).padStart(4, '0')}`,
      birthDate: null,
      address: null,
      jobTitle: null,
      jobFunction: null,
      decisionAuthority: null,
      notes: null,
      organisationId: null,
      source: 'data_subject',
    })),
  );
  await ownerQuery(bench.ownerUrl, 'analyze data_subjects, people');
  const fillSeconds = (Date.now() - fillStarted) / 1000;
  const reader: UseCaseContext = { ...context, actor: { kind: 'staff', staffId: 1, role: 'billing' } };
  const pick = (i: number): string => emails[i % emails.length] ?? '';
  const timings = await pairedMs(
    REPEATS,
    async () => {
      for (let i = 0; i < SEARCHES; i += 1) {
        const [found] = await findPeopleByContact(kernel, reader, { email: pick(i) });
        if (found?.email !== pick(i)) throw new Error('bench search: gated search missed');
      }
    },
    async () => {
      for (let i = 0; i < SEARCHES; i += 1) {
        const emailBidx = await kernel.keys.blindIndex(tenant.tenantId, 'email', pick(i));
        const found = await readPersonBare(bench.db, kernel, tenant.tenantId, { emailBidx });
        if (found?.email !== pick(i)) throw new Error('bench search: bare lookup missed');
      }
    },
  );
  const size = SEARCH_PEOPLE.toLocaleString('en');
  return [
    {
      scenario: 'search',
      metric: `${SEARCHES} searches by e-mail (blind index) in a tenant of ${size} people, gate + audit`,
      value: (SEARCHES / timings.ours.median) * 1000,
      unit: 'searches/s',
      baseline: {
        what: 'the keyed hash and a bare indexed lookup of the same row, decrypted, no gate, no audit',
        value: (SEARCHES / timings.baseline.median) * 1000,
        unit: 'searches/s',
      },
      ratio: timings.ratio.median,
      ratioRange: [timings.ratio.min, timings.ratio.max],
      note: `ratio = our rate / bare rate; ${size} people (filled in ${fillSeconds.toFixed(0)} s by INSERT … SELECT); one search = ${(timings.ours.median / SEARCHES).toFixed(1)} ms ours, ${(timings.baseline.median / SEARCHES).toFixed(1)} ms bare`,
    },
  ];
}
