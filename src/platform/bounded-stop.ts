import type { Logger } from './logger.js';

/**
 * The steps of `kluis serve`'s stop, in the order of a clean stop (test/lifecycle.test.ts pins it):
 * the work that may still append audit entries ends, the last entries are anchored by a checkpoint,
 * the pools close, the embedded server stops.
 */
export interface StopPlan {
  /** The HTTP server closes once its running requests have answered; nothing new starts. */
  closeHttp(): Promise<void>;
  /**
   * Then the job queue stops, its running jobs within its own grace; names the jobs it cut (still
   * running when the grace was over, decision 0836).
   */
  stopJobs(): Promise<{ cut: readonly string[] } | void>;
  /** What the HTTP server still serves, said when the stop gives up on it (decision 0811). */
  httpInFlight?(): { requests: number; connections: number } | undefined;
  /** Whether the database answers now (the request pool's probe); asked at once, beside `drain`. */
  databaseAnswers(): Promise<boolean>;
  /** The shutdown audit checkpoint; its own failures are logged by it and rethrown. */
  checkpoint(): Promise<void>;
  closePools(): Promise<void>;
  /** Stops the embedded server and waits for it (nothing on DATABASE_URL). */
  stopServer(): Promise<void>;
  /** A stop that gives up asks the embedded server to stop without waiting for it. */
  abandonServer(): void;
}

export interface StopLimits {
  /** The whole stop, whatever it waits for. */
  totalMs: number;
  /** How much longer the stop waits once the database was found silent. */
  silentGraceMs: number;
}

/**
 * A service manager's stop timeout is often 90 s (systemd; Kubernetes 30 s, Docker 10 s by
 * default, both configurable): 60 s leaves a clean stop its job queue's 20 s grace for a running
 * job and the checkpoint, and ends before systemd's SIGKILL (decision 0785).
 */
export const STOP_LIMITS: StopLimits = { totalMs: 60_000, silentGraceMs: 5_000 };

/** What a stop did; `clean: false` is exited with UNCLEAN_STOP_EXIT_CODE. */
export interface StopOutcome {
  clean: boolean;
}

/** EX_TEMPFAIL (sysexits.h): stopped, but not as a clean stop; the next start completes it. */
export const UNCLEAN_STOP_EXIT_CODE = 75;

type Stage = 'HTTP requests' | 'jobs' | 'audit checkpoint' | 'database connections' | 'embedded PostgreSQL';
type CheckpointOutcome = 'taken' | 'skipped' | 'failed' | 'not reached';

/**
 * Runs `plan` within `limits` (decision 0785). The database is asked at once whether it answers;
 * when it does not (frozen, partitioned), the checkpoint is skipped (the audit checkpoint job takes
 * it at the next start) and the stop waits at most `silentGraceMs` more. Whatever it waits for, it
 * ends within `totalMs`. A stop that was not clean says so in one error line: what it skipped and
 * what it was still waiting for.
 */
export async function stopWithinLimits(
  plan: StopPlan,
  logger: Logger,
  limits: StopLimits = STOP_LIMITS,
): Promise<StopOutcome> {
  const started = Date.now();
  // Written by the steps and the probe as they go; read once the stop ends or gives up.
  const state: { stage: Stage; checkpoint: CheckpointOutcome; silent: boolean; cut: readonly string[] } = {
    stage: 'HTTP requests',
    checkpoint: 'not reached',
    silent: false,
    cut: [],
  };
  let giveUp: () => void = () => undefined;
  const gaveUp = new Promise<'late'>((resolve) => {
    giveUp = () => resolve('late');
  });
  let timer = setTimeout(giveUp, limits.totalMs);
  const answers = plan.databaseAnswers().then(
    (answered) => answered,
    () => false,
  );
  void answers.then((answered) => {
    if (answered) return;
    state.silent = true;
    // Never taken on a silent database, whether or not the stop gets that far.
    state.checkpoint = 'skipped';
    const left = started + limits.totalMs - Date.now();
    if (left <= limits.silentGraceMs) return;
    clearTimeout(timer);
    timer = setTimeout(giveUp, limits.silentGraceMs);
  });
  const steps = async (): Promise<'done'> => {
    await plan.closeHttp();
    state.stage = 'jobs';
    state.cut = (await plan.stopJobs())?.cut ?? [];
    state.stage = 'audit checkpoint';
    if (await answers) {
      try {
        await plan.checkpoint();
        state.checkpoint = 'taken';
      } catch {
        state.checkpoint = 'failed';
      }
    } else {
      state.checkpoint = 'skipped';
    }
    state.stage = 'database connections';
    await plan.closePools();
    state.stage = 'embedded PostgreSQL';
    await plan.stopServer();
    return 'done';
  };
  let ended: 'done' | 'late';
  try {
    ended = await Promise.race([steps(), gaveUp]);
  } finally {
    clearTimeout(timer);
  }
  if (ended === 'late') plan.abandonServer();
  const { stage, checkpoint, silent, cut } = state;
  if (ended === 'done' && checkpoint === 'taken' && cut.length === 0) return { clean: true };
  const inFlight = ended === 'late' && stage === 'HTTP requests' ? plan.httpInFlight?.() : undefined;
  logger.error(
    {
      checkpoint,
      database: silent ? 'silent' : 'answered',
      ...(ended === 'late' ? { waitingFor: stage } : {}),
      ...(inFlight ? { httpRequests: inFlight.requests, httpConnections: inFlight.connections } : {}),
      ...(cut.length > 0 ? { jobsCut: cut } : {}),
      stoppedAfterMs: Date.now() - started,
      limitMs: limits.totalMs,
    },
    uncleanStopMessage(ended, stage, checkpoint, silent, inFlight, cut),
  );
  return { clean: false };
}

function uncleanStopMessage(
  ended: 'done' | 'late',
  stage: Stage,
  checkpoint: CheckpointOutcome,
  silent: boolean,
  inFlight: { requests: number; connections: number } | undefined,
  cut: readonly string[],
): string {
  const parts: string[] = [];
  if (silent) parts.push('the database did not answer');
  if (cut.length > 0) {
    const jobs = cut.length === 1 ? `job ${cut[0]} was` : `jobs ${cut.join(', ')} were`;
    parts.push(
      `the ${jobs} still running when the job queue's grace ended and cut (the next start goes on with it)`,
    );
  }
  if (checkpoint !== 'taken') {
    parts.push(
      `the audit checkpoint was ${checkpoint === 'failed' ? 'not written' : checkpoint} (the next start takes it)`,
    );
  }
  if (ended === 'late') {
    const what = inFlight
      ? `${stage} (${inFlight.requests} running, ${inFlight.connections} connections open)`
      : stage;
    parts.push(`the stop gave up waiting for ${what}`);
  }
  return `stop not clean: ${parts.join('; ')}`;
}
