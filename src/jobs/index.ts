import type { JobQueue } from '../platform/job-queue.js';
import type { Logger } from '../platform/logger.js';
import type { RequestsDeps } from '../modules/requests/index.js';
import { deadlineRemindersJob } from './deadline-reminders.job.js';
import { ERASURE_FINISHER_JOB, erasureFinisherJob } from './erasure-finisher.job.js';
import { AUDIT_CHECKPOINT_JOB, auditCheckpointJob } from './audit-checkpoint.job.js';
import { retentionSweepJob } from './retention-sweep.job.js';
import { cdrPurgeJob } from './cdr-purge.job.js';
import { domainEventsJob } from './domain-events.job.js';
import { numberEndJob } from './number-end.job.js';
import { breachClockJob } from './breach-clock.job.js';
import { MAILING_SENDER_JOB, mailingSenderJob } from './mailing-sender.job.js';
import { LETTER_SENDER_JOB, letterSenderJob } from './letter-sender.job.js';
import { dunningJob } from './dunning.job.js';
import { accountErasuresJob } from './account-erasures.job.js';
import { deferredErasuresJob } from './deferred-erasures.job.js';
import type { DomainEventSubscribers } from '../modules/contracts/index.js';
import type { CdrUploadRunSettings } from '../modules/telephony/index.js';
import { CDR_UPLOAD_JOB, cdrUploadJob } from './cdr-upload.job.js';

export interface JobDeps {
  requests: RequestsDeps;
  /** The subscribers the HTTP routes dispatch to at once; the job is their backstop. */
  events: DomainEventSubscribers;
  logger: Logger;
  /** Uploaded call-record files: where they wait and how the import connects (decision 0360). */
  cdrUploads?: CdrUploadRunSettings;
}

/** Every scheduled job of the server, registered in each process; the queue runs each once. */
export async function registerJobs(queue: JobQueue, deps: JobDeps): Promise<void> {
  await queue.register(deadlineRemindersJob(deps.requests, deps.logger));
  await queue.register(erasureFinisherJob(deps.requests.kernel, deps.logger));
  await queue.register(auditCheckpointJob(deps.requests.kernel, deps.logger));
  await queue.register(retentionSweepJob(deps.requests.kernel, deps.requests.dataMap, deps.logger));
  await queue.register(cdrPurgeJob(deps.requests.kernel, deps.logger));
  await queue.register(domainEventsJob(deps.requests.kernel, deps.events, deps.logger));
  await queue.register(numberEndJob(deps.requests.kernel, deps.logger));
  await queue.register(breachClockJob(deps.requests, deps.logger));
  await queue.register(accountErasuresJob(deps.requests, deps.logger));
  await queue.register(deferredErasuresJob(deps.requests, deps.logger));
  await queue.register(mailingSenderJob(deps.requests));
  await queue.register(letterSenderJob(deps.requests.kernel, deps.requests.mailer, deps.logger));
  await queue.register(
    dunningJob({
      kernel: deps.requests.kernel,
      mailer: deps.requests.mailer,
      publicUrl: deps.requests.publicUrl,
      logger: deps.logger,
    }),
  );
  if (deps.cdrUploads) await queue.register(cdrUploadJob(deps.cdrUploads, deps.logger));
  // Work a crash left half-done is finished at every start, not only at the next tick, and what
  // was audited while no server ran is anchored.
  await queue.runNow(ERASURE_FINISHER_JOB);
  await queue.runNow(AUDIT_CHECKPOINT_JOB);
  await queue.runNow(MAILING_SENDER_JOB);
  await queue.runNow(LETTER_SENDER_JOB);
  if (deps.cdrUploads) await queue.runNow(CDR_UPLOAD_JOB);
}

export { DEADLINE_REMINDERS_JOB } from './deadline-reminders.job.js';
export { ERASURE_FINISHER_JOB } from './erasure-finisher.job.js';
export { AUDIT_CHECKPOINT_JOB, checkpointAllTenants } from './audit-checkpoint.job.js';
export { RETENTION_SWEEP_JOB } from './retention-sweep.job.js';
export { CDR_PURGE_JOB, runCdrPurge } from './cdr-purge.job.js';
export { DOMAIN_EVENTS_JOB } from './domain-events.job.js';
export { NUMBER_END_JOB, runNumberEnds } from './number-end.job.js';
export { BREACH_CLOCK_JOB } from './breach-clock.job.js';
export { MAILING_SENDER_JOB } from './mailing-sender.job.js';
export { LETTER_SENDER_JOB } from './letter-sender.job.js';
export { DUNNING_JOB, dunningJob } from './dunning.job.js';
export { ACCOUNT_ERASURES_JOB } from './account-erasures.job.js';
export { DEFERRED_ERASURES_JOB, deferredErasuresJob } from './deferred-erasures.job.js';
export { CDR_UPLOAD_JOB, runCdrUploads } from './cdr-upload.job.js';
