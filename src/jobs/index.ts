import type { JobQueue } from '../platform/job-queue.js';
import type { Logger } from '../platform/logger.js';
import type { RequestsDeps } from '../modules/requests/index.js';
import { deadlineRemindersJob } from './deadline-reminders.job.js';

export interface JobDeps {
  requests: RequestsDeps;
  logger: Logger;
}

/** Every scheduled job of the server, registered in each process; the queue runs each once. */
export async function registerJobs(queue: JobQueue, deps: JobDeps): Promise<void> {
  await queue.register(deadlineRemindersJob(deps.requests, deps.logger));
}

export { DEADLINE_REMINDERS_JOB } from './deadline-reminders.job.js';
