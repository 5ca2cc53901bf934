#!/usr/bin/env node
// Runs the compiled CLI in dist/ (built by `npm install` through the `prepare` script, or by
// `npm run build`), so a command answers at once. When dist/ is missing or older than a source
// file (an edited checkout not rebuilt), it runs the TypeScript through tsx instead: slower,
// never stale.
import { readdirSync, statSync } from 'node:fs';

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

if (isBuildCurrent()) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
