// The typed client for other internal TypeScript apps (server-to-server: no browser keeps cookies for us).
// `import { createLendingClient } from '@lending/api/client'`; log in with `auth.loginWithKeys`, then call
// any procedure: the session and s3 cookies the server sets are kept and sent back.
import { createTRPCClient, httpLink } from '@trpc/client';
import type { TRPCClient } from '@trpc/client';
import type { AppRouter } from './root';

/** The cookies a client holds. Values are secrets: never log them. */
export interface LendingCookies {
  /** The value of one cookie, or undefined when absent or expired. */
  get(name: string): string | undefined;
  /** Every live cookie, name to value. */
  all(): Record<string, string>;
  /** Forgets every cookie (a local logout; the server is not told). */
  clear(): void;
}

export type LendingClient = TRPCClient<AppRouter> & { readonly cookies: LendingCookies };

export interface LendingClientOptions {
  /** The tRPC endpoint, e.g. `http://127.0.0.1:3000/trpc`. */
  url: string;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
}

interface ParsedSetCookie {
  name: string;
  value: string;
  /** Epoch ms when the cookie lapses; null for a session cookie; <= now means "delete it". */
  expiresAt: number | null;
}

/** Reads one Set-Cookie header (RFC 6265 §5.2): the name=value pair, Max-Age (which wins) and Expires. */
export function parseSetCookie(header: string, now: number = Date.now()): ParsedSetCookie | null {
  const [pair = '', ...attributes] = header.split(';');
  const eq = pair.indexOf('=');
  if (eq <= 0) return null;
  const name = pair.slice(0, eq).trim();
  let value = pair.slice(eq + 1).trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  if (!name) return null;

  let maxAge: number | null = null;
  let expires: number | null = null;
  for (const attribute of attributes) {
    const at = attribute.indexOf('=');
    const key = (at === -1 ? attribute : attribute.slice(0, at)).trim().toLowerCase();
    const raw = at === -1 ? '' : attribute.slice(at + 1).trim();
    if (key === 'max-age' && /^-?\d+$/.test(raw)) maxAge = Number(raw);
    else if (key === 'expires') {
      const time = Date.parse(raw);
      if (!Number.isNaN(time)) expires = time;
    }
  }
  const expiresAt = maxAge !== null ? now + maxAge * 1000 : expires;
  // An empty value is how servers (and Open Library) delete a cookie.
  return { name, value, expiresAt: value === '' ? now : expiresAt };
}

/** A cookie jar for one origin: enough for talking to one Lending server. */
export class CookieStore implements LendingCookies {
  readonly #cookies = new Map<string, { value: string; expiresAt: number | null }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Applies every Set-Cookie header of one response, in order. */
  receive(setCookieHeaders: readonly string[]): void {
    const now = this.now();
    for (const header of setCookieHeaders) {
      const cookie = parseSetCookie(header, now);
      if (!cookie) continue;
      if (cookie.expiresAt !== null && cookie.expiresAt <= now) this.#cookies.delete(cookie.name);
      else this.#cookies.set(cookie.name, { value: cookie.value, expiresAt: cookie.expiresAt });
    }
  }

  /** The Cookie request header, or null when the jar is empty. */
  header(): string | null {
    const pairs = Object.entries(this.all()).map(([name, value]) => `${name}=${value}`);
    return pairs.length > 0 ? pairs.join('; ') : null;
  }

  get(name: string): string | undefined {
    return this.all()[name];
  }

  all(): Record<string, string> {
    const now = this.now();
    const out: Record<string, string> = {};
    for (const [name, cookie] of this.#cookies) {
      if (cookie.expiresAt !== null && cookie.expiresAt <= now) this.#cookies.delete(name);
      else out[name] = cookie.value;
    }
    return out;
  }

  clear(): void {
    this.#cookies.clear();
  }
}

/** Wraps fetch so each request carries the jar's cookies and each response's Set-Cookie lands in it. */
export function cookieFetch(jar: CookieStore, baseFetch: typeof fetch): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    const cookie = jar.header();
    if (cookie !== null) headers.set('cookie', cookie);
    const response = await baseFetch(input, { ...init, headers });
    jar.receive(response.headers.getSetCookie());
    return response;
  };
}

/**
 * A typed tRPC client for the Lending API that keeps cookies between calls. Non-streaming `httpLink`:
 * a streamed response sends its headers before the procedure runs, so cookies set by it would be lost.
 * The returned object is the tRPC client (`client.loans.borrow.mutate(…)`) plus `client.cookies`.
 */
export function createLendingClient(options: LendingClientOptions): LendingClient {
  const jar = new CookieStore();
  const client = createTRPCClient<AppRouter>({
    links: [httpLink({ url: options.url, fetch: cookieFetch(jar, options.fetch ?? globalThis.fetch) })],
  });
  // The tRPC client is a proxy that turns every property into a procedure path: answer `cookies` first.
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'cookies') return jar;
      return Reflect.get(target, property, receiver) as unknown;
    },
  }) as LendingClient;
}
