import os from 'node:os';
import { benchAudit } from './audit.bench.js';
import { benchCliStart } from './cli-start.bench.js';
import { benchCdrImport } from './cdr-import.bench.js';
import { benchInvoiceRun } from './invoice-run.bench.js';
import { benchPeopleSearch } from './people-search.bench.js';
import { benchGate } from './gate.bench.js';
import { benchHttp } from './http.bench.js';
import { benchRetentionSweep } from './retention-sweep.bench.js';
import { benchRightsExport } from './rights-export.bench.js';
import { benchTenantIsolation } from './tenant-isolation.bench.js';
import { resultTable, startBenchDatabase, writeResults, type Figure } from './harness.js';

/**
 * `npm run bench`: every figure is printed with the physical limit measured in the same run
 * and the ratio between them, because these machines are shared and absolute times drift.
 */
const scenarios: Array<{ name: string; run: typeof benchTenantIsolation }> = [
  { name: 'tenant-isolation', run: benchTenantIsolation },
  { name: 'audit', run: benchAudit },
  { name: 'gate', run: benchGate },
  { name: 'http', run: benchHttp },
  { name: 'search', run: benchPeopleSearch },
  { name: 'cdr-import', run: benchCdrImport },
  { name: 'invoice-run', run: benchInvoiceRun },
  { name: 'rights-export', run: benchRightsExport },
  { name: 'retention-sweep', run: benchRetentionSweep },
  { name: 'cli', run: benchCliStart },
];

// Scenario names; options (`--people=N`) are read by their scenarios.
const only = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const bench = await startBenchDatabase();
const figures: Figure[] = [];
try {
  for (const scenario of scenarios) {
    if (only.length > 0 && !only.includes(scenario.name)) continue;
    console.log(`bench: ${scenario.name} …`);
    // The machine is shared: each figure carries the 1-minute load average around its scenario.
    const before = os.loadavg()[0] ?? Number.NaN;
    const measured = await scenario.run(bench);
    const load: [number, number] = [before, os.loadavg()[0] ?? Number.NaN];
    figures.push(...measured.map((figure) => ({ ...figure, load })));
  }
} finally {
  await bench.close();
}
for (const figure of figures) {
  const base = figure.baseline
    ? `  baseline ${figure.baseline.value.toFixed(2)} ${figure.baseline.unit} (${figure.baseline.what})`
    : '';
  const ratio = figure.ratio === undefined ? '' : `  ratio ${figure.ratio.toFixed(3)}`;
  console.log(
    `${figure.scenario}: ${figure.metric}: ${figure.value.toFixed(2)} ${figure.unit}${ratio}${base}`,
  );
}
console.log(`\n${resultTable(figures)}`);
console.log(`results written to ${await writeResults(figures)}`);
process.exit(0);
