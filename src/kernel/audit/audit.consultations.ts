/**
 * Who consulted a person's data, for the person's own access report (GDPR Art. 15; the dates and
 * purposes of consultations, CJEU C-579/21): the audit entries naming the person, counted per
 * day, kind of actor, role, purpose, action and decision. Staff are named by role only, never by
 * name or id. docs/decisions/0590-the-access-report-says-who-consulted-the-data.md.
 */
import { sql } from 'kysely';
import { AppError } from '../../platform/errors.js';
import type { Tx } from '../../platform/db.js';
import type { Grant } from '../gate/gate.js';
import type { Language, Policy } from '../policy/policy.schema.js';
import type { AuditedTx } from './audit.service.js';

/** The gate's access decisions on personal data; the log's other entries are about accounts and keys. */
const CONSULTING_ACTIONS = ['read', 'write', 'export', 'store', 'erase'] as const;

export interface Consultation {
  /** The day, in Belgian time. */
  date: string;
  by: 'staff' | 'you' | 'system';
  /** The staff member's role or the job's role; null for the person themself. */
  role: string | null;
  roleLabel: string | null;
  purpose: string | null;
  purposeLabel: string | null;
  action: (typeof CONSULTING_ACTIONS)[number];
  decision: 'allowed' | 'denied';
  times: number;
}

/**
 * The consultations of the grant's one person, newest day first. The grant must name exactly that
 * person under a rights purpose (the access report's export, or the trail's read). Entries under
 * `hiddenPurposes` (those of a disclosure still kept confidential at an authority's request) are
 * left out until it may be told, as the disclosure itself is.
 */
export async function readConsultations(
  atx: AuditedTx,
  grant: Grant,
  deps: { pseudonym: string; policy: Policy; language: Language; hiddenPurposes: readonly string[] },
): Promise<Consultation[]> {
  const [subjectId, ...others] = [...grant.subjectIds];
  if (
    grant.tenantId !== atx.tenantId ||
    subjectId === undefined ||
    others.length > 0 ||
    deps.policy.purposes[grant.purpose]?.wholePerson !== 'rights'
  ) {
    throw new AppError('forbidden', 'consultations are read for one person under the rights purpose');
  }
  const rows = await selectConsultations(atx.tx, atx.tenantId, deps.pseudonym, deps.hiddenPurposes);
  const { policy, language } = deps;
  return rows.map((row) => {
    const role = row.actor_kind === 'subject' ? null : row.role;
    return {
      date: row.day,
      by: row.actor_kind === 'subject' ? 'you' : row.actor_kind,
      role,
      roleLabel: role === null ? null : (policy.roles[role]?.label[language] ?? null),
      purpose: row.purpose,
      purposeLabel: row.purpose === null ? null : (policy.purposes[row.purpose]?.label[language] ?? null),
      action: row.action,
      decision: row.decision,
      times: row.times,
    };
  });
}

interface ConsultationRow {
  day: string;
  actor_kind: 'staff' | 'subject' | 'system';
  role: string | null;
  purpose: string | null;
  action: Consultation['action'];
  decision: Consultation['decision'];
  times: number;
}

async function selectConsultations(
  tx: Tx,
  tenantId: number,
  pseudonym: string,
  hiddenPurposes: readonly string[],
): Promise<ConsultationRow[]> {
  const { rows } = await sql<ConsultationRow>`
    select to_char(a.at at time zone 'Europe/Brussels', 'YYYY-MM-DD') as day, a.actor_kind,
           a.role, a.purpose, a.action, a.decision, count(*)::int as times
      from audit_log a
     where a.tenant_id = ${tenantId}
       and a.subject_pseudonyms @> array[${pseudonym}]::text[]
       and a.action in (${sql.join([...CONSULTING_ACTIONS])})
       and not (coalesce(a.purpose, '') = any (${[...hiddenPurposes]}::text[]))
     group by 1, 2, 3, 4, 5, 6
     order by 1 desc, 2, 3, 4, 5, 6`.execute(tx);
  return rows;
}
