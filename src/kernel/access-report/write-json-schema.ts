// Regenerates schema/access-report.schema.json: `npx tsx src/kernel/access-report/write-json-schema.ts`
import { writeFile } from 'node:fs/promises';
import { renderAccessReportJsonSchema } from './access-report.schema.js';

await writeFile(
  new URL('../../../schema/access-report.schema.json', import.meta.url),
  renderAccessReportJsonSchema(),
);
