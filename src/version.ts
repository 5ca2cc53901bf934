import { readFileSync } from 'node:fs';

/** The version in package.json; its own module so the CLI can print it without loading the app. */
export const KLUIS_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
