import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { AccountExistsError, AccountNotFoundError, RevisionConflictError } from '../errors';
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
import { StoreDatabaseError, sanitizeSqliteError } from './database-error';
import { compareUsernames } from './username-order';
import {
  InvalidAccountInputError,
  LIMITS,
  applyChanges,
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
  withSession,
} from './records';
import { SQLITE_MIGRATIONS } from './sqlite-migrations';

interface Row {
  username: string;
  revision: number;
  data: string;
  sessions: string;
}

/** How long a connection waits for another process's write lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/** The settings of every connection that writes accounts: the store's, and the admin's bulk writer. */
export function configureConnection(db: Database.Database): void {
  // WAL: readers never block the writer; several processes may share the file (busy_timeout above).
  db.pragma('journal_mode = WAL');
  // Deleted and overwritten content (purged keys) is zeroed on disk rather than left in free space.
  db.pragma('secure_delete = ON');
  // Statement journals and temporary tables stay in memory: by default SQLite spills them to /var/tmp or /tmp,
  // and a statement journal holds the original images of the pages a statement changes (a purge batch's: keys).
  db.pragma('temp_store = MEMORY');
  // In WAL mode NORMAL is crash-safe (no corruption); only the last commits may be lost on power failure.
  db.pragma('synchronous = NORMAL');
}

// Must be written exactly as in the partial index accounts_with_s3keys (migration 2), so SQLite uses that index.
const HAS_KEYS = `json_type(data, '$.s3Keys') IS NOT NULL`;

function parseDocument(row: Row): Account {
  let doc: unknown;
  try {
    doc = JSON.parse(row.data);
  } catch {
    throw new StoreDatabaseError(`The stored record of account ${row.username} is not valid JSON`, undefined);
  }
  return toAccount(row.username, row.revision, doc, toSessions(row.sessions));
}

