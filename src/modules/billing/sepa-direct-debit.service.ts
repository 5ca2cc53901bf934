import { sql } from 'kysely';
import type { Grant } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tx } from '../../platform/db.js';
import { authorize, authorizeBatch, conflict, invalid, type BillingContext } from './access.js';
import { formatAmount } from './amounts.js';
import { BILLING_CATEGORIES as C } from './datamap.js';
import { selectBankAccounts } from './financial.repository.js';
import { selectBuyers } from './invoice.repository.js';
import { loadSeller } from './settings.service.js';
import { escapeXml } from './ubl.js';

/** What a collection file reads of each debtor. */
const COLLECTION_CATEGORIES = [C.name, C.bankAccount, C.payment];

export interface DirectDebitCollection {
  /** The pain.008.001.02 document. */
  xml: string;
  /** The message id (also the file's name). */
  messageId: string;
  transactions: number;
  totalCents: number;
  /** Invoices due for collection that could not be collected, with the reason (no mandate date …). */
  skipped: Array<{ invoiceNumber: string; reason: string }>;
}

/**
 * The SEPA direct-debit collection file (ISO 20022 pain.008.001.02, SEPA Core) for a collection
 * date: every invoice with a mandate whose amount is still due and whose due date is on or before
 * the collection date, for what is still due. Each transaction carries the mandate (id and date of
 * signature), the debtor's current IBAN (decrypted through the gate's grant), the invoice number
 * as end-to-end id and the structured communication as Belgian creditor reference (BBA). Reads
 * user.name, user.financial.bank_account and kluis.billing.payment under the context's purpose;
 * customers the gate refuses are skipped and their refusals audited. Nothing is written: the
 * payments come back on the bank statement (decision 0263).
 */
export async function createDirectDebitCollection(
  kernel: Kernel,
  context: BillingContext,
  collectionDate: string,
): Promise<DirectDebitCollection> {
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(collectionDate) ||
    Number.isNaN(Date.parse(`${collectionDate}T00:00:00Z`))
  ) {
    throw invalid('collectionDate: expected a date as YYYY-MM-DD', { field: 'collectionDate' });
  }
  const { policy } = await kernel.policies.current(context.tenantId);
  // A purpose or role that does not cover what a collection reads is refused by the gate itself
  // (403 with its code, audited), like any other out-of-purpose read: asked for no one yet, so
  // the refusal cannot be taken for one customer's.
  await kernel.transact(context.tenantId, (atx) =>
    authorize(kernel, atx, context, 'read', COLLECTION_CATEGORIES, []),
  );
  const seller = await loadSeller(kernel, context.tenantId, policy);
  const creditorId = seller.snapshot.sepaCreditorId;
  if (!creditorId) throw conflict('set the SEPA creditor identifier in the billing settings first');
  const now = kernel.clock.now();
  return kernel.transact(context.tenantId, async (atx) => {
    const subjects = await locateCollectableSubjects(atx.tx, collectionDate);
    const { grant, refused } = await authorizeBatch(
      kernel,
      atx,
      context,
      'read',
      COLLECTION_CATEGORIES,
      subjects,
    );
    const rows = await selectCollectableInvoices(atx.tx, grant, collectionDate, subjects);
    const allowed = rows.filter((row) => !refused.includes(row.subject_id));
    if (allowed.length === 0)
      throw conflict(`no direct-debit invoice is due for collection on ${collectionDate}`);
    const buyers = await selectBuyers(
      atx.tx,
      grant,
      allowed.map((row) => row.invoice_id),
    );
    const accounts = await selectBankAccounts(
      atx.tx,
      grant,
      allowed.map((row) => row.subject_id),
      { mandatesOnly: true },
    );
    const skipped: DirectDebitCollection['skipped'] = [];
    const transactions: string[] = [];
    let totalCents = 0;
    for (const row of allowed) {
      const buyer = buyers.get(row.invoice_id);
      const account = accounts.find(
        (candidate) =>
          candidate.subjectId === row.subject_id && candidate.directDebitMandate === buyer?.mandate,
      );
      if (!buyer?.name || !account?.iban || !account.directDebitMandate) {
        skipped.push({ invoiceNumber: row.invoice_number, reason: 'the mandate is no longer on file' });
        continue;
      }
      if (!account.mandateSignedOn) {
        skipped.push({ invoiceNumber: row.invoice_number, reason: 'the mandate has no date of signature' });
        continue;
      }
      totalCents += row.balance;
      transactions.push(
        [
          '      <DrctDbtTxInf>',
          `        <PmtId><EndToEndId>${escapeXml(row.invoice_number)}</EndToEndId></PmtId>`,
          `        <InstdAmt Ccy="EUR">${formatAmount(row.balance)}</InstdAmt>`,
          '        <DrctDbtTx><MndtRltdInf>' +
            `<MndtId>${escapeXml(account.directDebitMandate)}</MndtId>` +
            `<DtOfSgntr>${account.mandateSignedOn}</DtOfSgntr>` +
            '</MndtRltdInf></DrctDbtTx>',
          // IBAN-only: the debtor's bank is not asked for (SEPA since 2016).
          '        <DbtrAgt><FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId></DbtrAgt>',
          `        <Dbtr><Nm>${escapeXml(buyer.name.slice(0, 70))}</Nm></Dbtr>`,
          `        <DbtrAcct><Id><IBAN>${escapeXml(account.iban.replace(/\s/g, ''))}</IBAN></Id></DbtrAcct>`,
          '        <RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>BBA</Issr></Tp>' +
            `<Ref>${row.structured_communication}</Ref></CdtrRefInf></Strd></RmtInf>`,
          '      </DrctDbtTxInf>',
        ].join('\n'),
      );
    }
    const stamp = now.toISOString().replace(/[-:]/g, '').slice(0, 15);
    const messageId = `KLUIS-DD-${collectionDate.replaceAll('-', '')}-${stamp}`.slice(0, 35);
    const count = transactions.length;
    const sum = formatAmount(totalCents);
    const creditorName = escapeXml(
      (seller.snapshot.legalForm
        ? `${seller.snapshot.legalName} ${seller.snapshot.legalForm}`
        : seller.snapshot.legalName
      ).slice(0, 70),
    );
    const creditorAgent = seller.snapshot.payeeBic
      ? `<BIC>${escapeXml(seller.snapshot.payeeBic)}</BIC>`
      : '<Othr><Id>NOTPROVIDED</Id></Othr>';
    const xml = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
      '  <CstmrDrctDbtInitn>',
      '    <GrpHdr>',
      `      <MsgId>${messageId}</MsgId>`,
      `      <CreDtTm>${now.toISOString().slice(0, 19)}</CreDtTm>`,
      `      <NbOfTxs>${count}</NbOfTxs>`,
      `      <CtrlSum>${sum}</CtrlSum>`,
      `      <InitgPty><Nm>${creditorName}</Nm></InitgPty>`,
      '    </GrpHdr>',
      '    <PmtInf>',
      `      <PmtInfId>${messageId}</PmtInfId>`,
      '      <PmtMtd>DD</PmtMtd>',
      `      <NbOfTxs>${count}</NbOfTxs>`,
      `      <CtrlSum>${sum}</CtrlSum>`,
      // RCUR also for a mandate's first collection: allowed by the SEPA rulebook since 2016.
      '      <PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl><LclInstrm><Cd>CORE</Cd></LclInstrm><SeqTp>RCUR</SeqTp></PmtTpInf>',
      `      <ReqdColltnDt>${collectionDate}</ReqdColltnDt>`,
      `      <Cdtr><Nm>${creditorName}</Nm></Cdtr>`,
      `      <CdtrAcct><Id><IBAN>${escapeXml(seller.snapshot.payeeIban.replace(/\s/g, ''))}</IBAN></Id></CdtrAcct>`,
      `      <CdtrAgt><FinInstnId>${creditorAgent}</FinInstnId></CdtrAgt>`,
      '      <ChrgBr>SLEV</ChrgBr>',
      '      <CdtrSchmeId><Id><PrvtId><Othr>' +
        `<Id>${escapeXml(creditorId)}</Id><SchmeNm><Prtry>SEPA</Prtry></SchmeNm>` +
        '</Othr></PrvtId></Id></CdtrSchmeId>',
      ...transactions,
      '    </PmtInf>',
      '  </CstmrDrctDbtInitn>',
      '</Document>',
      '',
    ].join('\n');
    return { xml, messageId, transactions: count, totalCents, skipped };
  });
}

