import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Runs `work` and holds its answer — result or error alike — until the next multiple of
 * `quantumMs` after the start, so a door that does more work for a known person than for an
 * unknown one answers both at the same moment (issue 11, docs/decisions/0076). Work that overruns
 * one quantum is held to the end of the next, so even an overloaded machine leaks only "crossed a
 * boundary", never the milliseconds; `onOverrun` lets the caller log that the quantum is too short.
 * Real time (performance.now), not the injected clock: this is about what a stopwatch sees.
 */
export async function answerInQuanta<T>(
  quantumMs: number,
  work: () => Promise<T>,
  onOverrun?: (elapsedMs: number) => void,
): Promise<T> {
  if (quantumMs <= 0) return work();
  const started = performance.now();
  try {
    return await work();
  } finally {
    const elapsed = performance.now() - started;
    if (elapsed > quantumMs) onOverrun?.(elapsed);
    const target = Math.max(1, Math.ceil(elapsed / quantumMs)) * quantumMs;
    await sleep(target - elapsed);
  }
}
