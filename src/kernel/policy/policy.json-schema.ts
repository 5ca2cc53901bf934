import { z } from 'zod';
import { PolicySchema } from './policy.schema.js';

/** The JSON Schema of a policy file as an editor sees it (input side: defaults are optional). */
export function buildPolicyJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(PolicySchema, { io: 'input', target: 'draft-2020-12' });
}

export function renderPolicyJsonSchema(): string {
  return `${JSON.stringify(buildPolicyJsonSchema(), null, 2)}\n`;
}
