import type { Socket } from 'node:net';
import pg from 'pg';
import { AccountExistsError, AccountNotFoundError, AppError, RevisionConflictError } from '../errors';
import type {
  Account,
  AccountChanges,
  AccountStore,
  NewAccount,
  PurgeBatchOptions,
  PurgeBatchResult,
  S3Keys,
  ScanOptions,
  StoredSession,
} from '../types';
import { databasePassword } from './database-url';
import { sanitizePostgresError } from './database-error';
import { POSTGRES_MIGRATIONS } from './postgres-migrations';
import {
  InvalidAccountInputError,
  LIMITS,
  checkChanges,
  checkCursor,
  checkLimit,
  checkRevision,
  checkS3Keys,
  checkSession,
  checkSessionOptions,
  checkUsername,
  emailKey,
  emptyBatch,
  lookupKey,
  newAccountDocument,
  sessionIdKey,
  toAccount,
  toSessions,
} from './records';

export interface PostgresStoreOptions {
  /** A libpq-style URL as pg accepts it (no `schema` parameter). */
  connectionString: string;
  /** Schema holding the tables; created when missing. Absent: the connection's search_path decides. */
  schema?: string | undefined;
  /** Pool size (default 10). */
  max?: number;
  /** Server-side limit of each statement, in ms (PostgreSQL's statement_timeout). Absent: none. */
  statementTimeoutMs?: number | undefined;
  /** Server-side limit of each wait for a lock, in ms (PostgreSQL's lock_timeout). Absent: none. */
  lockTimeoutMs?: number | undefined;
  /**
   * Client-side limit of each query, in ms, answer included: covers a database or network that stops answering,
   * which no server-side timeout can. The connection is then dropped. Absent: none.
   */
  queryTimeoutMs?: number | undefined;
  /** How long a query waits for a connection, new or from a full pool, in ms (default 10000). */
  connectTimeoutMs?: number | undefined;
  /**
   * How many queries may wait for a connection when every one is busy; more fail at once with `database_busy`
   * (default: 2 × max). Each waits at most `connectTimeoutMs`.
   */
  maxWaiting?: number | undefined;
}

/** The pool's state, for gauges and /healthz. */
export interface PoolStats {
  max: number;
  total: number;
  idle: number;
  waiting: number;
}

/** What /healthz says of the database: `busy` is a full pool in front of a database that answers. */
export type DatabaseHealth = 'up' | 'busy' | 'down';

/** SQLSTATEs and driver messages that mean "too slow, try again", not "down" or "wrong". */
const BUSY_CODES = new Set([
  '57014' /* query_canceled: statement_timeout */,
  '55P03' /* lock_not_available */,
]);
const QUERY_TIMEOUT = /^Query read timeout$/;
const POOL_WAIT_TIMEOUT = /^timeout exceeded when trying to connect$/;
/** How long a query that got no answer waits for the probe that tells busy from down. */
const SLOW_PROBE_MS = 1000;

interface Row {
  username: string;
  revision: number;
  data: unknown;
  sessions: unknown;
}

function accountOf(row: Row): Account {
  return toAccount(row.username, row.revision, row.data, toSessions(row.sessions));
}

const UNIQUE_FIELDS: Record<string, 'username' | 'email' | 'itemname'> = {
  accounts_pkey: 'username',
  accounts_email_lower_key: 'email',
  accounts_itemname_key: 'itemname',
};

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The accounts table, schema-qualified and quoted when a schema is named. */
export function accountsTable(schema: string | undefined): string {
  return schema ? `${quoteIdent(schema)}.accounts` : 'accounts';
}

/** PostgreSQL adapter: a pg Pool, one jsonb document per account. */
export class PostgresAccountStore implements AccountStore {
  readonly kind = 'postgres' as const;
  private closed = false;
  private readonly sql;

  /** Every connection the pool opened and has not seen end, so that close() can cut them. */
  private readonly sockets = new Set<pg.Client>();

