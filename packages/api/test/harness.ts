// Test harness: the real router, store, crypto and archive.org stand-in, with fakes only for what the HTTP
// host provides (cookie jar, headers, logger, metrics, login limiter).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTRPCErrorShape, TRPCError } from '@trpc/server';
import { ArchiveClient, openAccountStore } from '@lending/accounts';
import type { AccountStore } from '@lending/accounts';
import { cookieKeys } from '@lending/crypto';
import {
  DEMO_ACCESS_SECRET,
  DEMO_LOAN_API_TOKEN,
  DEMO_SERVICE_KEYS,
  demoPatrons,
  startArchive,
} from '@lending/archive';
import type { ArchiveFixture, ArchiveState } from '@lending/archive';
import { appRouter, createCaller, createContext, failureLog } from '../src';
import type {
  ApiDeps,
  ApiLogger,
  CookieJar,
  CookieName,
  CookieRejectionReason,
  KeysSource,
  LimitKind,
  OpenLibraryCookieOutcome,
} from '../src';

export const SECRET = 'test-secret-that-is-at-least-32-characters-long';
export const OLD_SECRET = 'an-older-secret-that-was-rotated-out-last-month';
export const DAY = 24 * 60 * 60;

/** One of the stand-in's demo patrons, by email (their passwords and keys included). */
export function demoPatron(email: string) {
  const found = demoPatrons().find((candidate) => candidate.email === email);
  if (!found) throw new Error(`no demo patron ${email}`);
  return found;
}

/** A browser's cookie store for the two cookies, recording what each request set and cleared. */
export class FakeJar implements CookieJar {
  readonly values = new Map<CookieName, string>();
  sets: { name: CookieName; value: string; persistent: boolean; maxAge?: number }[] = [];
  clears: CookieName[] = [];

  get(name: CookieName): string | undefined {
    return this.values.get(name);
  }
  set(name: CookieName, value: string, options: { persistent: boolean; maxAge?: number }): void {
    this.values.set(name, value);
    this.sets.push({
      name,
      value,
      persistent: options.persistent,
      ...(options.maxAge === undefined ? {} : { maxAge: options.maxAge }),
    });
  }
  clear(name: CookieName): void {
    this.values.delete(name);
    this.clears.push(name);
  }
  /** Forgets what the previous request did (the cookies stay). */
  startRequest(): void {
    this.sets = [];
    this.clears = [];
  }
  setOf(name: CookieName) {
    return this.sets.find((set) => set.name === name);
  }
}

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

export class Recorder {
  sources: KeysSource[] = [];
  rejected: { cookie: CookieName; reason: CookieRejectionReason }[] = [];
  openLibraryCookies: OpenLibraryCookieOutcome[] = [];
  logins: string[] = [];
  lines: LogLine[] = [];
  reset(): void {
    this.sources = [];
    this.rejected = [];
    this.openLibraryCookies = [];
    this.logins = [];
    this.lines = [];
  }
}

export interface HarnessOptions {
  /** Default: a temporary SQLite file. */
  databaseUrl?: string;
  secret?: string;
  previousSecrets?: string[];
  sessionTtl?: number;
  s3CookieFormat?: 'lending' | 'openlibrary';
  archiveTimeoutMs?: number;
  /** The BookReader links' HMAC key (default: the stand-in's). */
  accessSecret?: string;
  /** The stand-in's fixture (default: its `full` catalogue). */
  archiveFixture?: ArchiveFixture;
  /** Replaces the archive client, e.g. with a subclass that plays an archive.org answer the stand-in has not. */
  archiveClient?: (options: ConstructorParameters<typeof ArchiveClient>[0]) => ArchiveClient;
}

export interface Harness {
  deps: ApiDeps;
  store: AccountStore;
  archiveState: ArchiveState;
  archiveUrl: string;
  recorder: Recorder;
  /** Seconds to wait that the login limiter answers next (0: allowed). */
  limiterWait: number;
  /** Each check the limiter saw, and how the attempt ended (null while it has not, or when refused). */
  limiterCalls: {
    kind: LimitKind;
    ip: string;
    subject: string;
    outcome: 'fail' | 'succeed' | 'release' | null;
  }[];
  /** Milliseconds; the clock every request sees. */
  clock: number;
  browser(): Browser;
  close(): Promise<void>;
}

