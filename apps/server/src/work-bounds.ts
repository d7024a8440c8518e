// Bounds on the work one request can cause (issue 13 §1): how many calls one tRPC batch may hold, how many
// archive.org calls one request may make, and how many log lines one request may write.
import type { ApiLogger } from '@lending/api';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';

/** Calls in one batch request; the SPA batches at most a handful. A larger batch is refused (400 batch_too_large). */
export const MAX_BATCH_SIZE = 10;
/**
 * archive.org calls one request may make: a full batch of the costliest procedure (books.list of a logged-in
 * patron: search, availability, loans, waitlist) fits. Past it, the request's further calls fail with archive_busy.
 */
export const ARCHIVE_CALLS_PER_REQUEST = MAX_BATCH_SIZE * 4;
/** Log lines one request may write besides its `request completed` line; the rest are counted in one line. */
export const MAX_LOG_LINES_PER_REQUEST = 20;

/**
 * The number of calls a tRPC request holds: its comma-separated paths when it is a batch, else 1. A batch as tRPC
 * tells one: the first `batch` parameter is `1` (Koa's `ctx.query` would make `?batch=1&batch=1` an array, which
 * tRPC still runs as a batch; it also costs more than the rest of this check).
 */
export function callCount(ctx: Context, path: string): number {
  if (new URLSearchParams(ctx.querystring).get('batch') !== '1') return 1;
  let count = 1;
  for (let at = path.indexOf(','); at !== -1; at = path.indexOf(',', at + 1)) count++;
  return count;
}

/** Refuses a batch over MAX_BATCH_SIZE in tRPC's error envelope, with `data.appCode` `batch_too_large`. */
export function refuseBatch(ctx: Context, count: number): void {
  ctx.status = 400;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = {
    error: {
      message: `Too many calls in one batch request: ${count}, at most ${MAX_BATCH_SIZE}.`,
      code: TRPC_ERROR_CODES_BY_KEY.BAD_REQUEST,
      data: {
        code: 'BAD_REQUEST',
        httpStatus: 400,
        appCode: 'batch_too_large',
        maxBatchSize: MAX_BATCH_SIZE,
      },
    },
  };
}

/**
 * A request's log lines, counted: past `max`, lines are dropped and `flush` writes how many in one line. It is the
 * procedures' logger (ApiLogger); `log` gives the request's logger, asked for only when a line is written.
 */
export class LogBudget implements ApiLogger {
  private written = 0;
  private dropped = 0;

  constructor(
    private readonly log: () => Logger,
    private readonly max = MAX_LOG_LINES_PER_REQUEST,
  ) {}

  write(level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, message: string): void {
    if (this.written >= this.max) {
      this.dropped++;
      return;
    }
    this.written++;
    this.log()[level](fields, message);
  }

  info(fields: Record<string, unknown>, message: string): void {
    this.write('info', fields, message);
  }

  warn(fields: Record<string, unknown>, message: string): void {
    this.write('warn', fields, message);
  }

  error(fields: Record<string, unknown>, message: string): void {
    this.write('error', fields, message);
  }

  flush(): void {
    if (this.dropped === 0) return;
    this.log().warn({ dropped: this.dropped, max: this.max }, 'log lines of this request dropped');
    this.dropped = 0;
  }
}
