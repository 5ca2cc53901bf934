import { z } from 'zod';
import type { ConsentRecord } from './ledger.repository.js';
import type { ConsentState } from './ledger.service.js';

export const consentRecordSchema = z.object({
  recordId: z.number().int(),
  subjectId: z.number().int(),
  purpose: z.string().nullable().describe('null: the objection to all direct marketing'),
  event: z.enum(['signed_up', 'given', 'withdrawn', 'objected', 'objected_marketing']),
  channel: z.string(),
  recordedAt: z.string(),
  policyVersion: z.string().describe('the privacy statement in force when it was recorded (VK-29)'),
  wording: z
    .object({ hash: z.string(), language: z.string(), text: z.string() })
    .nullable()
    .describe('the exact wording shown or read out, stored by its SHA-256'),
  staffId: z.number().int().nullable(),
  statement: z.string().nullable().describe('what the person said, as noted by staff'),
});

export function presentConsentRecord(record: ConsentRecord): z.infer<typeof consentRecordSchema> {
  return {
    recordId: record.recordId,
    subjectId: record.subjectId,
    purpose: record.purpose,
    event: record.event,
    channel: record.channel,
    recordedAt: record.recordedAt.toISOString(),
    policyVersion: record.policyVersion,
    wording: record.wording,
    staffId: record.staffId,
    statement: record.statement,
  };
}

export const consentStateSchema = z.object({
  purpose: z.string(),
  label: z.string(),
  legalBasis: z.enum(['consent', 'legitimate_interests']),
  marketing: z.boolean(),
  state: z.enum(['consented', 'withdrawn', 'objected', 'pending', 'none']),
  since: z.string().nullable(),
  wording: z.string().describe('the wording shown, and stored with the record, when consent is given'),
});

export const portalConsentsSchema = z.object({
  objectedToDirectMarketing: z.boolean(),
  objectedToDirectMarketingSince: z.string().nullable(),
  purposes: z.array(consentStateSchema),
  history: z.array(consentRecordSchema.omit({ staffId: true, statement: true })),
});

export function presentConsentState(state: ConsentState): z.infer<typeof consentStateSchema> {
  return { ...state, since: state.since?.toISOString() ?? null };
}
