import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { createTenant } from '../src/modules/tenants/index.js';
import { appendAuditNow, verifyAuditChain, withAudit, type AuditEvent } from '../src/kernel/audit/index.js';
import { kernelCore } from '../src/kernel/kernel.js';
import { medianMs, ownerQuery, pairedMs, type BenchDatabase, type Figure } from './harness.js';
import { nodeCpuPerOperation, timeStatements, walCounters, walDelta } from './waits.js';

const ENTRIES_PER_RUN = 400;
const GROUP_SIZES = [1, 10, 100];
const REPEATS = 5;
const COLUMNS = 16;

function benchEvent(index: number): AuditEvent {
  return {
    actor: { kind: 'staff', id: '17' },
    role: 'billing',
    purpose: 'billing.invoicing',
    action: 'read',
    subjectIds: [(index % 5000) + 1],
    categories: ['user.contact.email', 'user.financial.bank_account'],
    records: 1,
    decision: 'allowed',
    requestId: `req-${index}`,
  };
}

/** The baseline's row for entry `seq`: the columns of `bench_audit_plain`'s INSERT, in order. */
function plainRow(tenantId: number, seq: number): unknown[] {
  const event = benchEvent(seq);
  return [
    tenantId,
    seq,
    new Date(),
    event.actor.kind,
    event.actor.id,
    event.role,
    event.purpose,
    event.action,
    ['a'.repeat(64)],
    event.categories,
    event.records,
    event.decision,
    null,
    event.requestId,
    randomBytes(32),
    randomBytes(32),
  ];
}

/** A bare INSERT of one row and the commit as one simple query (values as literals, as ours sends). */
function bareInsertWithCommit(row: unknown[]): string {
  const literal = (value: unknown): string => {
    if (value === null || value === undefined) return 'null';
    if (typeof value === 'number') return String(value);
    if (value instanceof Date) return `${pg.escapeLiteral(value.toISOString())}::timestamptz`;
    if (Buffer.isBuffer(value)) return `'\\x${value.toString('hex')}'::bytea`;
    if (Array.isArray(value)) return `array[${value.map(literal).join(', ')}]::text[]`;
    if (typeof value === 'string') return pg.escapeLiteral(value);
    throw new Error(`bench: no literal for ${typeof value}`);
  };
  return `insert into bench_audit_plain (tenant_id, seq, at, actor_kind, actor_id, role, purpose, action,
        subject_pseudonyms, categories, records, decision, reason, request_id, prev_hash, hash) values (${row.map(literal).join(', ')}); commit`;
}

/**
 * Audit appends per second, grouped 1 / 10 / 100 entries per transaction (keyed pseudonyms,
 * validation, head lock, SHA-256 chain, RLS), against the physical limit: a bare multi-row
 * INSERT of the same rows (precomputed hashes) into an unchained copy of the table, one
 * statement per group, by the owner (no RLS, no triggers, no lock). Then verification speed
 * against a bare paged read of the same rows.
 */
