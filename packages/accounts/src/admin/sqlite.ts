// The admin side of a SQLite store: count, bulk insert, and the rebuild that follows a purge.
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { StoreDatabaseError, sanitizeSqliteError } from '../store/database-error';
import { emailKey, newAccountDocument } from '../store/records';
import { BUSY_TIMEOUT_MS, configureConnection } from '../store/sqlite';
import type { NewAccount } from '../types';
import type { AccountsAdmin, CompactionOptions, CompactionReport } from './types';

const REBUILD_PROGRAM = fileURLToPath(new URL('./sqlite-rebuild.mjs', import.meta.url));

/** What sqlite-rebuild.mjs prints as its last line. */
interface RebuildOutcome {
  ok: boolean;
  error?: string;
  code?: string;
}

export class SqliteAccountsAdmin implements AccountsAdmin {
  readonly kind = 'sqlite' as const;
  private writer: { db: Database.Database; insertAll: (accounts: readonly NewAccount[]) => void } | null =
    null;

  constructor(private readonly filename: string) {}

  estimateAccountCount(): Promise<number> {
    try {
      // Read-only: this connection never writes and never checkpoints (a store's connection may be open meanwhile).
      const db = new Database(this.filename, {
        readonly: true,
        fileMustExist: true,
        timeout: BUSY_TIMEOUT_MS,
      });
      try {
        return Promise.resolve((db.prepare('SELECT count(*) AS n FROM accounts').get() as { n: number }).n);
      } finally {
        db.close();
      }
    } catch (error) {
      return Promise.reject(sanitizeSqliteError(error, 'estimateAccountCount'));
    }
  }

  insertAccounts(accounts: readonly NewAccount[]): Promise<void> {
    try {
      this.writer ??= this.openWriter();
      this.writer.insertAll(accounts);
      return Promise.resolve();
    } catch (error) {
      if (error instanceof Database.SqliteError)
        return Promise.reject(sanitizeSqliteError(error, 'insertAccounts'));
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private openWriter(): NonNullable<SqliteAccountsAdmin['writer']> {
    const db = new Database(this.filename, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    // The store's own settings, secure_delete above all: without it page splits would leave stale copies of rows
    // (keys included) in the unused space of pages.
    configureConnection(db);
    // Rows arrive in random key order: a large page cache keeps the pages of the table (a B-tree keyed by
    // username) and of its other indexes in memory.
    db.pragma('cache_size = -262144');
    const insert = db.prepare<[string, string, string | null, string]>(
      'INSERT INTO accounts (username, email_lower, itemname, revision, data) VALUES (?, ?, ?, 1, ?)',
    );
    const insertAll = db.transaction((accounts: readonly NewAccount[]) => {
      for (const account of accounts) {
        const doc = newAccountDocument(account);
        insert.run(doc.username, emailKey(doc.email), doc.itemname, JSON.stringify(doc));
      }
    });
    return { db, insertAll: (accounts) => insertAll.immediate(accounts) };
  }

  analyze(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Rebuilds the database in place with VACUUM (secure_delete on), then empties the WAL (checkpoint TRUNCATE).
   *
   * Why VACUUM in place rather than VACUUM INTO a new file renamed over the old one: a rename swaps the file under
   * every connection a running server holds, which would go on reading and writing the old, unlinked file (its
   * writes lost). VACUUM is one write transaction of the database itself: readers keep their snapshot until it
   * commits and then see the rebuilt pages; writers wait for it (busy timeout), so none is lost. It rewrites
   * every page from the live rows only, so no old bytes survive in a page's unused gap, which secure_delete alone
   * leaves behind. Measured by bench/purge.bench.ts in apps/tools at 1M accounts (a 476 MB file): VACUUM INTO +
   * fsync + rename took 2.6 s, VACUUM in place 7.0 s (it writes the database three times: a temporary copy, the
   * WAL, the file), during which a login-like writer waited up to 5 s, and one of its writes gave up at the 5 s
   * busy timeout (an error, nothing written). Only the in-place rebuild is safe with servers running, so the
   * purge takes it and says that writes wait.
   *
   * The rebuild runs in a process of its own: SQLite puts VACUUM's temporary copy of the database (as large as
   * the database, so not in memory) where SQLITE_TMPDIR says, read from the process environment, else in
   * /var/tmp or /tmp. A copy of the accounts there, possibly on another disk, would outlive the purge; the child's
   * environment puts it in the database's own directory, unlinked by SQLite as soon as it is created.
   */
  async compact(options: CompactionOptions = {}): Promise<CompactionReport> {
    if (options.method !== undefined && options.method !== 'auto') {
      throw new Error(`SQLite compacts with VACUUM only; ${options.method} is for PostgreSQL`);
    }
    const bytesBefore = databaseBytes(this.filename);
    options.onStart?.('sqlite_vacuum', []);
    const started = performance.now();
    const outcome = await runRebuild(this.filename);
    if (!outcome.ok) {
      throw new StoreDatabaseError(
        `SQLite error${outcome.code ? ` ${outcome.code}` : ''} during compact: ${outcome.error ?? 'the rebuild failed'}`,
        outcome.code,
      );
    }
    return {
      method: 'sqlite_vacuum',
      ms: performance.now() - started,
      bytesBefore,
      bytesAfter: databaseBytes(this.filename),
      warnings: [],
    };
  }

  close(): Promise<void> {
    this.writer?.db.close();
    this.writer = null;
    return Promise.resolve();
  }
}

/** The database file and its WAL. */
function databaseBytes(filename: string): number {
  const size = (path: string): number => (existsSync(path) ? statSync(path).size : 0);
  return size(filename) + size(`${filename}-wal`);
}

function runRebuild(filename: string): Promise<RebuildOutcome> {
  const directory = dirname(filename);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [REBUILD_PROGRAM, filename], {
      // Nothing inherited: the child needs only where to put its temporary files.
      env: { SQLITE_TMPDIR: directory, TMPDIR: directory },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        const outcome = JSON.parse(last) as RebuildOutcome;
        resolve(outcome);
      } catch {
        resolve({
          ok: false,
          error: `the rebuild process ended (${signal ?? `exit ${code}`}) without a result: ${stderr.trim().slice(0, 500)}`,
        });
      }
    });
  });
}