export interface Browser {
  jar: FakeJar;
  headers: Map<string, string>;
  /** One request: a fresh context over this browser's cookies. */
  call(): ReturnType<typeof createCaller>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const archiveServer = await startArchive({
    port: 0,
    host: '127.0.0.1',
    ...(options.archiveFixture ? { fixture: options.archiveFixture } : {}),
  });
  const dir = mkdtempSync(join(tmpdir(), 'lending-api-'));
  const store = await openAccountStore(options.databaseUrl ?? `sqlite:${join(dir, 'accounts.db')}`);
  const archiveOptions = {
    baseUrl: archiveServer.url,
    serviceAccess: DEMO_SERVICE_KEYS.access,
    serviceSecret: DEMO_SERVICE_KEYS.secret,
    loanApiToken: DEMO_LOAN_API_TOKEN,
    timeoutMs: options.archiveTimeoutMs ?? 3000,
  };
  const archive = options.archiveClient
    ? options.archiveClient(archiveOptions)
    : new ArchiveClient(archiveOptions);
  const recorder = new Recorder();
  const log: ApiLogger = {
    info: (fields, message) => recorder.lines.push({ level: 'info', fields, message }),
    warn: (fields, message) => recorder.lines.push({ level: 'warn', fields, message }),
    error: (fields, message) => recorder.lines.push({ level: 'error', fields, message }),
  };
  const harness: Harness = {
    store,
    archiveState: archiveServer.state,
    archiveUrl: archiveServer.url,
    recorder,
    limiterWait: 0,
    limiterCalls: [],
    clock: Date.now(),
    deps: undefined as unknown as ApiDeps,
    browser() {
      const jar = new FakeJar();
      const headers = new Map<string, string>();
      return {
        jar,
        headers,
        call() {
          jar.startRequest();
          headers.clear();
          const ctx = createContext(harness.deps, {
            cookies: jar,
            ip: '203.0.113.7',
            log,
            setHeader: (name, value) => headers.set(name, value),
          });
          return createCaller(ctx);
        },
      };
    },
    async close() {
      await store.close();
      await archiveServer.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  harness.deps = {
    store,
    archive,
    archiveLinks: {
      bookreaderUrl: archiveServer.url,
      imagesUrl: archiveServer.url,
      accessSecret: options.accessSecret ?? DEMO_ACCESS_SECRET,
    },
    cookieKeys: cookieKeys(options.secret ?? SECRET, options.previousSecrets ?? []),
    sessionTtl: options.sessionTtl ?? DAY,
    s3CookieFormat: options.s3CookieFormat ?? 'lending',
    loginLimiter: {
      check(kind, ip, subject) {
        const call: Harness['limiterCalls'][number] = { kind, ip, subject, outcome: null };
        harness.limiterCalls.push(call);
        if (harness.limiterWait > 0) {
          return Promise.resolve({
            allowed: false,
            retryAfterSeconds: harness.limiterWait,
            reason: 'network',
          });
        }
        const end = (outcome: 'fail' | 'succeed' | 'release') => () => {
          call.outcome = outcome;
          return Promise.resolve();
        };
        return Promise.resolve({
          allowed: true,
          attempt: { fail: end('fail'), succeed: end('succeed'), release: end('release') },
        });
      },
    },
    metrics: {
      s3KeysSource: (source) => recorder.sources.push(source),
      cookieRejected: (cookie, reason) => recorder.rejected.push({ cookie, reason }),
      login: (outcome) => recorder.logins.push(outcome),
      openLibraryCookie: (outcome) => recorder.openLibraryCookies.push(outcome),
    },
    now: () => harness.clock,
  };
  return harness;
}

/** The error a call failed with, as a client would read it (the router's error formatter applied). */
export async function errorOf(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    return getTRPCErrorShape({
      config: appRouter._def._config,
      error,
      type: 'unknown',
      path: undefined,
      input: undefined,
      ctx: undefined,
    });
  }
  throw new Error('expected the call to fail');
}

/** The log line a host would write for the failed call (its onError runs failureLog). */
export async function failureLogOf(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    return failureLog(error);
  }
  throw new Error('expected the call to fail');
}

export function postgresUrl(): string {
  const base = process.env.DATABASE_URL_TEST ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `api_test_${randomBytes(6).toString('hex')}`;
  return `${base}${base.includes('?') ? '&' : '?'}schema=${schema}`;
}
