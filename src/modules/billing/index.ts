// The billing module's public surface (VX-3, VX-8, VK-2, VK-14): bank accounts, credit scores,
// the monthly invoice run, credit notes, payments, Peppol UBL and HTML documents, retention.
export { defaultPurpose, purposeOf, type BillingContext, type BillingWork } from './access.js';
export { billingDataMap, BILLING_CATEGORIES, ACCOUNTING_HOLD } from './datamap.js';
export type { BillingTables } from './billing.tables.js';
export {
  addBankAccount,
  listBankAccounts,
  recordCreditScore,
  listCreditScores,
  type BankAccountRecord,
  type CreditScoreRecord,
  type AddBankAccountInput,
  type RecordCreditScoreInput,
} from './financial.service.js';
export {
  setBillingSettings,
  getBillingSettings,
  SETTINGS_ROLES,
  type ReminderSchedule,
  type BillingSettings,
  type BillingSettingsInput,
} from './settings.service.js';
export { setContractBillingOptions, type ContractBillingOptions } from './contract-options.service.js';
export {
  runInvoices,
  BILLING_ADDRESS_MISSING,
  CALL_BILLING_PURPOSE,
  type InvoiceRunOptions,
  type InvoiceRunSummary,
} from './invoice-run.service.js';
export {
  getInvoice,
  listInvoices,
  createCreditNote,
  statusOf,
  type InvoiceDocument,
  type InvoiceSummary,
  type InvoiceStatus,
  type CreditNoteInput,
} from './invoice.service.js';
export {
  holdNumberingAfterRestore,
  numberingHoldsInSchema,
  describeNumberingHolds,
  resumeNumbering,
  parseIssuedNumber,
  describeCounterSet,
  NUMBERING_HELD,
  type HeldTenant,
  type IssuedNumber,
  type NumberingResumed,
} from './numbering-hold.js';
export { getInvoiceUbl, getInvoiceHtml, getInvoicePdf } from './documents.service.js';
export { selectBilledSubjectsOfMonth } from './invoice.repository.js';
export { importPayments, parseStatementCsv, type PaymentImportSummary } from './payment.service.js';
export { parseCoda, isCoda } from './coda.js';
export { createDirectDebitCollection, type DirectDebitCollection } from './sepa-direct-debit.service.js';
export {
  listUnmatchedPayments,
  matchPayment,
  type UnmatchedPayment,
  type PaymentMatch,
} from './payment-matching.service.js';
export { releaseExpiredInvoices, type InvoiceReleaseResult } from './retention.service.js';
export { registerBillingRoutes } from './billing.routes.js';
export {
  readDocumentHolds,
  countReleasableInvoices,
  readOpenDisputes,
  readDisputedMonths,
  type DocumentHold,
} from './retention-clocks.js';
export { readCallMonthBilling, readCallMonthBillingOf, type CallMonthBilling } from './call-months.js';
export { disputeInvoice, settleDispute, disputeInputSchema, type InvoiceDispute } from './dispute.service.js';
export {
  openAccountingCsv,
  parseAccountingPeriod,
  ACCOUNTING_CSV_COLUMNS,
  type AccountingPeriod,
} from './accounting-export.service.js';
export {
  runDunning,
  listInvoiceReminders,
  markSentForCollection,
  closeCollection,
  type CollectionState,
  findInvoiceId,
  DUNNING_ACTOR,
  type DunningSummary,
  type InvoiceDunning,
  type InvoiceReminder,
} from './dunning.service.js';
