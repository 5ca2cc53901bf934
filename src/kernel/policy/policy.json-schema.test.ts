import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderPolicyJsonSchema } from './policy.json-schema.js';
import { POLICY_JSON_SCHEMA_PATH } from './write-json-schema.js';

describe('schema/policy.schema.json', () => {
  it('equals a fresh generation from the zod schema (run `npx tsx src/kernel/policy/write-json-schema.ts` after changing it)', () => {
    expect(readFileSync(POLICY_JSON_SCHEMA_PATH, 'utf8')).toBe(renderPolicyJsonSchema());
  });

  it('describes the policy sections for editors', () => {
    const schema = JSON.parse(renderPolicyJsonSchema()) as {
      $schema: string;
      required: string[];
      properties: Record<string, { properties?: Record<string, unknown> }>;
    };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.required).toEqual(
      expect.arrayContaining(['controller', 'purposes', 'categories', 'rights']),
    );
    // Defaults make a key optional for the author: the supervisory authority may be left out.
    expect(schema.required).not.toContain('supervisoryAuthority');
    expect(JSON.stringify(schema.properties.purposes)).toContain('legitimate_interests');
    expect(schema.properties.rights?.properties?.answerDeadlineDays).toMatchObject({ maximum: 30 });
  });
});
