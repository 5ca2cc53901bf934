import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../../test/cli.js';
import { crashEnv, runChild } from '../../../test/crash.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import type { Kernel } from '../../kernel/kernel.js';
import { deliverLetters } from '../../kernel/letters/index.js';
import { systemClock } from '../../platform/clock.js';
import type { Tenant } from '../tenants/index.js';
import { staffCall } from './recipients.test-helpers.js';

/*
 * A breach reminder is claimed and written to the letter outbox in one transaction (decision
 * 0850). A breach-clock run killed (SIGKILL) right after that commit, before mailing, leaves the
 * reminder for the letter sender: sent once, and no later run of the clock sends it again.
 */

const masterKey = randomBytes(32);
const contact = 'info@voiceking.be';
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let tenant: Tenant;
let smtp: SmtpSink;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, systemClock, masterKey);
  smtp = await startSmtpSink();
  app = await createTestApp(kernel, { mailer: smtp.mailer });
  tenant = await createPolicyTenant(kernel, 'voiceking');
});
afterAll(async () => {
  await app.close();
  await smtp.close();
  await database.close();
});

/** One run of the breach-clock job in a child process; its signal (SIGKILL at an armed hook). */
async function breachClockInChild(hook?: string): Promise<NodeJS.Signals | null> {
  const exit = await runChild(
    ['--import', 'tsx', path.join(ROOT, 'test/children/run-breach-clock.ts')],
    crashEnv(database, masterKey, {
      KLUIS_SMTP_URL: smtp.url,
      KLUIS_SMTP_DELIVERS: 'false',
      KLUIS_DEMO: 'false',
      ...(hook === undefined ? {} : { KLUIS_TEST_HOOK: hook }),
    }),
  );
  if (exit.code !== 0 && exit.signal === null) throw new Error(`breach clock child failed: ${exit.stderr}`);
  return exit.signal;
}

describe('a breach reminder survives a crash of the breach clock (decision 0850)', () => {
  it('VK-9: a breach-clock run killed (SIGKILL) after claiming the reminder and before mailing it: the letter sender sends it exactly once, and the next runs send nothing more', async () => {
    const technician = await loginAs(app, kernel, tenant, 'technician');
    const officer = await loginAs(app, kernel, tenant, 'privacy_officer');
    const reported = await staffCall(app, technician, 'POST', '/api/v1/incidents', {
      payload: {
        kind: 'breach',
        description: 'Een back-up van de klantenlijst stond open op een publieke share.',
      },
    });
    expect(reported.statusCode).toBe(201);
    const { incidentId } = reported.json<{ incidentId: number }>();
    const assessed = await staffCall(app, officer, 'POST', `/api/v1/incidents/${incidentId}/assessment`, {
      payload: {
        isBreach: true,
        affectedCategories: ['user.name', 'user.contact.email'],
        affectedTables: ['people'],
        risk: 'low',
        riskAssessment: 'De share was enkel intern bereikbaar; geen sporen van toegang.',
        measures: 'Share gesloten, toegangslogs nagekeken.',
        whatHappened: 'Een back-up van de klantenlijst stond open op een interne share.',
      },
    });
    expect(assessed.statusCode).toBe(200);

    expect(await breachClockInChild('breach-clock.queued:kill')).toBe('SIGKILL');
    // Claimed and queued in one commit; nothing mailed.
    const claimed = await runAsOwner<{ last_reminder_hour: number | null }>(
      database.ownerUrl,
      'select last_reminder_hour from incidents where tenant_id = $1 and incident_id = $2',
      [tenant.tenantId, incidentId],
    );
    expect(claimed.rows).toEqual([{ last_reminder_hour: 0 }]);
    const letters = () =>
      runAsOwner<{ kind: string; state: string }>(
        database.ownerUrl,
        `select kind, state from sealed_letters where tenant_id = $1 and kind = 'incident.breach_reminder'`,
        [tenant.tenantId],
      ).then((result) => result.rows);
    expect(await letters()).toEqual([{ kind: 'incident.breach_reminder', state: 'pending' }]);
    expect(smtp.to(contact)).toHaveLength(0);

    // The letter sender (every minute in a server) sends it; the clock's next runs add nothing.
    await deliverLetters(kernel, smtp.mailer, [tenant.tenantId]);
    expect(await breachClockInChild()).toBeNull();
    await deliverLetters(kernel, smtp.mailer, [tenant.tenantId]);
    expect(smtp.to(contact).map((mail) => mail.subject)).toEqual([
      `Incident ${incidentId}: nog 72 uur om de inbreuk te melden (GDPR art. 33)`,
    ]);
    expect(await letters()).toEqual([{ kind: 'incident.breach_reminder', state: 'sent' }]);
  }, 180_000);
});
