import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { openCliWorkspace, type CliWorkspace } from '../../../test/cli-workspace.js';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { parseStructuredCommunication } from '../../kernel/identifiers/structured-communication.js';
import type { Tenant } from '../tenants/index.js';
import { setRestriction } from '../../kernel/subjects/index.js';
import { createOrganisation, createPerson, rectifyPerson, updateOrganisation } from '../parties/index.js';
import { addBankAccount } from './index.js';
import {
  billingContext,
  contractPurpose,
  createCustomer,
  prepareTenant,
  startContract,
  SYSTEM,
} from './billing.test-helpers.js';

let workspace: CliWorkspace;
let database: TestDatabase;
let kernel: Kernel;
let tenant: Tenant;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  workspace = await openCliWorkspace('kluis-billing-cli-');
  ({ database, kernel, env, dir } = workspace);
  tenant = await createPolicyTenant(kernel, 'voiceking');
  const catalogue = await prepareTenant(kernel, tenant);
  for (const name of ['Claes', 'Maes', 'Jacobs']) {
    const id = await createCustomer(kernel, tenant, { familyName: name });
    await startContract(kernel, tenant, id, {
      startDate: '2026-01-01',
      lines: [{ productId: catalogue.subscription }],
    });
  }
});
afterAll(async () => workspace.close());

/** `kluis invoices run` of June 2026 for `tenant`, issued on 1 July. */
const juneRunArgs = (tenant: Tenant): string[] => [
  'invoices',
  'run',
  '--tenant',
  tenant.slug,
  '--period',
  '2026-06',
  '--issue-date',
  '2026-07-01',
  '--calls-purpose',
  'call_billing',
];

