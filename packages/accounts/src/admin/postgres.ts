// The admin side of a PostgreSQL store: count estimate, bulk insert, and the rewrite of the accounts relation that
// follows a purge (pg_repack online when it can, else VACUUM FULL).
import pg from 'pg';
import { sanitizePostgresError } from '../store/database-error';
import { databasePassword } from '../store/database-url';
import { accountsTable, quoteIdent } from '../store/postgres';
import { emailKey, newAccountDocument } from '../store/records';
import type { NewAccount } from '../types';
import { findPgRepack, libpqEnvironment, runPgRepack } from './pg-repack';
import type { PgRepackProgram } from './pg-repack';
import type { AccountsAdmin, CompactionMethod, CompactionOptions, CompactionReport } from './types';

const DEFAULT_LOCK_TIMEOUT_MS = 5000;
const DEFAULT_OLD_TRANSACTIONS_TIMEOUT_MS = 60_000;

/** Why VACUUM FULL is the last resort, in the words the operator reads. */
const VACUUM_FULL_LOCKS =
  'VACUUM FULL locks the accounts table for every server while it rewrites it (7 s for a million accounts on the ' +
  'benchmark machine): ' +
  'logins and every other request that reads an account wait meanwhile';

export class PostgresAccountsAdmin implements AccountsAdmin {
  readonly kind = 'postgres' as const;
  private closed = false;

  private constructor(
    private readonly client: pg.Client,
    private readonly connectionString: string,
    private readonly table: string,
    private readonly secrets: { password: string | undefined; schema: string | undefined },
  ) {}

