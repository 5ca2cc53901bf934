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
