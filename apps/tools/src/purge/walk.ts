// The purge walk: every account in username order, one keyset batch at a time, until a batch scans nothing.
import type { AccountStore, PurgeBatchResult } from '@lending/accounts';

export interface PurgeTotals {
  scanned: number;
  withKeys: number;
  purged: number;
  errors: number;
  batches: number;
}

export interface PurgeSummary extends PurgeTotals {
  dryRun: boolean;
  /** Records that could not be purged, by username; the messages hold no secret. */
  failed: { username: string; error: string }[];
  /** True when the walk reached the end of the store. */
  complete: boolean;
  /** True when a stop was requested (SIGINT/SIGTERM) before the end. */
  interrupted: boolean;
  /** Set when a batch failed as a whole (e.g. the database went away); the walk stopped there. */
  fatal: string | null;
  elapsedMs: number;
  /** Accounts scanned per second. */
  rate: number;
}

export interface PurgeOptions {
  batchSize: number;
  dryRun: boolean;
  /** Checked between batches: a batch in flight always finishes. */
  shouldStop?: () => boolean;
  onBatch?: (batch: PurgeBatchResult, totals: Readonly<PurgeTotals>) => void;
  now?: () => number;
}

export async function purgeS3Keys(store: AccountStore, options: PurgeOptions): Promise<PurgeSummary> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const totals: PurgeTotals = { scanned: 0, withKeys: 0, purged: 0, errors: 0, batches: 0 };
  const failed: PurgeSummary['failed'] = [];
  let after: string | null = null;
  let complete = false;
  let interrupted = false;
  let fatal: string | null = null;

  for (;;) {
    if (options.shouldStop?.()) {
      interrupted = true;
      break;
    }
    let batch: PurgeBatchResult;
    try {
      batch = await store.purgeS3KeysBatch({ after, limit: options.batchSize, dryRun: options.dryRun });
    } catch (error) {
      fatal = error instanceof Error ? error.message : String(error);
      break;
    }
    if (batch.scanned === 0) {
      complete = true;
      break;
    }
    // A cursor that does not move forward would loop for ever; keyset order guarantees it moves.
    if (batch.last === null || (after !== null && batch.last <= after)) {
      fatal = `the store returned a cursor that does not advance after "${after ?? ''}"`;
      break;
    }
    after = batch.last;
    totals.batches += 1;
    totals.scanned += batch.scanned;
    totals.withKeys += batch.withKeys.length;
    totals.purged += batch.purged.length;
    totals.errors += batch.failed.length;
    failed.push(...batch.failed);
    options.onBatch?.(batch, totals);
    // Let signal handlers and timers run: a synchronous adapter (better-sqlite3) resolves at once, and without
    // this turn of the event loop a Ctrl-C would only be seen after the last batch.
    await new Promise((resolve) => setImmediate(resolve));
  }

  const elapsedMs = now() - started;
  return {
    dryRun: options.dryRun,
    ...totals,
    failed,
    complete,
    interrupted,
    fatal,
    elapsedMs,
    rate: elapsedMs > 0 ? Math.round((totals.scanned * 1000) / elapsedMs) : totals.scanned,
  };
}