  private constructor(
    private readonly pool: pg.Pool,
    private readonly secrets: { password: string | undefined; schema: string | undefined },
    private readonly table: string,
    private readonly limits: { max: number; maxWaiting: number; config: pg.PoolConfig },
  ) {
    this.track(pool);
    const t = table;
    const select = `SELECT username, revision, data, sessions FROM ${t}`;
    this.sql = {
      byUsername: `${select} WHERE username = $1`,
      byEmail: `${select} WHERE email_lower = $1`,
      byItemname: `${select} WHERE itemname = $1`,
      insert: `INSERT INTO ${t} (username, email_lower, itemname, revision, data) VALUES ($1, $2, $3, 1, $4::jsonb)`,
      // The merge happens in the database, in the same statement as the revision check: `||` replaces
      // top-level fields and keeps the others (unknown fields survive), `- text[]` removes fields.
      update: `UPDATE ${t}
        SET data = (data || $3::jsonb) - $4::text[],
            revision = revision + 1,
            email_lower = coalesce($5::text, email_lower),
            itemname = CASE WHEN $6::boolean THEN $7::text ELSE itemname END
        WHERE username = $1 AND revision = $2
        RETURNING username, revision, data, sessions`,
      revisionOf: `SELECT revision FROM ${t} WHERE username = $1`,
      // Sessions: one statement each, so the row lock makes them atomic (under READ COMMITTED a concurrent change
      // of the row is waited for, and the expression re-evaluated on its newest version).
      addSession: `UPDATE ${t} SET sessions = (
          SELECT coalesce(jsonb_agg(e ORDER BY ord), '[]'::jsonb) FROM (
            SELECT e, ord FROM jsonb_array_elements(
              (SELECT coalesce(jsonb_agg(old), '[]'::jsonb) FROM jsonb_array_elements(sessions) AS o(old)
                WHERE old->>'id' <> $2::text) || jsonb_build_array(jsonb_build_object('id', $2::text, 'expiresAt', $3::bigint))
            ) WITH ORDINALITY AS x(e, ord)
            WHERE (e->>'expiresAt')::bigint > $4::bigint
            ORDER BY ord DESC LIMIT $5
          ) AS kept)
        WHERE username = $1`,
      removeSession: `UPDATE ${t} SET sessions = (
          SELECT coalesce(jsonb_agg(e ORDER BY ord), '[]'::jsonb)
          FROM jsonb_array_elements(sessions) WITH ORDINALITY AS x(e, ord) WHERE e->>'id' <> $2::text)
        WHERE username = $1 AND sessions @> jsonb_build_array(jsonb_build_object('id', $2::text))`,
      removeAllSessions: `WITH old AS (
          SELECT username, jsonb_array_length(sessions) AS n FROM ${t} WHERE username = $1 FOR UPDATE
        )
        UPDATE ${t} SET sessions = '[]'::jsonb FROM old WHERE ${t}.username = old.username
        RETURNING old.n`,
      scan: `${select} WHERE username > $1 ORDER BY username LIMIT $2`,
      removeKeys: `UPDATE ${t} SET data = data - 's3Keys', revision = revision + 1
        WHERE username = $1 AND data ? 's3Keys'`,
      saveKeys: `UPDATE ${t} SET data = jsonb_set(data, '{s3Keys}', $2::jsonb), revision = revision + 1
        WHERE username = $1`,
      // One statement per batch. The batch is the next $2 usernames after $1; the UPDATE then edits, inside
      // PostgreSQL, only the rows of that key range that hold keys. Under READ COMMITTED a row that another
      // transaction changed meanwhile is re-checked and edited in its newest version (no lost write), and that
      // writer's own revision check sees our bump.
      purgeBatch: `WITH batch AS (
          SELECT username FROM ${t} WHERE username > $1 ORDER BY username LIMIT $2
        ), bounds AS (
          SELECT count(*)::int AS scanned, max(username) AS last FROM batch
        ), purged AS (
          UPDATE ${t} SET data = data - 's3Keys', revision = revision + 1
          WHERE username > $1 AND username <= (SELECT last FROM bounds) AND data ? 's3Keys'
          RETURNING username
        )
        SELECT bounds.scanned, bounds.last,
          coalesce((SELECT array_agg(username ORDER BY username) FROM purged), '{}'::text[]) AS purged
        FROM bounds`,
      dryRunBatch: `WITH batch AS (
          SELECT username, data ? 's3Keys' AS has_keys FROM ${t} WHERE username > $1 ORDER BY username LIMIT $2
        )
        SELECT count(*)::int AS scanned, max(username) AS last,
          coalesce(array_agg(username ORDER BY username) FILTER (WHERE has_keys), '{}'::text[]) AS with_keys
        FROM batch`,
    };
  }