export async function benchAudit(bench: BenchDatabase): Promise<Figure[]> {
  const tenant = await createTenant(bench.db, { slug: 'bench-audit', name: 'Audit bench' });
  const deps = kernelCore(bench.kernel).audit;
  await ownerQuery(
    bench.ownerUrl,
    'create table bench_audit_plain (like audit_log including defaults including constraints including indexes)',
  );
  const owner = new pg.Client({ connectionString: bench.ownerUrl });
  await owner.connect();
  const figures: Figure[] = [];
  try {
    let plainSeq = 0;
    let eventIndex = 0;
    // Every audited commit waits for the WAL flush, reads included (docs/decisions/0250), and so
    // does every baseline INSERT.
    // `alone`: the entry in a transaction of its own (appendAuditNow, a refusal's entry), one
    // simple query on a pooled client without a Kysely transaction (decision 0650).
    const cases = [
      ...GROUP_SIZES.map((group) => ({ group, writes: false, alone: false })),
      { group: 1, writes: false, alone: true },
      { group: 1, writes: true, alone: false },
    ];
    for (const { group, writes, alone } of cases) {
      let sameShapeFigure: Awaited<ReturnType<typeof pairedMs>> | undefined;
      const transactions = ENTRIES_PER_RUN / group;
      const placeholders = Array.from(
        { length: group },
        (_, row) =>
          `(${Array.from({ length: COLUMNS }, (_, col) => `$${row * COLUMNS + col + 1}`).join(', ')})`,
      ).join(', ');
      const text = `insert into bench_audit_plain (tenant_id, seq, at, actor_kind, actor_id, role, purpose, action,
        subject_pseudonyms, categories, records, decision, reason, request_id, prev_hash, hash) values ${placeholders}`;
      const passes = {
        ours: async () => {
          for (let t = 0; t < transactions; t += 1) {
            if (alone) {
              await appendAuditNow(deps, tenant.tenantId, [benchEvent((eventIndex += 1))]);
              continue;
            }
            await withAudit(deps, tenant.tenantId, async ({ audit, tx }) => {
              // A transaction that also changed data.
              if (writes) await sql`select pg_current_xact_id()`.execute(tx);
              for (let i = 0; i < group; i += 1) audit.record(benchEvent((eventIndex += 1)));
            });
          }
        },
        baseline: async () => {
          for (let t = 0; t < transactions; t += 1) {
            const values: unknown[] = [];
            for (let i = 0; i < group; i += 1) values.push(...plainRow(tenant.tenantId, (plainSeq += 1)));
            await owner.query(text, values);
          }
        },
      };
      const timings = { ...(await pairedMs(REPEATS, passes.ours, passes.baseline)), passes };
      if (writes) {
        // The same transaction with a bare INSERT in place of the append, sent as ours is: the
        // work behind the begin, then the row and the commit in one simple query. Two round trips
        // each, so this says what the append itself costs in a transaction that wrote.
        const sameShape = async (): Promise<void> => {
          for (let t = 0; t < transactions; t += 1) {
            await owner.query('begin; select pg_current_xact_id()');
            await owner.query(bareInsertWithCommit(plainRow(tenant.tenantId, (plainSeq += 1))));
          }
        };
        sameShapeFigure = await pairedMs(REPEATS, passes.ours, sameShape);
      }
      // `--waits`: one more pass of each, every statement timed by kind, and the WAL per entry.
      let profile = '';
      if (group === 1 && !alone && process.argv.includes('--waits')) {
        const kindOf = (text: string): string =>
          text.startsWith('begin')
            ? 'begin+tenant'
            : text.endsWith('; commit')
              ? 'append+commit'
              : text === 'commit'
                ? 'commit'
                : text.startsWith('insert into bench_audit_plain')
                  ? 'bare insert'
                  : text.slice(0, 24);
        for (const [name, pass] of [
          ['ours', timings.passes.ours],
          ['bare', timings.passes.baseline],
        ] as const) {
          const before = await walCounters(bench.ownerUrl);
          const started = process.hrtime.bigint();
          const statements = await timeStatements(kindOf, pass);
          const perEntry = Number(process.hrtime.bigint() - started) / 1e6 / ENTRIES_PER_RUN;
          const after = await walCounters(bench.ownerUrl);
          const wal = before && after ? `; ${walDelta(before, after, ENTRIES_PER_RUN)}` : '';
          // Node CPU per transaction, a pass of its own after the statement timer is gone.
          const cpu = await nodeCpuPerOperation(transactions, pass);
          profile += `; ${name}: ${perEntry.toFixed(2)} ms per entry (${Object.entries(statements)
            .map(([kind, { median, count }]) => `${kind} ${median.toFixed(2)} ms ×${count}`)
            .join(', ')})${wal}; Node CPU ${cpu.toFixed(0)} µs per transaction`;
        }
      }
      const ours = ENTRIES_PER_RUN / (timings.ours.median / 1000);
      const limit = ENTRIES_PER_RUN / (timings.baseline.median / 1000);
      figures.push({
        scenario: 'audit',
        metric: alone
          ? 'appends, 1 per audit-only transaction of its own (appendAuditNow, as for a refusal)'
          : `appends, ${group} per transaction${writes ? ', in a transaction that also wrote' : ' (audit-only transaction)'}`,
        value: ours,
        unit: 'entries/s',
        baseline: {
          what: 'bare multi-row INSERT of the same rows into an unchained table',
          value: limit,
          unit: 'entries/s',
        },
        ratio: timings.ratio.median,
        ratioRange: [timings.ratio.min, timings.ratio.max],
        // The transaction that also wrote pays its work's own round trip, which the bare INSERT does
        // not: its goal is on the same-shape figure below (decision 0757).
        ...(group === 1 && !writes ? { goal: 0.5 } : {}),
        note: `ratio = our rate / bare rate (1.0 = no overhead)${profile ? `; statements, ${ENTRIES_PER_RUN} transactions each${profile}` : ''}`,
      });
      if (sameShapeFigure) {
        figures.push({
          scenario: 'audit',
          metric:
            'appends, 1 per transaction that also wrote, against the same transaction with a bare INSERT',
          value: ENTRIES_PER_RUN / (sameShapeFigure.ours.median / 1000),
          unit: 'entries/s',
          baseline: {
            what: 'the same work, then a bare INSERT of the row and the commit in one round trip',
            value: ENTRIES_PER_RUN / (sameShapeFigure.baseline.median / 1000),
            unit: 'entries/s',
          },
          ratio: sameShapeFigure.ratio.median,
          ratioRange: [sameShapeFigure.ratio.min, sameShapeFigure.ratio.max],
          goal: 0.5,
          note: 'ratio = our rate / the same-shape rate: what the append itself costs where the transaction did work',
        });
      }
    }

    const { rows } = await owner.query<{ n: number }>(
      'select count(*)::int as n from audit_log where tenant_id = $1',
      [tenant.tenantId],
    );
    const entries = rows[0]?.n ?? 0;
    const verify = await medianMs(3, async () => {
      const result = await verifyAuditChain(deps, tenant.tenantId);
      if (!result.ok) throw new Error(`bench chain broken: ${result.message}`);
    });
    const read = await medianMs(3, async () => {
      let after = 0;
      for (;;) {
        const page = await owner.query<{ seq: number }>(
          'select * from audit_log where tenant_id = $1 and seq > $2 order by seq limit 1000',
          [tenant.tenantId, after],
        );
        const last = page.rows.at(-1);
        if (!last) break;
        after = last.seq;
      }
    });
    figures.push({
      scenario: 'audit',
      metric: `verify a chain of ${entries} entries`,
      value: entries / (verify / 1000),
      unit: 'entries/s',
      baseline: {
        what: 'bare paged read of the same rows (pages of 1000)',
        value: entries / (read / 1000),
        unit: 'entries/s',
      },
      ratio: read / verify,
      note: 'ratio = our rate / bare rate',
    });
  } finally {
    await owner.end();
  }
  return figures;
}
