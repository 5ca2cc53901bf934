import type { TenantTables } from '../modules/tenants/tenant.tables.js';
import type { StaffTables } from '../modules/staff/staff.tables.js';
import type { StaffSessionTables } from '../modules/staff/session.tables.js';
import type { AuditTables } from '../kernel/audit/audit.tables.js';
import type { TenantPolicyTables } from '../kernel/tenant-policy/tenant-policy.tables.js';
import type { SubjectTables } from '../kernel/subjects/subject.tables.js';
import type { PartiesTables } from '../modules/parties/people.tables.js';
import type { RequestsTables } from '../modules/requests/requests.tables.js';
import type { TelephonyTables } from '../modules/telephony/telephony.tables.js';
import type { ContractsTables } from '../modules/contracts/contracts.tables.js';
import type { BillingTables } from '../modules/billing/billing.tables.js';
import type { ErasureTables } from '../kernel/erasure/erasure.tables.js';
import type { LettersTables } from '../kernel/letters/letters.tables.js';
import type { ThrottleTables } from '../modules/throttle/throttle.tables.js';
import type { RetentionTables } from '../modules/retention/retention.tables.js';
import type { FirstRunTables } from '../bootstrap.tables.js';
import type { DossierTables } from '../modules/dossier/dossier.tables.js';
import type { IdempotencyTables } from '../http/idempotency.tables.js';
import type { ConsentTables } from '../modules/consent/consent.tables.js';
import type { DisclosureTables } from '../kernel/disclosure/disclosure.tables.js';
import type { RecipientsTables } from '../modules/recipients/recipients.tables.js';
import type { CookiesTables } from '../modules/cookies/cookies.tables.js';
import type { PortalTables } from '../modules/portal/portal.tables.js';

/** The typed shape of the whole database, composed from each module's own tables. */
export interface Database
  extends
    TenantTables,
    StaffTables,
    StaffSessionTables,
    TenantPolicyTables,
    SubjectTables,
    AuditTables,
    ErasureTables,
    LettersTables,
    PartiesTables,
    RequestsTables,
    TelephonyTables,
    ContractsTables,
    BillingTables,
    ThrottleTables,
    RetentionTables,
    FirstRunTables,
    DossierTables,
    IdempotencyTables,
    ConsentTables,
    DisclosureTables,
    RecipientsTables,
    CookiesTables,
    PortalTables {}
