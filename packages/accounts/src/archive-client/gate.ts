// What keeps archive.org calls bounded (issue 13 §1): a concurrency limit with a bounded queue (a full queue or a
// long wait is refused with `archive_busy`, never a pile-up), a budget of calls per request (the request's view of
// the client, ArchiveClient.withBudget, spends it on every call that view makes, however deep), single-flight for
// identical concurrent lookups, and a small TTL cache for answers that may be a little stale (the catalogue,
// availability).
import { AppError } from '../errors';

export interface GateLimits {
  /** Calls to archive.org in flight at once (default 16). */
  maxConcurrent: number;
  /** Calls waiting for a slot; one more is refused at once (default 64). */
  maxQueue: number;
  /** How long a call may wait for a slot before it is refused (default 2000 ms). */
  queueTimeoutMs: number;
}

export const DEFAULT_GATE_LIMITS: GateLimits = { maxConcurrent: 16, maxQueue: 64, queueTimeoutMs: 2000 };

function busy(detail: string): AppError {
  return new AppError('archive_busy', detail, { retryAfterSeconds: 1 });
}

interface Waiter {
  resolve: () => void;
  reject: (error: AppError) => void;
  timer: NodeJS.Timeout;
}

/** A semaphore with a bounded, timed queue. */
export class ConcurrencyGate {
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(readonly limits: GateLimits) {}

  /** Calls in flight and waiting, for tests and metrics. */
  get load(): { active: number; queued: number } {
    return { active: this.active, queued: this.queue.length };
  }

  async run<T>(what: string, call: () => Promise<T>): Promise<T> {
    await this.acquire(what);
    try {
      return await call();
    } finally {
      this.release();
    }
  }

  private acquire(what: string): Promise<void> {
    if (this.active < this.limits.maxConcurrent) {
      this.active++;
      return Promise.resolve();
    }
    if (this.queue.length >= this.limits.maxQueue) {
      return Promise.reject(
        busy(`${what}: ${this.active} archive.org calls in flight and ${this.queue.length} waiting`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const at = this.queue.indexOf(waiter);
          if (at !== -1) this.queue.splice(at, 1);
          reject(busy(`${what}: no archive.org slot within ${this.limits.queueTimeoutMs} ms`));
        }, this.limits.queueTimeoutMs),
      };
      this.queue.push(waiter);
    });
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) {
      clearTimeout(next.timer);
      next.resolve(); // the slot passes straight to the next waiter
    } else {
      this.active--;
    }
  }
}

/**
 * The archive.org calls one request may make (cache hits and joined lookups are free). Passed explicitly, through
 * the request's view of the client, rather than found through AsyncLocalStorage: on Node 20 that puts a hook on
 * every promise of the process, a cost every request paid, most of which never call archive.org.
 */
export class CallBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Calls spent so far. */
  get spent(): number {
    return this.used;
  }

  /** Spends one call; throws `archive_busy` when the budget is spent. */
  spend(what: string): void {
    if (this.used >= this.limit) {
      throw busy(`${what}: this request used its budget of ${this.limit} archive.org calls`);
    }
    this.used++;
  }
}

/** Identical concurrent lookups share one call: the first starts it, the others wait for its answer. */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Promise<T>>();

  run(key: string, call: () => Promise<T>): Promise<T> {
    const current = this.flights.get(key);
    if (current) return current;
    // Outside the caller's budget: a joined lookup is not the joiner's call, and the starter already paid.
    const flight = call().finally(() => this.flights.delete(key));
    this.flights.set(key, flight);
    return flight;
  }
}

/** A small TTL cache, bounded in entries (the oldest go first). */
export class TtlCache<T> {
  private readonly entries = new Map<string, { value: T; expires: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: T): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expires: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
