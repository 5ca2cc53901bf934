import os from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Files that measure time (a door's answer time, a stop's or a frozen database's bounds): they
 * run one at a time after the others, with nothing beside them (decision 0841).
 */
const TIMED = [
  'src/modules/requests/existence-timing.test.ts',
  'src/http/request-silence.test.ts',
  'src/http/statement-silence.test.ts',
  'src/http/busy-pool.test.ts',
  'src/http/body-arrival.test.ts',
  'src/modules/portal/export-lost-database.test.ts',
  'test/lifecycle.test.ts',
  'test/frozen-request.test.ts',
  'test/frozen-stop.test.ts',
];

const ALL = ['src/**/*.test.ts', 'test/**/*.test.ts'];

/**
 * Most test files wait on PostgreSQL, a child process or a browser more than they compute: two at
 * a time even on two cores (vitest's default there is one), more on a larger machine.
 */
const TOGETHER = Math.max(2, os.availableParallelism() - 1);

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    env: { TZ: 'UTC' },
    projects: [
      {
        extends: true,
        test: {
          name: 'together',
          include: ALL,
          exclude: TIMED,
          maxWorkers: TOGETHER,
          // One module graph per worker, not per file: importing the app afresh for each of ~270
          // files cost a fifth of the run's CPU. No test mocks modules or changes process.env.
          isolate: false,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'timed', include: TIMED, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
