/**
 * Writes schema/policy.schema.json from the zod schema: `npx tsx src/kernel/policy/write-json-schema.ts`.
 * A test compares the committed file with a fresh generation, so the two cannot drift.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderPolicyJsonSchema } from './policy.json-schema.js';

export const POLICY_JSON_SCHEMA_PATH = fileURLToPath(
  new URL('../../../schema/policy.schema.json', import.meta.url),
);

export async function writePolicyJsonSchema(path = POLICY_JSON_SCHEMA_PATH): Promise<void> {
  await writeFile(path, renderPolicyJsonSchema(), 'utf8');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await writePolicyJsonSchema();
}
