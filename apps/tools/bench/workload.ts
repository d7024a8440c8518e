// A login-like workload for the compaction benchmarks: a few clients each read an account by username and then
// write it back (lastLogin, revision), as a login does, over and over, recording how long each request took.
import Database from 'better-sqlite3';
import pg from 'pg';

export interface WorkloadResult {
  requests: number;
  failed: number;
  /** Longest single request (read and write) in ms: the stall a patron would have seen. */
  longestMs: number;
  p99Ms: number;
}

function summarize(latencies: number[], failed: number): WorkloadResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    requests: latencies.length,
    failed,
    longestMs: sorted.at(-1) ?? 0,
    p99Ms: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
  };
}

export interface RunningWorkload {
  stop(): Promise<WorkloadResult>;
}

/** PostgreSQL: `connections` clients, each its own connection, on `table`, usernames drawn from `usernames`. */
export async function startPostgresWorkload(
  connectionString: string,
  table: string,
  usernames: readonly string[],
  connections = 4,
): Promise<RunningWorkload> {
  const clients = await Promise.all(
    Array.from({ length: connections }, async () => {
      const client = new pg.Client({ connectionString, application_name: 'bench-logins' });
      await client.connect();
      return client;
    }),
  );
  const latencies: number[] = [];
  let failed = 0;
  let running = true;
  const loops = clients.map(async (client, n) => {
    let i = n;
    while (running) {
      const username = usernames[(i = (i * 7919 + 13) % usernames.length)]!;
      const started = performance.now();
      try {
        const { rows } = await client.query<{ revision: number }>(
          `SELECT username, revision, data FROM ${table} WHERE username = $1`,
          [username],
        );
        await client.query(
          `UPDATE ${table} SET data = jsonb_set(data, '{lastLogin}', to_jsonb(now()::text)), revision = revision + 1
           WHERE username = $1 AND revision = $2`,
          [username, rows[0]?.revision ?? 0],
        );
        latencies.push(performance.now() - started);
      } catch {
        failed += 1;
        latencies.push(performance.now() - started);
      }
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      await Promise.all(clients.map((client) => client.end()));
      return summarize(latencies, failed);
    },
  };
}

/**
 * SQLite: one connection with the store's busy timeout, reading and writing in turn. better-sqlite3 blocks while
 * it waits for a lock, so this runs while the compaction is in another process, yielding between requests.
 */
export function startSqliteWorkload(file: string, usernames: readonly string[]): RunningWorkload {
  const db = new Database(file, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const read = db.prepare<[string], { revision: number }>(
    'SELECT revision, data FROM accounts WHERE username = ?',
  );
  const write = db.prepare<[string, string, number]>(
    `UPDATE accounts SET data = json_set(data, '$.lastLogin', ?), revision = revision + 1
     WHERE username = ? AND revision = ?`,
  );
  const latencies: number[] = [];
  let failed = 0;
  let running = true;
  const loop = (async () => {
    let i = 0;
    while (running) {
      const username = usernames[(i = (i * 7919 + 13) % usernames.length)]!;
      const started = performance.now();
      try {
        const revision = read.get(username)?.revision ?? 0;
        write.run(new Date().toISOString(), username, revision);
      } catch {
        failed += 1;
      }
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      db.close();
      return summarize(latencies, failed);
    },
  };
}
