// Test harness: the real server on port 0 beside the archive.org stand-in on port 0, and a tiny cookie-keeping
// HTTP client on raw fetch, so tests see every header.
import { DEMO_ACCESS_SECRET, DEMO_LOAN_API_TOKEN, DEMO_SERVICE_KEYS, startArchive } from '@lending/archive';
import type { RunningArchive } from '@lending/archive';
import type { AccountStore } from '@lending/accounts';
import { createApp, loadEnv } from '../src/app';
import type { AppOverrides, LendingApp, Listening, ServerConfig } from '../src/app';

export const TEST_SECRET = 'test-secret-for-the-lending-server-0123456789';
export const DEMO = { email: 'patron@example.org', password: 'lending-demo-2026' };

/** What production requires besides APP_SECRET: archive.org's secrets, here the stand-in's. */
export const PRODUCTION_ENV = {
  NODE_ENV: 'production',
  ARCHIVE_SERVICE_ACCESS: DEMO_SERVICE_KEYS.access,
  ARCHIVE_SERVICE_SECRET: DEMO_SERVICE_KEYS.secret,
  ARCHIVE_LOAN_API_TOKEN: DEMO_LOAN_API_TOKEN,
  ARCHIVE_ACCESS_SECRET: DEMO_ACCESS_SECRET,
};

export interface Stack {
  url: string;
  config: ServerConfig;
  server: LendingApp;
  listening: Listening;
  archive: RunningArchive | null;
  store: AccountStore;
  logs: string[];
  close(): Promise<void>;
}

export async function startStack(
  options: {
    env?: Record<string, string>;
    overrides?: AppOverrides;
    archiveUrl?: string;
    /** Runs on the app before it listens (Koa composes its middleware then). */
    beforeListen?: (server: LendingApp) => void;
  } = {},
): Promise<Stack> {
  const archive = options.archiveUrl ? null : await startArchive({ port: 0 });
  const logs: string[] = [];
  const config = await loadEnv({
    NODE_ENV: 'test',
    APP_SECRET: TEST_SECRET,
    DATABASE_URL: 'sqlite::memory:',
    ARCHIVE_URL: options.archiveUrl ?? archive!.url,
    LOG_LEVEL: 'info',
    WEB_DIST: '/nonexistent-web-dist',
    ...options.env,
  });
  const server = createApp(config, {
    logStream: { write: (line: string) => void logs.push(line) },
    ...options.overrides,
  });
  options.beforeListen?.(server);
  const listening = await server.listen(0, '127.0.0.1');
  return {
    url: listening.url,
    config,
    server,
    listening,
    archive,
    store: await server.store(),
    logs,
    async close() {
      await server.close();
      await archive?.close().catch(() => undefined); // a test may have closed it already
    },
  };
}

export interface SetCookie {
  name: string;
  value: string;
  /** Attribute names lower-cased; flags map to ''. */
  attributes: Record<string, string>;
}

export function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...rest] = header.split(';').map((s) => s.trim());
  const eq = pair.indexOf('=');
  const attributes: Record<string, string> = {};
  for (const part of rest) {
    const i = part.indexOf('=');
    if (i === -1) attributes[part.toLowerCase()] = '';
    else attributes[part.slice(0, i).toLowerCase()] = part.slice(i + 1);
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
  setCookies: SetCookie[];
}

/** An error reply's tRPC envelope. */
export function errorOf(reply: Reply): {
  message: string;
  data: { code: string; httpStatus: number; appCode?: string };
} {
  return (
    reply.body as { error: { message: string; data: { code: string; httpStatus: number; appCode?: string } } }
  ).error;
}

export function dataOf<T>(reply: Reply): T {
  return (reply.body as { result: { data: T } }).result.data;
}

/** A browser stand-in: keeps cookies the server sets (and drops those it clears). */
export class Client {
  readonly cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(path: string, init: RequestInit = {}): Promise<Reply> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0 && !headers.has('cookie')) headers.set('cookie', this.cookieHeader());
    const res = await fetch(this.base + path, { ...init, headers });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    const setCookies = res.headers.getSetCookie().map(parseSetCookie);
    for (const c of setCookies) {
      if (c.value === '' || c.attributes['max-age'] === '0') this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    return { status: res.status, headers: res.headers, body, text, setCookies };
  }

  query(procedure: string, input?: unknown, headers?: Record<string, string>): Promise<Reply> {
    const qs = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    return this.request(`/trpc/${procedure}${qs}`, { headers });
  }

  mutate(procedure: string, input?: unknown, headers?: Record<string, string>): Promise<Reply> {
    return this.request(`/trpc/${procedure}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: input === undefined ? undefined : JSON.stringify(input),
    });
  }

  login(email = DEMO.email, password = DEMO.password, remember = false): Promise<Reply> {
    return this.mutate('auth.login', { email, password, remember });
  }
}
