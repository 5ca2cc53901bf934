import cliProgress from 'cli-progress';

/** Progress of long work, drawn on stderr (KLUIS_PROGRESS: on a terminal, always, or never). */
export interface Progress {
  update(done: number, detail?: string): void;
  setTotal(total: number): void;
  stop(): void;
}

export type ProgressMode = 'auto' | 'always' | 'never';

let mode: ProgressMode = 'auto';

/** Set once per CLI run from the configuration (createCliContext). */
export function setProgressMode(value: ProgressMode): void {
  mode = value;
}

/** Whether long work draws its progress: on a terminal, unless told always or never. */
export function isProgressShown(): boolean {
  return mode === 'always' || (mode === 'auto' && process.stderr.isTTY);
}

const SILENT: Progress = { update: () => undefined, setTotal: () => undefined, stop: () => undefined };

export function createProgress(label: string, total: number, unit = 'rows'): Progress {
  if (!isProgressShown()) return SILENT;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% {value}/{total} ${unit} {detail}`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
      fps: 5,
      // Not a terminal (KLUIS_PROGRESS=always): one line every half second, and the last one.
      noTTYOutput: true,
      notTTYSchedule: 500,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.max(total, 1), 0, { detail: '' });
  return {
    update: (done, detail) => bar.update(done, { detail: detail ?? '' }),
    setTotal: (value) => bar.setTotal(Math.max(value, 1)),
    stop: () => bar.stop(),
  };
}
