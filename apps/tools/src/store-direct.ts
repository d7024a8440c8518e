// Direct access to the account table, for what the AccountStore interface deliberately does not offer:
// a cheap account count (the progress bar's total) and bulk inserts (seeding a million accounts).
// The layout is the one @lending/accounts migrations create (packages/accounts/src/store/*-migrations.ts):
// accounts(username, email_lower, itemname, revision, data) with the whole record as JSON in `data` (on SQLite a
// WITHOUT ROWID table: no rowid to rely on, username is the key).
// Always open the store with openAccountStore first, so that its migrations have run.
import Database from 'better-sqlite3';
import pg from 'pg';
import type { AccountRecord } from '@lending/accounts';
import { sqlitePath } from './cli-common';

export interface PostgresTarget {
  /** The URL pg sees, without our `schema` parameter. */
  connectionString: string;
  schema: string | null;
  /** Schema-qualified, quoted table name. */
  table: string;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Mirrors openAccountStore: an optional `schema=<name>` query parameter selects the schema. */
export function postgresTarget(databaseUrl: string): PostgresTarget {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema');
  url.searchParams.delete('schema');
  return {
    connectionString: url.toString(),
    schema,
    table: schema ? `${quoteIdent(schema)}.accounts` : 'accounts',
  };
}

export function isPostgresUrl(databaseUrl: string): boolean {
  return /^postgres(ql)?:\/\//i.test(databaseUrl);
}

/**
 * Number of accounts, for the progress bar: SQLite counts its smallest index (tens of ms for a million rows,
 * no table scan); PostgreSQL answers from the planner's statistics (pg_class.reltuples per page, no scan,
 * scaled to the table's current size), counting only when the table was never analysed. Null when unknown.
 */
export async function countAccounts(databaseUrl: string): Promise<number | null> {
  if (isPostgresUrl(databaseUrl)) {
    const target = postgresTarget(databaseUrl);
    const client = new pg.Client({ connectionString: target.connectionString });
    await client.connect();
    try {
      // The planner's own estimate: tuples per page from the last ANALYZE times the table's current pages.
      const estimate = await client.query<{ n: string | null }>(
        `SELECT CASE WHEN c.reltuples <= 0 OR c.relpages = 0 THEN NULL
                ELSE (c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::int))::bigint
                END AS n
         FROM pg_class c WHERE c.oid = to_regclass($1)`,
        [target.table],
      );
      const n = estimate.rows[0]?.n;
      if (n !== null && n !== undefined) return Number(n);
      const exact = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${target.table}`);
      return Number(exact.rows[0]?.n ?? 0);
    } finally {
      await client.end();
    }
  }
  const path = sqlitePath(databaseUrl);
  if (path === null) return null;
  // Read-only: this connection never writes, never checkpoints (the store's own connection is open meanwhile).
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT count(*) AS n FROM accounts').get() as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

/** The columns the store writes for a new account (revision 1, like AccountStore.create). */
function toRow(record: AccountRecord): [string, string, string | null, string] {
  return [record.username, record.email.toLowerCase(), record.itemname ?? null, JSON.stringify(record)];
}

export interface BulkWriter {
  /** Inserts the records in one transaction. */
  insert(records: readonly AccountRecord[]): Promise<void>;
  close(): Promise<void>;
}

export async function openBulkWriter(databaseUrl: string): Promise<BulkWriter> {
  if (isPostgresUrl(databaseUrl)) {
    const target = postgresTarget(databaseUrl);
    const client = new pg.Client({ connectionString: target.connectionString });
    await client.connect();
    // One statement per chunk: the rows travel as five arrays and unnest turns them back into rows.
    const sql =
      `INSERT INTO ${target.table} (username, email_lower, itemname, revision, data) ` +
      `SELECT u, e, i, 1, d::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(u, e, i, d)`;
    return {
      async insert(records) {
        const columns: [string[], string[], (string | null)[], string[]] = [[], [], [], []];
        for (const record of records) {
          const [u, e, i, d] = toRow(record);
          columns[0].push(u);
          columns[1].push(e);
          columns[2].push(i);
          columns[3].push(d);
        }
        await client.query(sql, columns);
      },
      async close() {
        // Fresh planner statistics: the purge's progress total and its plans depend on them.
        try {
          await client.query(`ANALYZE ${target.table}`);
        } finally {
          await client.end();
        }
      },
    };
  }
  const path = sqlitePath(databaseUrl);
  if (path === null) throw new Error('bulk inserts need a SQLite file or a PostgreSQL database');
  const db = new Database(path, { fileMustExist: true, timeout: 5000 });
  // The store's own connection settings: in particular secure_delete, without which page splits would leave
  // stale copies of rows (keys included) in the unused space of pages, where no later purge could reach them.
  db.pragma('journal_mode = WAL');
  db.pragma('secure_delete = ON');
  db.pragma('synchronous = NORMAL');
  // Rows arrive in random key order: a large page cache keeps the pages of the table (WITHOUT ROWID, a B-tree
  // keyed by username since migration 3) and of its two other unique indexes in memory.
  db.pragma('cache_size = -262144');
  const insert = db.prepare<[string, string, string | null, string]>(
    'INSERT INTO accounts (username, email_lower, itemname, revision, data) VALUES (?, ?, ?, 1, ?)',
  );
  const insertAll = db.transaction((records: readonly AccountRecord[]) => {
    for (const record of records) insert.run(...toRow(record));
  });
  return {
    insert(records) {
      insertAll.immediate(records);
      return Promise.resolve();
    },
    close() {
      db.close();
      return Promise.resolve();
    },
  };
}