const COLLECTABLE = (collectionDate: string) => sql<boolean>`i.kind = 'invoice'
  and i.buyer_mandate is not null and d.erased_at is null
  and i.due_date <= ${collectionDate}::date
  and i.total_incl_vat_cents - i.credited_cents - i.paid_cents > 0`;

/** Customers with a direct-debit invoice due for collection (a locator: subject ids only). */
async function locateCollectableSubjects(tx: Tx, collectionDate: string): Promise<number[]> {
  const result = await sql<{ subject_id: number }>`
    select distinct i.subject_id from invoices i
      join data_subjects d on d.tenant_id = i.tenant_id and d.subject_id = i.subject_id
     where ${COLLECTABLE(collectionDate)}`.execute(tx);
  return result.rows.map((row) => row.subject_id);
}

/** The collectable invoices of the customers the grant covers, with what is still due. */
async function selectCollectableInvoices(
  tx: Tx,
  grant: Grant,
  collectionDate: string,
  subjectIds: readonly number[],
): Promise<
  Array<{
    invoice_id: number;
    invoice_number: string;
    subject_id: number;
    structured_communication: string;
    balance: number;
  }>
> {
  const covered = subjectIds.filter((id) => grant.subjectIds.has(id));
  if (covered.length === 0) return [];
  for (const id of covered) grant.assertCovers(C.payment, id);
  const result = await sql<{
    invoice_id: number;
    invoice_number: string;
    subject_id: number;
    structured_communication: string;
    balance: string;
  }>`
    select i.invoice_id, i.invoice_number, i.subject_id, i.structured_communication,
           (i.total_incl_vat_cents - i.credited_cents - i.paid_cents)::bigint as balance
      from invoices i
      join data_subjects d on d.tenant_id = i.tenant_id and d.subject_id = i.subject_id
     where ${COLLECTABLE(collectionDate)} and i.subject_id = any(${covered}::bigint[])
     order by i.invoice_id`.execute(tx);
  return result.rows.map((row) => ({ ...row, balance: Number(row.balance) }));
}
