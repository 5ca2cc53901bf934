import pg from 'pg';

/**
 * A poor man's profile of where the database time of a scenario goes: samples pg_stat_activity of
 * the bench database every few milliseconds and counts, per sample and backend, what it was doing
 * (running, idle in a transaction, waiting for a lock, waiting for the WAL flush, …). Used by
 * `npm run bench -- gate --waits` to show why audited readers do not scale.
 */
export async function sampleWaits<T>(
  ownerUrl: string,
  work: () => Promise<T>,
): Promise<{ result: T; waits: Record<string, number>; samples: number }> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  const waits: Record<string, number> = {};
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await client.query<{ what: string }>(
        `select coalesce(wait_event_type || ':' || wait_event, state) as what
           from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'
            and state is distinct from 'idle'`,
      );
      samples += 1;
      for (const { what } of rows) waits[what] = (waits[what] ?? 0) + 1;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  try {
    const result = await work();
    return { result, waits, samples };
  } finally {
    running = false;
    await loop;
    await client.end();
  }
}

/** What the server's WAL counters say (PostgreSQL 14+: pg_stat_wal; 16+: pg_stat_io's WAL rows). */
export interface WalCounters {
  records: number;
  bytes: number;
  /** WAL writes and fsyncs, and their time in ms when track_wal_io_timing is on. */
  writes: number;
  fsyncs: number;
  fsyncMs: number;
}

export async function walCounters(ownerUrl: string): Promise<WalCounters | undefined> {
  // Backends report their counters to pg_stat_wal / pg_stat_io at most once a second, and when
  // idle after that: wait for the work's connections to have reported. The bytes are exact (the
  // WAL insert position), whatever the reporting.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    const wal = await client.query<{ records: string; bytes: string }>(
      `select wal_records::text as records,
              pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint::text as bytes
         from pg_stat_wal`,
    );
    const io = await client
      .query<{ writes: string | null; fsyncs: string | null; fsync_ms: string | null }>(
        `select sum(writes)::text as writes, sum(fsyncs)::text as fsyncs, sum(fsync_time)::text as fsync_ms
           from pg_stat_io where object = 'wal'`,
      )
      .catch(() => undefined);
    const io0 = io?.rows[0];
    const row = wal.rows[0];
    if (!row) return undefined;
    return {
      records: Number(row.records),
      bytes: Number(row.bytes),
      writes: Number(io0?.writes ?? Number.NaN),
      fsyncs: Number(io0?.fsyncs ?? Number.NaN),
      fsyncMs: Number(io0?.fsync_ms ?? Number.NaN),
    };
  } catch {
    return undefined;
  } finally {
    await client.end();
  }
}

export function walDelta(before: WalCounters, after: WalCounters, per: number): string {
  const each = (value: number): string => (value / per).toFixed(2);
  return `WAL per read: ${each(after.records - before.records)} records, ${each(after.bytes - before.bytes)} bytes, ${each(after.writes - before.writes)} writes, ${each(after.fsyncs - before.fsyncs)} fsyncs (${each(after.fsyncMs - before.fsyncMs)} ms fsync)`;
}

/**
 * Times every statement this process sends through node-postgres while `work` runs, grouped by
 * what it is (the first words of its text, via `kindOf`): median ms per kind and how many.
 */
export async function timeStatements(
  kindOf: (text: string) => string,
  work: () => Promise<void>,
): Promise<Record<string, { median: number; count: number }>> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  const times: Record<string, number[]> = {};
  proto.query = function timed(this: unknown, ...args: unknown[]): unknown {
    // A statement behind the transaction's `begin` (src/platform/db.ts BehindBegin, decision 0570).
    const behind = args[0] as { sentText?: unknown; answer?: unknown } | undefined;
    const text =
      typeof args[0] === 'string' ? args[0] : typeof behind?.sentText === 'string' ? behind.sentText : '';
    const started = process.hrtime.bigint();
    const returned = original.apply(this, args);
    const answer = returned instanceof Promise ? returned : behind?.answer;
    if (text && answer instanceof Promise) {
      const flat = text.replace(/\s+/g, ' ').trim();
      // A tenant transaction's begin sent in front of its first statement (decision 0570).
      const begin = /^(begin|start transaction[^;]*); select set_config\([^;]*\); /.exec(flat);
      const kind = begin ? `begin+tenant+${kindOf(flat.slice(begin[0].length))}` : kindOf(flat);
      void answer.then(
        () => {
          (times[kind] ??= []).push(Number(process.hrtime.bigint() - started) / 1e6);
        },
        () => undefined,
      );
    }
    return returned;
  };
  try {
    await work();
  } finally {
    proto.query = original;
  }
  return Object.fromEntries(
    Object.entries(times).map(([kind, samples]) => {
      const sorted = [...samples].sort((a, b) => a - b);
      return [kind, { median: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN, count: samples.length }];
    }),
  );
}

/**
 * Node CPU per operation of `work` (`count` operations), in µs: this process's user and system
 * time (`process.cpuUsage`), so the system time of its sockets is in it, and so is whatever else
 * the process does meanwhile (the audit chainer's runs after gated reads). The part of an
 * operation's time spent on the two cores outside the database (decisions 0755, 0757).
 */
export async function nodeCpuPerOperation(count: number, work: () => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}
