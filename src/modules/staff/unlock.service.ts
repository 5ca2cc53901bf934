import { auditActor, type Actor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { notFoundError } from '../../platform/errors.js';
import { resetCounters } from '../throttle/index.js';
import { locateStaffByEmail } from './account.repository.js';
import { staffAccountCounter } from './login-limits.js';
import { STAFF_PURPOSE } from './staff.service.js';

/**
 * Lifts a staff account's lock (wrong second-factor codes) and forgets its failed-login count, so
 * the next correct login goes through at once. Audited; the operator's tool (`kluis staff unlock`).
 */
export async function unlockStaff(
  kernel: Kernel,
  tenantId: number,
  actor: Actor,
  email: string,
): Promise<{ staffId: number; wasLocked: boolean }> {
  const now = kernel.clock.now();
  const normalised = email.trim().toLowerCase();
  const result = await kernel.transact(tenantId, async (atx) => {
    const [subjectId] = await locateStaffByEmail(atx.tx, normalised);
    if (subjectId === undefined) throw notFoundError('staff account with that e-mail address');
    // The lock guards the account's credentials: lifting it is a write the gate decides on.
    await kernel.gate.authorize(atx, actor, {
      purpose: STAFF_PURPOSE,
      action: 'write',
      categories: ['user.authorization.credentials'],
      subjectIds: [subjectId],
    });
    const row = await atx.tx
      .selectFrom('staff_users')
      .select(['staff_id', 'subject_id', 'locked_until'])
      .where('subject_id', '=', subjectId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    await atx.tx
      .updateTable('staff_users')
      .set({ failed_logins: 0, failed_window_started_at: null, locked_until: null })
      .where('staff_id', '=', row.staff_id)
      .execute();
    atx.audit.record({
      actor: auditActor(actor),
      role: null,
      purpose: STAFF_PURPOSE,
      action: 'staff.unlock',
      ...(row.subject_id ? { subjectIds: [row.subject_id] } : {}),
      decision: 'allowed',
    });
    return { staffId: row.staff_id, wasLocked: row.locked_until !== null && row.locked_until > now };
  });
  await resetCounters(kernel, tenantId, [staffAccountCounter(normalised)]);
  return result;
}