  static async open(connectionString: string, schema: string | undefined): Promise<PostgresAccountsAdmin> {
    const secrets = { password: databasePassword(connectionString), schema };
    const client = new pg.Client({ connectionString, application_name: 'lending-admin' });
    // A connection lost while idle must not crash the process; the next query reports it.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      throw sanitizePostgresError(error, 'open', secrets);
    }
    return new PostgresAccountsAdmin(client, connectionString, accountsTable(schema), secrets);
  }

  private async query<R extends pg.QueryResultRow>(
    operation: string,
    text: string,
    values: unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.client.query<R>(text, values);
    } catch (error) {
      throw sanitizePostgresError(error, operation, this.secrets);
    }
  }

  async estimateAccountCount(): Promise<number> {
    // The planner's own estimate: tuples per page from the last ANALYZE times the table's current pages.
    const estimate = await this.query<{ n: string | null }>(
      'estimateAccountCount',
      `SELECT CASE WHEN c.reltuples <= 0 OR c.relpages = 0 THEN NULL
              ELSE (c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::int))::bigint
              END AS n
       FROM pg_class c WHERE c.oid = to_regclass($1)`,
      [this.table],
    );
    const n = estimate.rows[0]?.n;
    if (n !== null && n !== undefined) return Number(n);
    const exact = await this.query<{ n: string }>(
      'estimateAccountCount',
      `SELECT count(*) AS n FROM ${this.table}`,
    );
    return Number(exact.rows[0]?.n ?? 0);
  }

  async insertAccounts(accounts: readonly NewAccount[]): Promise<void> {
    const columns: [string[], string[], (string | null)[], string[]] = [[], [], [], []];
    for (const account of accounts) {
      const doc = newAccountDocument(account);
      columns[0].push(doc.username);
      columns[1].push(emailKey(doc.email));
      columns[2].push(doc.itemname);
      columns[3].push(JSON.stringify(doc));
    }
    // One statement: the rows travel as four arrays and unnest turns them back into rows.
    await this.query(
      'insertAccounts',
      `INSERT INTO ${this.table} (username, email_lower, itemname, revision, data)
       SELECT u, e, i, 1, d::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(u, e, i, d)`,
      columns,
    );
  }

  async analyze(): Promise<void> {
    await this.query('analyze', `ANALYZE ${this.table}`);
  }

  async compact(options: CompactionOptions = {}): Promise<CompactionReport> {
    const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    const relation = await this.relation();
    const choice = options.method ?? 'auto';
    const warnings: string[] = [];
    let repack: PgRepackProgram | null = null;
    if (choice !== 'vacuum_full') {
      const found = await this.pgRepack(options);
      if (typeof found !== 'string') repack = found;
      else if (choice === 'pg_repack') throw new Error(`pg_repack cannot compact this database: ${found}`);
      else warnings.push(`pg_repack is not available: ${found}.`);
    }
    const method: CompactionMethod = repack === null ? 'vacuum_full' : 'pg_repack';
    if (repack === null) {
      warnings.push(
        `Compacting with VACUUM FULL instead. ${VACUUM_FULL_LOCKS}. It gives up if it cannot take the lock ` +
          `within ${lockTimeoutMs / 1000} s.`,
      );
    }
    options.onStart?.(method, warnings);

    const started = performance.now();
    if (repack !== null) {
      await this.repack(repack, relation, lockTimeoutMs, options);
    } else {
      await this.vacuumFull(lockTimeoutMs, options);
    }
    const ms = performance.now() - started;
    const after = await this.relation();
    if (after.filenode === relation.filenode) {
      throw new Error(`${method} did not rewrite the accounts table; run the purge again`);
    }
    return { method, ms, bytesBefore: relation.bytes, bytesAfter: after.bytes, warnings };
  }

  /** The accounts table's actual schema, its current file and its total size (heap, TOAST, indexes). */
  private async relation(): Promise<{ schema: string; filenode: string; bytes: number }> {
    const { rows } = await this.query<{ schema: string; filenode: string; bytes: string }>(
      'compact',
      `SELECT n.nspname AS schema, pg_relation_filenode(c.oid)::text AS filenode,
              pg_total_relation_size(c.oid)::text AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`,
      [this.table],
    );
    const row = rows[0];
    if (!row) throw new Error('the accounts table does not exist');
    return { schema: row.schema, filenode: row.filenode, bytes: Number(row.bytes) };
  }

  /** The pg_repack program to use, or why there is none, in a sentence that says what to install. */
  private async pgRepack(options: CompactionOptions): Promise<PgRepackProgram | string> {
    const { rows } = await this.query<{ version: string | null; major: number }>(
      'compact',
      `SELECT (SELECT extversion FROM pg_extension WHERE extname = 'pg_repack') AS version,
              current_setting('server_version_num')::int / 10000 AS major`,
    );
    const { version, major } = rows[0] ?? { version: null, major: 0 };
    const install = `install postgresql-${major}-repack (or your platform's pg_repack package for PostgreSQL ${major})`;
    if (version === null) {
      return `the pg_repack extension is not installed in this database (${install} on the database server, then CREATE EXTENSION pg_repack)`;
    }
    const program = await findPgRepack({
      explicit: options.pgRepackPath,
      searchPath: options.environment?.PATH,
      serverMajor: major,
    });
    if (program === null) {
      return options.pgRepackPath
        ? `${options.pgRepackPath} is not a pg_repack program`
        : `the pg_repack program was not found on this machine (${install}, or name it with PG_REPACK)`;
    }
    if (program.version !== version) {
      return `${program.path} is version ${program.version} but the database's extension is ${version}; they must match`;
    }
    try {
      libpqEnvironment(this.connectionString);
    } catch (error) {
      return (error as Error).message;
    }
    return program;
  }

  private async repack(
    program: PgRepackProgram,
    relation: { schema: string },
    lockTimeoutMs: number,
    options: CompactionOptions,
  ): Promise<void> {
    const args = [
      // No clustering order: rewrite the live rows as they are (an online VACUUM FULL).
      '--no-order',
      // Never cancel or terminate the servers' queries: give up instead (detected by the caller).
      '--no-kill-backend',
      `--wait-timeout=${Math.max(1, Math.ceil(lockTimeoutMs / 1000))}`,
      `--table=${quoteIdent(relation.schema)}.accounts`,
    ];
    // pg_repack waits for every transaction open when it starts (it says so, once a second): passed on, so that
    // the operator sees which session holds it up.
    const scrub = (line: string): string =>
      this.secrets.password ? line.split(this.secrets.password).join('***') : line;
    const { code, output } = await runPgRepack(
      program,
      args,
      { ...options.environment, ...libpqEnvironment(this.connectionString) },
      (line) => options.onOutput?.(`pg_repack: ${scrub(line)}`),
    );
    if (code !== 0) throw new Error(`pg_repack failed (exit ${code}): ${scrub(output).slice(0, 1000)}`);
  }

  /**
   * VACUUM FULL copies every row version that some open transaction may still see: a transaction older than the
   * purge (a report, a backup) would keep the old versions, keys included, in the new files. So first wait, with
   * no lock taken, until every transaction that began before now has ended (as pg_repack does); name those that
   * do not end in time, and give up.
   */
  private async vacuumFull(lockTimeoutMs: number, options: CompactionOptions): Promise<void> {
    const waitMs = options.oldTransactionsTimeoutMs ?? DEFAULT_OLD_TRANSACTIONS_TIMEOUT_MS;
    const { rows } = await this.query<{ horizon: string }>(
      'compact',
      // The next transaction id, as a 32-bit xid comparable with backend_xmin through age().
      `SELECT (txid_snapshot_xmax(txid_current_snapshot()) % 4294967296)::text AS horizon`,
    );
    const horizon = rows[0]?.horizon ?? '0';
    const deadline = Date.now() + waitMs;
    let announced = false;
    for (;;) {
      const older = await this.transactionsOlderThan(horizon);
      if (older.length === 0) break;
      if (Date.now() >= deadline) {
        throw new Error(
          `transactions open since before the purge can still see the removed keys, and VACUUM FULL would copy ` +
            `them: ${older.join(', ')}. End them, then run the purge again.`,
        );
      }
      if (!announced) {
        options.onOutput?.(`waiting for transactions older than the purge to end: ${older.join(', ')}`);
        announced = true;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await this.query('compact', `SET lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}`);
    try {
      await this.query('compact', `VACUUM (FULL, ANALYZE) ${this.table}`);
    } finally {
      await this.query('compact', 'RESET lock_timeout');
    }
  }

  /** Sessions, prepared transactions and replication slots of this database holding a snapshot older than `horizon`. */
  private async transactionsOlderThan(horizon: string): Promise<string[]> {
    const { rows } = await this.query<{ holder: string }>(
      'compact',
      `SELECT format('pid %s (%s, open for %s)', pid, coalesce(nullif(application_name, ''), 'no name'),
                     date_trunc('second', now() - xact_start)) AS holder
       FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xmin IS NOT NULL
         AND age(backend_xmin) > age($1::xid)
       UNION ALL
       SELECT format('prepared transaction %L', gid) FROM pg_prepared_xacts
       WHERE database = current_database() AND age(transaction) > age($1::xid)
       UNION ALL
       SELECT format('replication slot %L', slot_name) FROM pg_replication_slots
       WHERE xmin IS NOT NULL AND age(xmin) > age($1::xid)`,
      [horizon],
    );
    return rows.map((row) => row.holder);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.end();
  }
}
