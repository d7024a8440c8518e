// The admin entry point's contract: what operators' tools (seed, purge) need beyond the AccountStore the server
// uses. Nothing here is for serving requests.
import type { NewAccount } from '../types';

/** How a compaction rewrote the accounts data. */
export type CompactionMethod = 'sqlite_vacuum' | 'pg_repack' | 'vacuum_full';

/** `auto`: SQLite rebuilds with VACUUM; PostgreSQL uses pg_repack when it can, else VACUUM FULL. */
export type CompactionChoice = 'auto' | 'pg_repack' | 'vacuum_full';

export interface CompactionOptions {
  /** Default `auto`. `pg_repack` fails rather than fall back; `vacuum_full` skips pg_repack. PostgreSQL only. */
  method?: CompactionChoice;
  /** PostgreSQL: the pg_repack program; default: found on `searchPath`, then in PostgreSQL's usual directories. */
  pgRepackPath?: string;
  /**
   * PostgreSQL: the environment pg_repack starts from (the caller's, so that libpq finds ~/.pgpass and its
   * certificates); the database URL's own settings override it. Its PATH is searched for pg_repack.
   */
  environment?: Readonly<Record<string, string | undefined>>;
  /** PostgreSQL: how long VACUUM FULL, or pg_repack's brief locks, wait for the table's lock (ms; default 5000). */
  lockTimeoutMs?: number;
  /**
   * PostgreSQL, VACUUM FULL: how long to wait for transactions older than the compaction to end before giving up
   * (ms; default 60000). They could still see the removed keys, and VACUUM FULL would copy what they can see.
   */
  oldTransactionsTimeoutMs?: number;
  /** What the operator should see while it runs: pg_repack's lines, or which old transactions it waits for. */
  onOutput?: (line: string) => void;
  /** Called once the method is chosen, before the rewrite starts, with what the operator must know. */
  onStart?: (method: CompactionMethod, warnings: readonly string[]) => void;
}

export interface CompactionReport {
  method: CompactionMethod;
  /** Wall-clock milliseconds of the rewrite. */
  ms: number;
  /** Bytes of the database file and its WAL (SQLite), or of the accounts relation with its TOAST and indexes. */
  bytesBefore: number;
  bytesAfter: number;
  /** What the operator must know: why pg_repack was not used, what VACUUM FULL locks. Never a secret. */
  warnings: string[];
}

export interface AccountsAdmin {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Number of accounts, cheaply: SQLite counts its smallest index (tens of ms for a million rows); PostgreSQL
   * answers from the planner's statistics (no scan), counting only when the table was never analysed.
   */
  estimateAccountCount(): Promise<number>;
  /**
   * Adds accounts in one transaction, exactly as AccountStore.create would store each (revision 1, validated);
   * for seeding large stores. Throws on a taken username, email or itemname, and then writes none of them.
   */
  insertAccounts(accounts: readonly NewAccount[]): Promise<void>;
  /**
   * Refreshes the query planner's statistics after a bulk load (PostgreSQL: ANALYZE, on which the purge's plans
   * and estimateAccountCount depend; SQLite's lookups all use unique indexes, so it needs none).
   */
  analyze(): Promise<void>;
  /**
   * Rewrites the accounts data so that nothing removed from it (the purged keys) remains in the database's files:
   * SQLite is rebuilt in place; PostgreSQL's accounts relation (heap, TOAST, indexes) is written to new files.
   * Safe while servers use the store: their connections see the database before or after, and no write is lost.
   */
  compact(options?: CompactionOptions): Promise<CompactionReport>;
  close(): Promise<void>;
}