  static async open(options: PostgresStoreOptions): Promise<PostgresAccountStore> {
    const secrets = { password: databasePassword(options.connectionString), schema: options.schema };
    const max = options.max ?? 10;
    const config: pg.PoolConfig = {
      connectionString: options.connectionString,
      max,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      application_name: 'lending-accounts',
      // Dead peers (a cut network, a vanished host) are noticed by the kernel, not only at the next query.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
      ...(options.lockTimeoutMs ? { lock_timeout: options.lockTimeoutMs } : {}),
      ...(options.queryTimeoutMs ? { query_timeout: options.queryTimeoutMs } : {}),
    };
    const pool = new pg.Pool(config);
    // An idle client losing its connection must not crash the process; the next query reports the failure.
    pool.on('error', () => undefined);
    const prefix = options.schema ? `${quoteIdent(options.schema)}.` : '';
    const store = new PostgresAccountStore(pool, secrets, accountsTable(options.schema), {
      max,
      maxWaiting: options.maxWaiting ?? 2 * max,
      config,
    });
    try {
      await store.migrate(prefix);
      return store;
    } catch (error) {
      await store.close().catch(() => undefined);
      throw sanitizePostgresError(error, 'open', secrets);
    }
  }

  /** /healthz's own connection, outside the pool, so that a full pool is told apart from a dead database. */
  private probePool: pg.Pool | null = null;

  private probe(): pg.Pool {
    if (!this.probePool) {
      this.probePool = new pg.Pool({ ...this.limits.config, max: 1, idleTimeoutMillis: 60_000 });
      this.probePool.on('error', () => undefined);
      this.track(this.probePool);
    }
    return this.probePool;
  }

  private track(pool: pg.Pool): void {
    pool.on('connect', (client) => this.sockets.add(client));
    pool.on('remove', (client) => this.sockets.delete(client));
  }

