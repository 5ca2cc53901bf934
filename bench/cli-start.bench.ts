import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { pairedMs, type BenchDatabase, type Figure } from './harness.js';

const run = promisify(execFile);
const REPEATS = 7;

/**
 * `kluis --help` start time against the physical limit of any Node program: `node -e 0`. Runs
 * the compiled CLI (dist/) as bin/kluis.js does after `npm install`; says so when dist/ is stale
 * and the figure is of the tsx fallback.
 */
export async function benchCliStart(_bench: BenchDatabase): Promise<Figure[]> {
  const compiled = isBuildCurrent();
  const timings = await pairedMs(
    REPEATS,
    async () => {
      await run(process.execPath, ['bin/kluis.js', '--help']);
    },
    async () => {
      await run(process.execPath, ['-e', '0']);
    },
  );
  return [
    {
      scenario: 'cli',
      metric: '`kluis --help` start to exit',
      value: timings.ours.median,
      unit: 'ms',
      baseline: { what: '`node -e 0`', value: timings.baseline.median, unit: 'ms' },
      ratio: timings.ratio.median,
      ratioRange: [timings.ratio.min, timings.ratio.max],
      note: `ratio = baseline time / our time; ${compiled ? 'the compiled CLI in dist/' : 'dist/ missing or older than src/: the tsx fallback (run npm run build first)'}`,
    },
  ];
}

/** What bin/kluis.js decides: dist/ is current when built after every source file. */
function isBuildCurrent(): boolean {
  let built: number;
  try {
    built = statSync('dist/.built').mtimeMs;
  } catch {
    return false;
  }
  return readdirSync('src', { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .every((file) => statSync(`src/${file}`).mtimeMs <= built);
}
