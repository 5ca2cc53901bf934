import cliProgress from 'cli-progress';

/** Progress of long work; drawn on stderr only when it is a terminal, silent otherwise. */
export interface Progress {
  update(done: number, detail?: string): void;
  setTotal(total: number): void;
  stop(): void;
}

export function createProgress(label: string, total: number, unit = 'rows'): Progress {
  if (!process.stderr.isTTY)
    return { update: () => undefined, setTotal: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% {value}/{total} ${unit} {detail}`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
      fps: 5,
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
