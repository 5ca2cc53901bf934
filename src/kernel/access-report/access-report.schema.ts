import { z } from 'zod';

/**
 * The machine-readable access report (GDPR Art. 15). Published as JSON Schema in
 * schema/access-report.schema.json (generated from this file; a test keeps them equal).
 */
/**
 * The report's format. v2 (decision 0491) names each column's category once per table
 * (`data[].columns`) and gives rows as `{"column": value}`; v1 repeated the category in every cell
 * (`{"column": {"category": …, "value": …}}`).
 */
export const ACCESS_REPORT_FORMAT = 'kluis.access-report.v2';

export const AccessReportSchema = z
  .object({
    format: z.literal(ACCESS_REPORT_FORMAT),
    generatedAt: z.string().describe('ISO 8601 instant'),
    language: z.enum(['nl', 'fr', 'en']),
    controller: z.object({
      name: z.string(),
      enterpriseNumber: z.string(),
      address: z.string(),
      email: z.string(),
      privacyContact: z.string(),
    }),
    supervisoryAuthority: z.object({
      name: z.string(),
      address: z.string(),
      email: z.string(),
      website: z.string(),
    }),
    policyVersion: z.string().describe('version of the privacy statement in force'),
    subject: z.object({
      type: z.string(),
      typeLabel: z.string(),
      restricted: z.boolean(),
      objectedToDirectMarketing: z.boolean(),
      consents: z.array(
        z.object({ purpose: z.string(), state: z.string(), since: z.string(), policyVersion: z.string() }),
      ),
    }),
    categories: z.array(
      z.object({
        key: z.string(),
        label: z.string(),
        source: z
          .string()
          .nullable()
          .describe('where the data came from when not from the person (e.g. a credit bureau)'),
        retention: z.array(
          z.object({ rule: z.string(), kind: z.string(), description: z.string().nullable() }),
        ),
        legalHolds: z.array(z.object({ key: z.string(), label: z.string(), legalReference: z.string() })),
        purposes: z.array(z.string()),
      }),
    ),
    data: z
      .array(
        z.object({
          table: z.string().describe('where the data is kept'),
          module: z.string().describe('the part of the service that keeps it'),
          columns: z
            .record(z.string(), z.string())
            .describe(
              'each column a row of this table may name, with its data category (a key of a category described under `categories` when a row holds a value for it)',
            ),
          rows: z
            .array(z.record(z.string(), z.unknown()))
            .describe('one object per row: column → value; a column without a value is left out'),
        }),
      )
      .describe('the tables that hold data about the person, each with at least one row'),
    purposes: z.array(
      z.object({
        key: z.string(),
        label: z.string(),
        legalBasis: z.string(),
        categories: z.array(z.string()),
      }),
    ),
    recipients: z.array(
      z.object({
        key: z.string(),
        label: z.string(),
        kind: z.string(),
        country: z.string(),
        categories: z.array(z.string()),
        purposes: z.array(z.string()),
      }),
    ),
    disclosures: z.array(
      z.object({
        at: z.string(),
        recipient: z.string(),
        legalGround: z.string(),
        categories: z.array(z.string()),
      }),
    ),
    consultations: z
      .array(
        z.object({
          date: z.string().describe('the day (YYYY-MM-DD, Belgian time)'),
          by: z
            .enum(['staff', 'you', 'system'])
            .describe('a staff member (named by role only), the person themself, or an automatic job'),
          role: z
            .string()
            .nullable()
            .describe("a role key of the policy, or the job's role; null for the person"),
          roleLabel: z
            .string()
            .nullable()
            .describe("the role's name in the report's language, when the policy has it"),
          purpose: z
            .string()
            .nullable()
            .describe('the purpose declared (a key of `purposes` when the policy has it)'),
          purposeLabel: z.string().nullable().describe("the purpose's name in the report's language"),
          action: z.enum(['read', 'write', 'export', 'store', 'erase']),
          decision: z
            .enum(['allowed', 'denied'])
            .describe('denied: the access gate refused it and nothing was shown'),
          times: z.number().int().describe('how many such decisions that day'),
        }),
      )
      .describe(
        "who consulted the person's data, when and why (Art. 15(1); CJEU C-579/21): the access gate's decisions naming the person, counted per day, newest first",
      ),
    withheld: z
      .object({
        note: z.string().describe('what is left out and why (GDPR Art. 15(4))'),
        items: z.array(z.object({ table: z.string(), column: z.string(), category: z.string() })),
      })
      .describe(
        "security secrets of the person's accounts (password hashes, second-factor secrets, recovery codes): kept to protect the account, left out of this report",
      ),
    automatedDecisions: z
      .string()
      .describe('existence of automated decision-making, including profiling (Art. 15(1)(h))'),
  })
  .meta({
    title: 'Kluis access report',
    description: 'Everything a provider holds about one person, with why, for how long and from where.',
  });

export type AccessReport = z.infer<typeof AccessReportSchema>;

export function renderAccessReportJsonSchema(): string {
  return `${JSON.stringify(z.toJSONSchema(AccessReportSchema, { target: 'draft-2020-12' }), null, 2)}\n`;
}
