#!/usr/bin/env node
// Runs the compiled CLI in dist/ (built by `npm install` through the `prepare` script, or by
// `npm run build`), so a command answers at once. When dist/ is missing or older than a source
// file (an edited checkout not rebuilt), it runs the TypeScript through tsx instead: slower,
// never stale.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as nodeModule from 'node:module';

const root = new URL('..', import.meta.url);

function builtAt() {
  try {
    return statSync(new URL('dist/.built', root)).mtimeMs;
  } catch {
    return undefined;
  }
}

function isBuildCurrent() {
  const built = builtAt();
  if (built === undefined) return false;
  const src = new URL('src/', root);
  for (const file of readdirSync(src, { recursive: true })) {
    if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
    if (statSync(new URL(file, src)).mtimeMs > built) return false;
  }
  return true;
}

/** The soft "Max open files" of this process (Linux /proc); undefined elsewhere or unlimited. */
function openFileLimit() {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((candidate) => candidate.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    return Number.isSafeInteger(soft) && soft > 0 ? soft : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Below this open-file limit the modules are loaded a few at a time (bin/module-load-limit.js):
 * Node's loader reads the whole import graph at once, over 300 files. Above it they load as Node
 * does, without the hooks' cost (about half a second at start, decision 0882).
 */
const LIMITED_LOADING_BELOW = 1024;

/** Registered last, so it runs first: it limits the loads of tsx's hooks too. */
function limitLoadingWhenFilesAreFew() {
  const files = openFileLimit();
  // `register` came with Node 20.6; before it, modules load as Node does.
  if (files !== undefined && files < LIMITED_LOADING_BELOW && typeof nodeModule.register === 'function') {
    nodeModule.register(new URL('./module-load-limit.js', import.meta.url));
  }
}

if (isBuildCurrent()) {
  limitLoadingWhenFilesAreFew();
  await import('../dist/cli/main.js');
} else {
  const tsx = await import('tsx/esm/api');
  tsx.register();
  limitLoadingWhenFilesAreFew();
  await import('../src/cli/main.ts');
}