describe('kluis invoices / payments (VX-3)', () => {
  it('VX-3: `kluis invoices run` bills a month once; `kluis payments import` matches a statement by OGM; `kluis payments unmatched` lists the rest and `kluis payments match` matches one by hand', async () => {
    const args = juneRunArgs(tenant);
    const first = await runCli(args, env, 120_000);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(
      '2026-06: 3 invoices (F2026-000001 … F2026-000003), total € 54.45 incl. VAT',
    );
    const second = await runCli(args, env, 120_000);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('2026-06: 0 invoices');
    expect(second.stdout).toContain('3 already billed');

    const invoices = await runAsOwner<{ invoice_number: string; structured_communication: string }>(
      database.ownerUrl,
      'select invoice_number, structured_communication from invoices where tenant_id = $1 order by number',
      [tenant.tenantId],
    );
    const ogm = parseStructuredCommunication(invoices.rows[0]?.structured_communication ?? '');
    const file = path.join(dir, 'statement.csv');
    await writeFile(
      file,
      `date;amount;communication;reference\n2026-07-10;18,15;${ogm.ok ? ogm.formatted : ''};CODA-1\n2026-07-11;3,00;;CODA-2\n`,
    );
    const imported = await runCli(['payments', 'import', '--tenant', tenant.slug, file], env, 120_000);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain('2 lines: 2 imported (1 matched, 1 unmatched), 0 already imported');

    // The unmatched line is listed, and matched by hand to the second invoice.
    const unmatched = await runCli(['payments', 'unmatched', '--tenant', tenant.slug], env, 120_000);
    expect(unmatched.code).toBe(0);
    expect(unmatched.stdout).toContain('CODA-2');
    expect(unmatched.stdout).toContain('1 unmatched payments');
    const payment = await runAsOwner<{ payment_id: number }>(
      database.ownerUrl,
      "select payment_id from payments where tenant_id = $1 and bank_reference = 'CODA-2'",
      [tenant.tenantId],
    );
    const secondInvoice = await runAsOwner<{ invoice_id: number }>(
      database.ownerUrl,
      "select invoice_id from invoices where tenant_id = $1 and invoice_number = 'F2026-000002'",
      [tenant.tenantId],
    );
    const matched = await runCli(
      [
        'payments',
        'match',
        '--tenant',
        tenant.slug,
        String(payment.rows[0]?.payment_id),
        String(secondInvoice.rows[0]?.invoice_id),
      ],
      env,
      120_000,
    );
    expect(matched.stderr).toBe('');
    expect(matched.stdout).toContain('matched to F2026-000002: partially_paid, 15.15 still due');
    const again = await runCli(['payments', 'unmatched', '--tenant', tenant.slug], env, 120_000);
    expect(again.stdout).toContain('0 unmatched payments');

    await writeFile(file, 'date;amount;communication;reference\nyesterday;18,15;;CODA-3\n');
    const refused = await runCli(['payments', 'import', '--tenant', tenant.slug, file], env, 120_000);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('line 2: date: expected YYYY-MM-DD or DD/MM/YYYY');
  });

  it('a month that has not ended is refused with a clear message', async () => {
    const result = await runCli(
      ['invoices', 'run', '--tenant', tenant.slug, '--period', '2026-06', '--issue-date', '2026-06-15'],
      env,
      120_000,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('issueDate: a month is billed once it has ended');
  });

  it('a month that has not started is refused with a clear message and bills nothing (attack S7-8)', async () => {
    const before = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from invoices where tenant_id = $1',
      [tenant.tenantId],
    );
    // The CLI runs on the real clock: a month two years ahead has not started.
    const year = new Date().getUTCFullYear() + 2;
    const result = await runCli(
      ['invoices', 'run', '--tenant', tenant.slug, '--period', `${year}-01`, '--issue-date', `${year}-02-01`],
      env,
      120_000,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`period ${year}-01 has not started yet`);
    const after = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from invoices where tenant_id = $1',
      [tenant.tenantId],
    );
    expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
  });

  it('VX-3: `kluis invoices run` names the customers the gate refused and why: a restricted customer and a contract held by a contact person whom the calls purpose does not cover are told apart, not a bare count (attack S20-17, decision 0929)', async () => {
    const own = await createPolicyTenant(kernel, 'voiceking');
    const catalogue = await prepareTenant(kernel, own);
    const billed = await createCustomer(kernel, own, { familyName: 'Billed' });
    const restricted = await createCustomer(kernel, own, { familyName: 'Restricted' });
    const contact = await createPerson(
      kernel,
      { tenantId: own.tenantId, actor: SYSTEM, purpose: contractPurpose(own) },
      { subjectType: 'contact_person', familyName: 'Contact', givenName: 'Org' },
    );
    for (const id of [billed, restricted]) {
      await startContract(kernel, own, id, {
        startDate: '2026-01-01',
        lines: [{ productId: catalogue.subscription }],
      });
    }
    // A contact person's contract is refused since decision 0941; one made before it is moved to
    // the contact person here, as such a contract stays in a database made earlier.
    const legacy = await startContract(kernel, own, billed, {
      startDate: '2026-01-01',
      lines: [{ productId: catalogue.subscription }],
    });
    await runAsOwner(
      database.ownerUrl,
      'update contracts set subject_id = $3 where tenant_id = $1 and contract_id = $2',
      [own.tenantId, legacy, contact.subjectId],
    );
    await kernel.transact(own.tenantId, (atx) => setRestriction(atx, restricted, true, kernel.clock.now()));
    const run = await runCli(juneRunArgs(own), env, 120_000);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('2026-06: 1 invoices');
    expect(run.stdout).toContain('2 refused');
    expect(run.stdout).toContain(`refused (subject_restricted): customer(s) ${restricted}`);
    expect(run.stdout).toContain(
      `refused (category_not_kept_for_subject_type): customer(s) ${contact.subjectId}`,
    );
  });
  it("VX-3: `kluis invoices run` bills the other customers when one customer's address or direct-debit IBAN cannot be opened with this key store, and names that customer refused (field_unreadable) instead of failing the month (decision 1241)", async () => {
    const own = await createPolicyTenant(kernel, 'voiceking');
    const catalogue = await prepareTenant(kernel, own);
    const readable = await createCustomer(kernel, own, { familyName: 'Leesbaar' });
    const broken = await createCustomer(kernel, own, { familyName: 'Onleesbaar' });
    const debtor = await createCustomer(kernel, own, { familyName: 'Domicilie' });
    for (const id of [readable, broken, debtor]) {
      await startContract(kernel, own, id, {
        startDate: '2026-01-01',
        lines: [{ productId: catalogue.subscription }],
      });
    }
    // Another data key's ciphertext in the row: what data and a key store of different backups look like.
    await runAsOwner(
      database.ownerUrl,
      `update people set address_enc = (select address_enc from people where tenant_id = $1 and subject_id = $2)
        where tenant_id = $1 and subject_id = $3`,
      [own.tenantId, readable, broken],
    );
    // The same for the IBAN of a direct-debit mandate (attack S25-1).
    for (const [subjectId, iban] of [
      [readable, 'BE68539007547034'],
      [debtor, 'BE71096123456769'],
    ] as const) {
      await addBankAccount(kernel, billingContext(own), subjectId, {
        iban,
        directDebitMandate: `MANDATE-${subjectId}`,
        mandateSignedOn: '2026-01-01',
      });
    }
    await runAsOwner(
      database.ownerUrl,
      `update bank_accounts set iban_enc = (select iban_enc from bank_accounts where tenant_id = $1 and subject_id = $2)
        where tenant_id = $1 and subject_id = $3`,
      [own.tenantId, readable, debtor],
    );
    const args = juneRunArgs(own);
    const run = await runCli(args, env, 120_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('2026-06: 1 invoices');
    expect(run.stdout).toContain(`refused (field_unreadable): customer(s) ${broken}, ${debtor}`);
    expect(run.stdout).toContain('cannot be opened with this key store');
    const invoiced = await runAsOwner<{ subject_id: string; buyer_name: string }>(
      database.ownerUrl,
      'select subject_id::text, buyer_name from invoices where tenant_id = $1 order by subject_id',
      [own.tenantId],
    );
    expect(invoiced.rows).toEqual([{ subject_id: String(readable), buyer_name: 'An Leesbaar' }]);
    // Set right (the address written again), the next run bills the customer it left out, once.
    // (Cleared instead, the customer would have no address and wait for one: decision 1290.)
    await rectifyPerson(
      kernel,
      { tenantId: own.tenantId, actor: SYSTEM, purpose: contractPurpose(own) },
      broken,
      {
        address: { street: 'Veldstraat 1', postalCode: '9000', city: 'Gent', country: 'BE' },
      },
    );
    await runAsOwner(
      database.ownerUrl,
      'delete from bank_accounts where tenant_id = $1 and subject_id = $2',
      [own.tenantId, debtor],
    );
    const again = await runCli(args, env, 120_000);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('2026-06: 2 invoices');
    expect(again.stdout).toContain('1 already billed');
  });
  it('VX-3: `kluis invoices run` holds back a customer with no postal address, private or billed to an organisation that has none, as refused (billing_address_missing), bills the others without a number gap, and bills them once when the address is recorded (decision 1290)', async () => {
    const own = await createPolicyTenant(kernel, 'voiceking');
    const catalogue = await prepareTenant(kernel, own);
    const people = { tenantId: own.tenantId, actor: SYSTEM, purpose: contractPurpose(own) };
    const addressed = await createCustomer(kernel, own, { familyName: 'Adres' });
    const homeless = (
      await createPerson(kernel, people, {
        subjectType: 'customer',
        familyName: 'Zonderadres',
        givenName: 'Ward',
      })
    ).subjectId;
    // A business customer is billed at its organisation's address, never at its contact's home
    // (which this contact has): an organisation with neither a registered nor a billing address.
    const company = await createOrganisation(kernel, own.tenantId, {
      name: 'Transport Zonderadres BV',
      enterpriseNumber: '0417.497.106',
    });
    const contact = await createCustomer(kernel, own, {
      familyName: 'Contact',
      organisationId: company.organisationId,
    });
    for (const [id, organisationId] of [
      [addressed, undefined],
      [homeless, undefined],
      [contact, company.organisationId],
    ] as const) {
      await startContract(kernel, own, id, {
        startDate: '2026-01-01',
        ...(organisationId ? { organisationId } : {}),
        lines: [{ productId: catalogue.subscription }],
      });
    }
    const invoices = async () =>
      (
        await runAsOwner<{
          subject_id: string;
          invoice_number: string;
          street: string | null;
          country: string | null;
        }>(
          database.ownerUrl,
          `select subject_id::text, invoice_number, buyer_street as street, buyer_country as country
             from invoices where tenant_id = $1 order by number`,
          [own.tenantId],
        )
      ).rows;
    const args = juneRunArgs(own);
    const run = await runCli(args, env, 120_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('2026-06: 1 invoices (F2026-000001 … F2026-000001)');
    expect(run.stdout).toContain('3 customers to bill, 0 with nothing to bill, 0 already billed, 2 refused');
    expect(run.stdout).toContain(
      `refused (billing_address_missing): customer(s) ${[homeless, contact].sort((a, b) => a - b).join(', ')}`,
    );
    expect(run.stdout).toContain('no postal address to invoice them at');
    expect(await invoices()).toEqual([
      {
        subject_id: String(addressed),
        invoice_number: 'F2026-000001',
        street: 'Veldstraat 1',
        country: 'BE',
      },
    ]);

    // The addresses recorded (the person's through a correction, the company's billing address),
    // the next run bills the two it held back, once, numbered on from the first.
    await rectifyPerson(kernel, people, homeless, {
      address: { street: 'Kerkstraat 9', postalCode: '2000', city: 'Antwerpen', country: 'BE' },
    });
    await updateOrganisation(kernel, own.tenantId, company.organisationId, {
      billingAddress: { street: 'Havenlaan 5', postalCode: '1000', city: 'Brussel', country: 'BE' },
    });
    const again = await runCli(args, env, 120_000);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('2026-06: 2 invoices (F2026-000002 … F2026-000003)');
    expect(again.stdout).toContain('1 already billed, 0 refused');
    const third = await runCli(args, env, 120_000);
    expect(third.stdout).toContain('2026-06: 0 invoices');
    expect(third.stdout).toContain('3 already billed, 0 refused');
    const billed = await invoices();
    expect(billed.map((row) => row.invoice_number)).toEqual(['F2026-000001', 'F2026-000002', 'F2026-000003']);
    expect(new Set(billed.map((row) => row.subject_id))).toEqual(
      new Set([addressed, homeless, contact].map(String)),
    );
    expect(billed.find((row) => row.subject_id === String(homeless))).toMatchObject({
      street: 'Kerkstraat 9',
    });
    expect(billed.find((row) => row.subject_id === String(contact))).toMatchObject({ street: 'Havenlaan 5' });
  });
});
