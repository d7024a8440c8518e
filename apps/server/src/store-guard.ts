// Tells a database outage apart from other failures, so the server answers 503 (retry later) instead of 500.
import { AccountExistsError, AccountNotFoundError, AppError, RevisionConflictError } from '@lending/accounts';
import type { AccountStore } from '@lending/accounts';

/**
 * The database did not answer. @lending/api recognises it by name and answers 503 (SERVICE_UNAVAILABLE);
 * `cause` is kept for the log only.
 */
export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super('The database is unavailable', { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const DOMAIN_ERRORS = [AccountExistsError, AccountNotFoundError, RevisionConflictError, AppError];

/**
 * Wraps a store so that an unexpected error from any of its methods is checked with `ping()`:
 * when the database does not answer either, the error becomes DatabaseUnavailableError.
 */
export function guardStore(store: AccountStore, pingTimeoutMs = 2000): AccountStore {
  async function classify(error: unknown): Promise<never> {
    if (DOMAIN_ERRORS.some((type) => error instanceof type)) throw error;
    try {
      await withTimeout(store.ping(), pingTimeoutMs, 'database ping timed out');
    } catch {
      throw new DatabaseUnavailableError(error);
    }
    throw error;
  }
  // One wrapper per method, made on first use (keyed by the function, so a replaced method gets its own):
  // the hot path, a read per request, allocates nothing here.
  const wrappers = new WeakMap<object, unknown>();
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      let wrapper = wrappers.get(value);
      if (wrapper === undefined) {
        const method = value as (...a: unknown[]) => Promise<unknown>;
        wrapper =
          property === 'close' || property === 'ping'
            ? method.bind(target)
            : (...args: unknown[]): Promise<unknown> => {
                try {
                  return Promise.resolve(method.apply(target, args)).catch(classify);
                } catch (error) {
                  return classify(error);
                }
              };
        wrappers.set(value, wrapper);
      }
      return wrapper;
    },
  });
}

/** True when `error` or one of its causes is a database outage. */
export function isDatabaseOutage(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof DatabaseUnavailableError) return true;
  }
  return false;
}
