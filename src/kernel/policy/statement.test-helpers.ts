// Test helpers for reading a generated Markdown statement section by section.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parsePolicy } from './policy.loader.js';
import type { Policy } from './policy.schema.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

export function loadSeedPolicy(name: 'voiceking' | 'voxtra'): Policy {
  const file = `policies/${name}.yaml`;
  return parsePolicy(readFileSync(`${root}${file}`, 'utf8'), file);
}

/** The text under the `## ` heading that starts with `heading`, up to the next `## `. */
export function section(markdown: string, heading: string): string {
  const parts = markdown.split(/^## /m);
  const found = parts.find((part) => part.startsWith(heading));
  if (found === undefined) throw new Error(`no section "${heading}"`);
  return found;
}

/** The list items (without "- ") of a piece of Markdown. */
export function listItems(markdown: string): string[] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('- '))
    .map((line) => line.slice(2));
}

export { capitalize } from './statement.generator.js';
