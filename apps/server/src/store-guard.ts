// Tells a database outage apart from other store failures, so the server answers 503 (retry later) instead of 500:
// a failed call followed by a failed ping becomes AppError('database_unavailable'), the failure kept as its cause.
import { AccountExistsError, AccountNotFoundError, AppError } from '@lending/accounts';
import type { AccountStore } from '@lending/accounts';

/** The ping's failure in a few words: its name and code, not its message (which could name the server). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return 'no error';
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${error.name} ${code}` : error.name;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Errors that are the store's answer, not its failure (RevisionConflictError is an AppError). */
const STORE_ANSWERS = [AccountExistsError, AccountNotFoundError, AppError];

/**
 * Wraps a store so that an unexpected error from any of its methods is checked with `ping()`:
 * when the database does not answer either, the error becomes AppError('database_unavailable').
 */
export function guardStore(store: AccountStore, pingTimeoutMs = 2000): AccountStore {
  async function classify(method: PropertyKey, error: unknown): Promise<never> {
    if (STORE_ANSWERS.some((type) => error instanceof type)) throw error;
    try {
      await withTimeout(store.ping(), pingTimeoutMs, 'database ping timed out');
    } catch (pingError) {
      const detail = `store ${String(method)} failed and the database did not answer a ping (${describe(pingError)})`;
      throw new AppError('database_unavailable', detail, { cause: error });
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
        const failed = (error: unknown) => classify(property, error);
        wrapper =
          property === 'close' || property === 'ping'
            ? method.bind(target)
            : (...args: unknown[]): Promise<unknown> => {
                try {
                  return Promise.resolve(method.apply(target, args)).catch(failed);
                } catch (error) {
                  return failed(error);
                }
              };
        wrappers.set(value, wrapper);
      }
      return wrapper;
    },
  });
}
