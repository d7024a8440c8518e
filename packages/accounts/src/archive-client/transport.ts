// One HTTP exchange with archive.org: a timeout covering the whole answer, redirects refused, 5xx and transport
// failures turned into `archive_unavailable`, answers parsed against their schema. Keys travel only in bodies and
// headers, never in URLs, and no error built here holds a key or a body archive.org sent.
import type { z } from 'zod';
import { AppError } from '../errors';
import type { ConcurrencyGate } from './gate';
import type { CallBudget } from './gate';
import { jsonObject } from './wire-schemas';

export interface RawAnswer {
  status: number;
  body: string;
  /** The Retry-After header, when the answer has one. */
  retryAfter?: string;
}

/** archive.org failed: `detail` says which call and how, for the log. */
export function unavailable(detail: string, cause?: unknown): AppError {
  return new AppError('archive_unavailable', detail, cause === undefined ? {} : { cause });
}

/** A server's error code (`{"error": "loan_limit"}`), if it looks like one; anything else could carry data. */
export function errorCodeOf(body: string): string {
  try {
    const parsed = jsonObject.safeParse(JSON.parse(body));
    const code = parsed.success ? parsed.data.error : undefined;
    return typeof code === 'string' && /^[a-z_]{1,64}$/.test(code) ? code : 'no error code';
  } catch {
    return 'no error code';
  }
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError')
      return `timed out after ${timeoutMs} ms`;
    const code = (error.cause as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string') return `connection failed (${code})`;
    return `connection failed (${error.name})`;
  }
  return 'connection failed';
}

/** How one exchange ended, for metrics. */
export type ArchiveOutcome = 'ok' | 'http_4xx' | 'http_5xx' | 'redirect' | 'timeout' | 'error';

/**
 * Told of every exchange once it ends: `endpoint` is the first word of the call's name (`xauthn`, `s3auth`,
 * `loans`, …), never anything from the request. It must not throw.
 */
export type ArchiveObserver = (endpoint: string, outcome: ArchiveOutcome, seconds: number) => void;

function statusOutcome(status: number): ArchiveOutcome {
  if (status >= 500) return 'http_5xx';
  if (status >= 300 && status < 400) return 'redirect';
  return status >= 400 ? 'http_4xx' : 'ok';
}

export class ArchiveTransport {
  constructor(
    private readonly timeoutMs: number,
    private readonly fetchImpl: typeof fetch,
    /** Bounds the calls in flight; a call waits its turn (or is refused with archive_busy). */
    private readonly gate: ConcurrencyGate,
    private readonly observer?: ArchiveObserver,
    /** The calls this transport may still make (a request's view); none: unbounded (the client's own). */
    private readonly budget?: CallBudget,
  ) {}

  /** The same transport (gate, observer), spending `budget` on each call. */
  withBudget(budget: CallBudget): ArchiveTransport {
    return new ArchiveTransport(this.timeoutMs, this.fetchImpl, this.gate, this.observer, budget);
  }

  /**
   * One request to `endpoint` (a full URL without query); `what` names the call in errors (`loans borrow_book`).
   * It spends one call of the request's budget and waits for a slot first. 5xx, redirects and failures are
   * outages.
   */
  async send(what: string, endpoint: string, query: URLSearchParams, init: RequestInit): Promise<RawAnswer> {
    this.budget?.spend(what);
    return await this.gate.run(what, () => this.observed(what, endpoint, query, init));
  }

  /** One exchange, told to the observer (its time is archive.org's, not the wait for a slot). */
  private async observed(
    what: string,
    endpoint: string,
    query: URLSearchParams,
    init: RequestInit,
  ): Promise<RawAnswer> {
    if (!this.observer) return this.exchange(what, endpoint, query, init);
    const started = performance.now();
    const observe = (outcome: ArchiveOutcome) =>
      this.observer?.(what.split(' ')[0] ?? what, outcome, (performance.now() - started) / 1000);
    try {
      const answer = await this.exchange(what, endpoint, query, init);
      observe(statusOutcome(answer.status));
      return answer;
    } catch (error) {
      const timedOut = error instanceof AppError && / timed out after /.test(error.detail);
      const status = error instanceof AppError ? /: HTTP (\d{3})$/.exec(error.detail)?.[1] : undefined;
      observe(timedOut ? 'timeout' : status ? statusOutcome(Number(status)) : 'error');
      throw error;
    }
  }

  private async exchange(
    what: string,
    endpoint: string,
    query: URLSearchParams,
    init: RequestInit,
  ): Promise<RawAnswer> {
    const search = query.toString();
    const url = `${endpoint}${search ? `?${search}` : ''}`;
    let response: Response;
    let body: string;
    try {
      response = await this.fetchImpl(url, {
        ...init,
        // A redirect could carry the keys in the body to another host: never follow one.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      body = await response.text();
    } catch (error) {
      throw unavailable(`${what}: ${describeFetchError(error, this.timeoutMs)}`, error);
    }
    if (response.status >= 500) throw unavailable(`${what}: HTTP ${response.status}`);
    if (response.status >= 300 && response.status < 400) {
      throw unavailable(`${what}: unexpected redirect (HTTP ${response.status})`);
    }
    const retryAfter = response.headers.get('retry-after');
    return { status: response.status, body, ...(retryAfter === null ? {} : { retryAfter }) };
  }

  /** The answer's JSON, checked against `schema`; anything else is an outage naming the paths that failed. */
  parse<T>(what: string, answer: RawAnswer, schema: z.ZodType<T>): T {
    let json: unknown;
    try {
      json = JSON.parse(answer.body);
    } catch {
      throw unavailable(`${what}: answer is not JSON (HTTP ${answer.status})`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const paths = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)');
      throw unavailable(`${what}: unexpected answer shape at ${[...new Set(paths)].slice(0, 5).join(', ')}`);
    }
    return parsed.data;
  }
}
