import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderAccessReportJsonSchema } from './access-report.schema.js';

describe('access report JSON Schema', () => {
  // Part of VK-21, at unit level (requirement IDs title end-to-end tests only).
  it('schema/access-report.schema.json is the published form of the report schema (regenerate with write-json-schema.ts)', async () => {
    const committed = await readFile(
      new URL('../../../schema/access-report.schema.json', import.meta.url),
      'utf8',
    );
    expect(committed).toBe(renderAccessReportJsonSchema());
  });
});
