// The static checks of `npm test` side by side: tsc and eslint each keep one core busy for a
// minute or more, so on two cores they take the longer one's time instead of the sum. Each
// check's output is printed whole when it ends; the exit code is non-zero if any failed.
import { spawn } from 'node:child_process';

const CHECKS = ['typecheck', 'lint', 'format:check'];
const npm = process.env.npm_execpath;

function run(script) {
  return new Promise((resolve) => {
    const [command, args] = npm
      ? [process.execPath, [npm, 'run', '--silent', script]]
      : ['npm', ['run', '--silent', script]];
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const output = [];
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    child.on('error', (error) => resolve({ script, code: 1, output: `${error.message}\n` }));
    child.on('close', (code) =>
      resolve({ script, code: code ?? 1, output: Buffer.concat(output).toString() }),
    );
  });
}

const results = await Promise.all(
  CHECKS.map(async (script) => {
    const result = await run(script);
    process.stdout.write(
      `> ${script}: ${result.code === 0 ? 'passed' : `failed (exit ${result.code})`}\n${result.output}`,
    );
    return result;
  }),
);
process.exitCode = results.some((result) => result.code !== 0) ? 1 : 0;