  private async migrate(prefix: string): Promise<void> {
    const schema = this.secrets.schema;
    const migrationsTable = `${prefix}schema_migrations`;
    const client = await this.pool.connect();
    try {
      for (;;) {
        await client.query('BEGIN');
        try {
          // One migrating process at a time per schema; the lock is released at COMMIT/ROLLBACK.
          await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
            `lending.accounts:${schema ?? ''}`,
          ]);
          // Check before creating: CREATE ... IF NOT EXISTS needs the CREATE privilege even when nothing is made.
          if (schema) {
            const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
            if (found.rowCount === 0) await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
          }
          const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [
            migrationsTable,
          ]);
          if (exists.rows[0]?.t == null) {
            await client.query(`CREATE TABLE ${migrationsTable} (
              version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
          }
          const current = await client.query<{ version: number }>(
            `SELECT coalesce(max(version), 0)::int AS version FROM ${migrationsTable}`,
          );
          const version = current.rows[0]?.version ?? 0;
          const next = POSTGRES_MIGRATIONS.find((m) => m.version > version);
          if (!next) {
            await client.query('COMMIT');
            return;
          }
          await client.query(next.sql.replaceAll('{{accounts}}', this.table));
          await client.query(`INSERT INTO ${migrationsTable} (version, name) VALUES ($1, $2)`, [
            next.version,
            next.name,
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }
    } finally {
      client.release();
    }
  }

  /**
   * One query through the pool, failing fast when the pool is full and its queue too, and turning "too slow"
   * (statement or lock timeout, no answer in time, no free connection in time) into `database_busy`. Other errors
   * are the driver's, for the caller to sanitise.
   */
  private async run<R extends pg.QueryResultRow>(
    operation: string,
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    const pool = this.pool;
    const full = pool.totalCount >= this.limits.max && pool.idleCount === 0;
    if (full && pool.waitingCount >= this.limits.maxWaiting) {
      throw new AppError(
        'database_busy',
        `store ${operation}: every database connection is busy and ${pool.waitingCount} queries wait already`,
        { retryAfterSeconds: 1 },
      );
    }
    try {
      return await pool.query<R>(text, values);
    } catch (error) {
      const slow = slowReason(error, full);
      if (!slow) throw error;
      const cause = sanitizePostgresError(error, operation, this.secrets);
      // No answer in time: a database that does not answer its own probe either is down, not busy.
      const down = slow.ask && (await this.health(SLOW_PROBE_MS)) === 'down';
      throw new AppError(
        down ? 'database_unavailable' : 'database_busy',
        `store ${operation}: ${slow.reason}${down ? ' and the database did not answer a probe' : ''}`,
        { retryAfterSeconds: down ? 5 : 1, cause },
      );
    }
  }

  private async query<R extends pg.QueryResultRow>(
    operation: string,
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.run<R>(operation, text, values);
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw sanitizePostgresError(error, operation, this.secrets);
    }
  }

  private async getOne(operation: string, text: string, key: string | null): Promise<Account | null> {
    if (key === null) return null;
    const { rows } = await this.query<Row>(operation, text, [key]);
    const row = rows[0];
    return row ? accountOf(row) : null;
  }

  getByUsername(username: string): Promise<Account | null> {
    return this.getOne('getByUsername', this.sql.byUsername, lookupKey(username, LIMITS.username));
  }

  getByEmail(email: string): Promise<Account | null> {
    const key = lookupKey(email, LIMITS.email);
    return this.getOne('getByEmail', this.sql.byEmail, key === null ? null : emailKey(key));
  }

  getByItemname(itemname: string): Promise<Account | null> {
    return this.getOne('getByItemname', this.sql.byItemname, lookupKey(itemname, LIMITS.itemname));
  }

  async create(account: NewAccount): Promise<Account> {
    const doc = newAccountDocument(account);
    try {
      await this.run('create', this.sql.insert, [
        doc.username,
        emailKey(doc.email),
        doc.itemname,
        JSON.stringify(doc),
      ]);
    } catch (error) {
      if (error instanceof AppError) throw error;
      const field = uniqueViolation(error);
      if (field) throw new AccountExistsError(field);
      throw sanitizePostgresError(error, 'create', this.secrets);
    }
    return toAccount(doc.username, 1, doc);
  }

  async update(username: string, expectedRevision: number, changes: AccountChanges): Promise<Account> {
    const name = checkUsername(username);
    const expected = checkRevision(expectedRevision);
    const checked = checkChanges(name, changes);
    let result: pg.QueryResult<Row>;
    try {
      result = await this.run<Row>('update', this.sql.update, [
        name,
        expected,
        JSON.stringify(checked.set),
        checked.remove,
        checked.emailLower ?? null,
        checked.itemname !== undefined,
        checked.itemname?.value ?? null,
      ]);
    } catch (error) {
      if (error instanceof AppError) throw error;
      const field = uniqueViolation(error);
      if (field) throw new AccountExistsError(field);
      throw sanitizePostgresError(error, 'update', this.secrets);
    }
    const row = result.rows[0];
    if (row) return accountOf(row);
    const current = await this.query<{ revision: number }>('update', this.sql.revisionOf, [name]);
    if (current.rowCount === 0) throw new AccountNotFoundError(name);
    throw new RevisionConflictError(name);
  }

  async scan(options: ScanOptions): Promise<Account[]> {
    const after = checkCursor(options.after);
    const limit = checkLimit(options.limit);
    if (limit === 0) return [];
    // Usernames are never empty, so '' sorts before every one of them.
    const { rows } = await this.query<Row>('scan', this.sql.scan, [after ?? '', limit]);
    return rows.map(accountOf);
  }

  async removeS3Keys(username: string): Promise<boolean> {
    const key = lookupKey(username, LIMITS.username);
    if (key === null) return false;
    const result = await this.query('removeS3Keys', this.sql.removeKeys, [key]);
    return (result.rowCount ?? 0) > 0;
  }

  async purgeS3KeysBatch(options: PurgeBatchOptions): Promise<PurgeBatchResult> {
    const after = checkCursor(options.after) ?? '';
    const limit = checkLimit(options.limit);
    if (typeof options.dryRun !== 'boolean') throw new InvalidAccountInputError('dryRun must be a boolean');
    if (limit === 0) return emptyBatch();
    if (options.dryRun) {
      const { rows } = await this.query<{ scanned: number; last: string | null; with_keys: string[] }>(
        'purgeS3KeysBatch',
        this.sql.dryRunBatch,
        [after, limit],
      );
      const row = rows[0];
      if (!row || row.scanned === 0) return emptyBatch();
      return { scanned: row.scanned, last: row.last, withKeys: row.with_keys, purged: [], failed: [] };
    }
    // jsonb cannot be malformed, so a batch fails only as a whole (connection, timeout): that is thrown.
    const { rows } = await this.query<{ scanned: number; last: string | null; purged: string[] }>(
      'purgeS3KeysBatch',
      this.sql.purgeBatch,
      [after, limit],
    );
    const row = rows[0];
    if (!row || row.scanned === 0) return emptyBatch();
    return { scanned: row.scanned, last: row.last, withKeys: row.purged, purged: row.purged, failed: [] };
  }

  async addSession(
    username: string,
    session: StoredSession,
    options: { now: number; max: number },
  ): Promise<void> {
    const name = checkUsername(username);
    const entry = checkSession(session);
    const { now, max } = checkSessionOptions(options);
    const result = await this.query('addSession', this.sql.addSession, [
      name,
      entry.id,
      entry.expiresAt,
      now,
      max,
    ]);
    if (result.rowCount === 0) throw new AccountNotFoundError(name);
  }

  async removeSession(username: string, id: string): Promise<boolean> {
    const name = lookupKey(username, LIMITS.username);
    const key = sessionIdKey(id);
    if (name === null || key === null) return false;
    const result = await this.query('removeSession', this.sql.removeSession, [name, key]);
    return (result.rowCount ?? 0) > 0;
  }

  async removeAllSessions(username: string): Promise<number> {
    const name = lookupKey(username, LIMITS.username);
    if (name === null) return 0;
    const { rows } = await this.query<{ n: number }>('removeAllSessions', this.sql.removeAllSessions, [name]);
    return rows[0]?.n ?? 0;
  }

  async saveS3Keys(username: string, keys: S3Keys): Promise<void> {
    const name = checkUsername(username);
    const { access, secret } = checkS3Keys(keys);
    const result = await this.query('saveS3Keys', this.sql.saveKeys, [
      name,
      JSON.stringify({ access, secret }),
    ]);
    if (result.rowCount === 0) throw new AccountNotFoundError(name);
  }

  async ping(): Promise<void> {
    await this.query('ping', 'SELECT 1', []);
  }

  /** The pool's state now. */
  poolStats(): PoolStats {
    const { totalCount: total, idleCount: idle, waitingCount: waiting } = this.pool;
    return { max: this.limits.max, total, idle, waiting };
  }

  /**
   * Whether the database answers, asked on a connection of its own (not the pool's): `busy` when it does while
   * the pool is full with queries waiting, `down` when it does not answer within `timeoutMs`.
   */
  async health(timeoutMs: number): Promise<DatabaseHealth> {
    if (this.closed) return 'down';
    const answered = await settleWithin(
      this.probe()
        .query('SELECT 1')
        .then(() => true),
      timeoutMs,
      false,
    );
    if (!answered) return 'down';
    const { total, idle, waiting } = this.poolStats();
    return total >= this.limits.max && idle === 0 && waiting > 0 ? 'busy' : 'up';
  }

  /**
   * Ends the pool. Whatever the database does, this returns within `timeoutMs` (default 5000): connections that
   * have not ended by then (a query that never answers, a peer that never closes) are cut.
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const ends = [this.pool.end()];
    if (this.probePool) ends.push(this.probePool.end());
    const ending = Promise.all(ends.map((end) => end.catch(() => undefined)));
    if (!(await settleWithin(ending, timeoutMs))) {
      for (const client of this.sockets) {
        (client as unknown as { connection?: { stream?: Socket } }).connection?.stream?.destroy();
      }
      this.sockets.clear();
    }
  }
}

/**
 * True when `promise` settles within `ms`: with its value when it resolves to a boolean, else true (rejected:
 * `onReject`, default true).
 */
async function settleWithin(promise: Promise<unknown>, ms: number, onReject = true): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = promise.then(
    (value) => (typeof value === 'boolean' ? value : true),
    () => onReject,
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Why a failed query was too slow, or null. `ask`: the database may be down rather than busy (no answer at all),
 * so its probe decides. `full`: the pool was full when the query started.
 */
function slowReason(error: unknown, full: boolean): { reason: string; ask: boolean } | null {
  if (!(error instanceof Error)) return null;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && BUSY_CODES.has(code)) {
    return { reason: code === '55P03' ? 'lock wait timed out' : 'statement timed out', ask: false };
  }
  if (QUERY_TIMEOUT.test(error.message)) return { reason: 'no answer within the query timeout', ask: true };
  if (full && POOL_WAIT_TIMEOUT.test(error.message)) {
    return { reason: 'no free connection within the connect timeout', ask: true };
  }
  return null;
}

function uniqueViolation(error: unknown): 'username' | 'email' | 'itemname' | null {
  if (!(error instanceof pg.DatabaseError) || error.code !== '23505') return null;
  return UNIQUE_FIELDS[error.constraint ?? ''] ?? null;
}