function uniqueField(error: unknown): 'username' | 'email' | 'itemname' | null {
  const code = (error as { code?: unknown }).code;
  if (code !== 'SQLITE_CONSTRAINT_UNIQUE' && code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return null;
  const message = (error as Error).message;
  if (message.includes('accounts.email_lower')) return 'email';
  if (message.includes('accounts.itemname')) return 'itemname';
  if (message.includes('accounts.username')) return 'username';
  return null;
}

/** SQLite adapter (better-sqlite3: synchronous calls, wrapped in promises to fit AccountStore). */
export class SqliteAccountStore implements AccountStore {
  readonly kind = 'sqlite' as const;
  private closed = false;
  private purgeCheckpointRaised = false;
  private readonly stmt;

  private constructor(private readonly db: Database.Database) {
    const select = 'SELECT username, revision, data, sessions FROM accounts';
    this.stmt = {
      byUsername: db.prepare<[string], Row>(`${select} WHERE username = ?`),
      byEmail: db.prepare<[string], Row>(`${select} WHERE email_lower = ?`),
      byItemname: db.prepare<[string], Row>(`${select} WHERE itemname = ?`),
      insert: db.prepare<[string, string, string | null, string]>(
        'INSERT INTO accounts (username, email_lower, itemname, revision, data) VALUES (?, ?, ?, 1, ?)',
      ),
      update: db.prepare<[string, string | null, string, string, number]>(
        `UPDATE accounts SET email_lower = ?, itemname = ?, data = ?, revision = revision + 1
         WHERE username = ? AND revision = ?`,
      ),
      scan: db.prepare<[string, number], Row>(`${select} WHERE username > ? ORDER BY username LIMIT ?`),
      removeKeys: db.prepare<[string]>(
        `UPDATE accounts SET data = json_remove(data, '$.s3Keys'), revision = revision + 1
         WHERE username = ? AND ${HAS_KEYS}`,
      ),
      saveKeys: db.prepare<[string, string]>(
        `UPDATE accounts SET data = json_set(data, '$.s3Keys', json(?)), revision = revision + 1 WHERE username = ?`,
      ),
      batchBounds: db.prepare<[string, number], { scanned: number; last: string | null }>(
        `SELECT count(*) AS scanned, max(username) AS last
         FROM (SELECT username FROM accounts WHERE username > ? ORDER BY username LIMIT ?)`,
      ),
      batchUsernames: db.prepare<[string, number], { username: string }>(
        'SELECT username FROM accounts WHERE username > ? ORDER BY username LIMIT ?',
      ),
      batchWithKeys: db.prepare<[string, string], { username: string }>(
        `SELECT username FROM accounts WHERE username > ? AND username <= ? AND ${HAS_KEYS} ORDER BY username`,
      ),
      batchPurge: db.prepare<[string, string], { username: string }>(
        `UPDATE accounts SET data = json_remove(data, '$.s3Keys'), revision = revision + 1
         WHERE username > ? AND username <= ? AND ${HAS_KEYS} RETURNING username`,
      ),
      rowHasKeys: db.prepare<[string], { has: number }>(
        `SELECT (${HAS_KEYS}) AS has FROM accounts WHERE username = ?`,
      ),
      sessionsOf: db.prepare<[string], { sessions: string }>(
        'SELECT sessions FROM accounts WHERE username = ?',
      ),
      setSessions: db.prepare<[string, string]>('UPDATE accounts SET sessions = ? WHERE username = ?'),
      ping: db.prepare('SELECT 1'),
    };
  }

  /** Opens (creating the file and its parent directory if needed) and migrates. `:memory:` for a private store. */
  static open(filename: string): Promise<SqliteAccountStore> {
    let db: Database.Database | undefined;
    try {
      if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
      db = new Database(filename, { timeout: BUSY_TIMEOUT_MS });
      configureConnection(db);
      db.pragma('foreign_keys = ON');
      migrate(db);
      return Promise.resolve(new SqliteAccountStore(db));
    } catch (error) {
      db?.close();
      return Promise.reject(sanitizeSqliteError(error, 'open'));
    }
  }

  private run<T>(operation: string, fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (error) {
      // Driver errors are rewritten; our own (validation, not found, conflict, exists) pass through unchanged.
      if (error instanceof Database.SqliteError) return Promise.reject(sanitizeSqliteError(error, operation));
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  getByUsername(username: string): Promise<Account | null> {
    return this.run('getByUsername', () => {
      const key = lookupKey(username, LIMITS.username);
      const row = key === null ? undefined : this.stmt.byUsername.get(key);
      return row ? parseDocument(row) : null;
    });
  }

  getByEmail(email: string): Promise<Account | null> {
    return this.run('getByEmail', () => {
      const key = lookupKey(email, LIMITS.email);
      const row = key === null ? undefined : this.stmt.byEmail.get(emailKey(key));
      return row ? parseDocument(row) : null;
    });
  }

  getByItemname(itemname: string): Promise<Account | null> {
    return this.run('getByItemname', () => {
      const key = lookupKey(itemname, LIMITS.itemname);
      const row = key === null ? undefined : this.stmt.byItemname.get(key);
      return row ? parseDocument(row) : null;
    });
  }

  create(account: NewAccount): Promise<Account> {
    return this.run('create', () => {
      const doc = newAccountDocument(account);
      try {
        this.stmt.insert.run(doc.username, emailKey(doc.email), doc.itemname, JSON.stringify(doc));
      } catch (error) {
        const field = uniqueField(error);
        if (field) throw new AccountExistsError(field);
        throw error;
      }
      return toAccount(doc.username, 1, doc);
    });
  }

  update(username: string, expectedRevision: number, changes: AccountChanges): Promise<Account> {
    return this.run('update', () => {
      const name = checkUsername(username);
      const expected = checkRevision(expectedRevision);
      const checked = checkChanges(name, changes);
      // Read, merge and write inside one write transaction: no other process can write in between.
      return this.db
        .transaction(() => {
          const row = this.stmt.byUsername.get(name);
          if (!row) throw new AccountNotFoundError(name);
          if (row.revision !== expected) throw new RevisionConflictError(name);
          const current = parseDocument(row);
          const { revision: _revision, sessions: _sessions, ...stored } = current;
          const next = applyChanges(stored, checked);
          const email = next.email as string;
          const itemname = (next.itemname as string | null | undefined) ?? null;
          try {
            const result = this.stmt.update.run(
              emailKey(email),
              itemname,
              JSON.stringify(next),
              name,
              expected,
            );
            if (result.changes !== 1) throw new RevisionConflictError(name);
          } catch (error) {
            const field = uniqueField(error);
            if (field) throw new AccountExistsError(field);
            throw error;
          }
          return toAccount(name, expected + 1, next, toSessions(row.sessions));
        })
        .immediate();
    });
  }

  scan(options: ScanOptions): Promise<Account[]> {
    return this.run('scan', () => {
      const after = checkCursor(options.after);
      const limit = checkLimit(options.limit);
      if (limit === 0) return [];
      // Usernames are never empty, so '' sorts before every one of them.
      return this.stmt.scan.all(after ?? '', limit).map(parseDocument);
    });
  }

  removeS3Keys(username: string): Promise<boolean> {
    return this.run('removeS3Keys', () => {
      const key = lookupKey(username, LIMITS.username);
      return key === null ? false : this.stmt.removeKeys.run(key).changes > 0;
    });
  }

  async purgeS3KeysBatch(options: PurgeBatchOptions): Promise<PurgeBatchResult> {
    // better-sqlite3 is synchronous: yield to the event loop once per batch, so a walk over millions of rows
    // still lets signal handlers (Ctrl-C), timers and I/O run between batches.
    await new Promise((resolve) => setImmediate(resolve));
    return this.run('purgeS3KeysBatch', () => {
      const after = checkCursor(options.after) ?? '';
      const limit = checkLimit(options.limit);
      const dryRun = options.dryRun;
      if (typeof dryRun !== 'boolean') throw new InvalidAccountInputError('dryRun must be a boolean');
      if (limit === 0) return emptyBatch();
      if (!dryRun && !this.purgeCheckpointRaised) {
        // At the default auto-checkpoint (1000 pages) the rewritten pages were copied and fsynced into the database
        // every couple of batches. Every 10000 pages (~40 MB of WAL) lets rewrites of a page coalesce (interior and
        // index pages; since migration 3 the table is clustered by username, so a leaf is rewritten by one batch).
        // Only this connection, the one purging, is affected; the admin's compaction empties the WAL afterwards.
        this.db.pragma('wal_autocheckpoint = 10000');
        this.purgeCheckpointRaised = true;
      }
      const batch = () => {
        const { scanned, last } = this.stmt.batchBounds.get(after, limit) ?? { scanned: 0, last: null };
        if (scanned === 0 || last === null) return emptyBatch();
        try {
          if (dryRun) {
            const withKeys = this.stmt.batchWithKeys.all(after, last).map((r) => r.username);
            return { scanned, last, withKeys, purged: [], failed: [] };
          }
          // One statement for the whole batch; each row's JSON is edited by SQLite, inside this write
          // transaction, so a concurrent writer either commits before (and its write is kept) or after
          // (and its revision check sees ours).
          const purged = this.stmt.batchPurge
            .all(after, last)
            .map((r) => r.username)
            .sort(compareUsernames);
          return { scanned, last, withKeys: purged, purged, failed: [] };
        } catch (error) {
          if ((error as { code?: unknown }).code !== 'SQLITE_ERROR') throw error;
          // A malformed record fails the batch statement: redo the batch row by row to isolate it.
          return this.purgeRowByRow(after, limit, dryRun);
        }
      };
      // Dry run: a read transaction (a consistent snapshot, no write). Real run: take the write lock up front.
      return dryRun ? this.db.transaction(batch).deferred() : this.db.transaction(batch).immediate();
    });
  }

  private purgeRowByRow(after: string, limit: number, dryRun: boolean): PurgeBatchResult {
    const usernames = this.stmt.batchUsernames.all(after, limit).map((r) => r.username);
    const result: PurgeBatchResult = {
      scanned: usernames.length,
      last: usernames.at(-1) ?? null,
      withKeys: [],
      purged: [],
      failed: [],
    };
    for (const username of usernames) {
      try {
        const has = this.stmt.rowHasKeys.get(username)?.has === 1;
        if (!has) continue;
        result.withKeys.push(username);
        if (!dryRun && this.stmt.removeKeys.run(username).changes > 0) result.purged.push(username);
      } catch (error) {
        result.failed.push({ username, error: sanitizeSqliteError(error, 'purge').message });
      }
    }
    return result;
  }

  addSession(username: string, session: StoredSession, options: { now: number; max: number }): Promise<void> {
    return this.run('addSession', () => {
      const name = checkUsername(username);
      const entry = checkSession(session);
      const limits = checkSessionOptions(options);
      this.db
        .transaction(() => {
          const row = this.stmt.sessionsOf.get(name);
          if (!row) throw new AccountNotFoundError(name);
          const next = withSession(toSessions(row.sessions), entry, limits);
          this.stmt.setSessions.run(JSON.stringify(next), name);
        })
        .immediate();
    });
  }

  removeSession(username: string, id: string): Promise<boolean> {
    return this.run('removeSession', () => {
      const name = lookupKey(username, LIMITS.username);
      const key = sessionIdKey(id);
      if (name === null || key === null) return false;
      return this.db
        .transaction(() => {
          const row = this.stmt.sessionsOf.get(name);
          if (!row) return false;
          const sessions = toSessions(row.sessions);
          const next = sessions.filter((each) => each.id !== key);
          if (next.length === sessions.length) return false;
          this.stmt.setSessions.run(JSON.stringify(next), name);
          return true;
        })
        .immediate();
    });
  }

  removeAllSessions(username: string): Promise<number> {
    return this.run('removeAllSessions', () => {
      const name = lookupKey(username, LIMITS.username);
      if (name === null) return 0;
      return this.db
        .transaction(() => {
          const row = this.stmt.sessionsOf.get(name);
          if (!row) return 0;
          this.stmt.setSessions.run('[]', name);
          return toSessions(row.sessions).length;
        })
        .immediate();
    });
  }

  saveS3Keys(username: string, keys: S3Keys): Promise<void> {
    return this.run('saveS3Keys', () => {
      const name = checkUsername(username);
      const { access, secret } = checkS3Keys(keys);
      const result = this.stmt.saveKeys.run(JSON.stringify({ access, secret }), name);
      if (result.changes === 0) throw new AccountNotFoundError(name);
    });
  }

  ping(): Promise<void> {
    return this.run('ping', () => {
      this.stmt.ping.get();
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return this.run('close', () => {
      this.db.close();
    });
  }
}

function currentVersion(db: Database.Database): number {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (!table) return 0;
  const row = db.prepare('SELECT max(version) AS version FROM schema_migrations').get() as {
    version: number | null;
  };
  return row.version ?? 0;
}

/** Applies pending migrations, each in its own BEGIN IMMEDIATE transaction (one process at a time). */
function migrate(db: Database.Database): void {
  const latest = SQLITE_MIGRATIONS.at(-1)?.version ?? 0;
  // Read first: an up-to-date database is not written to at all (a dry-run purge leaves the file untouched).
  if (currentVersion(db) >= latest) return;
  for (const migration of SQLITE_MIGRATIONS) {
    db.transaction(() => {
      db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
      // Re-read under the write lock: another process may have applied it meanwhile.
      if (currentVersion(db) >= migration.version) return;
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        new Date().toISOString(),
      );
    }).immediate();
  }
}
