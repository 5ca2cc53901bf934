/**
 * Thrown by a job's work when it ends early for a stop (decision 0836): what it did is committed,
 * the rest is left to the next run. Not a failure.
 */
export class JobStopped extends Error {
  constructor(what: string) {
    super(`${what} ended for the stop; the next run goes on`);
    this.name = 'JobStopped';
  }
}
