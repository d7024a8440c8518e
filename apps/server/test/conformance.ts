// The conformance suite's two-sided harness: pairs of servers built the same way except for what serves /trpc
// (the Koa-native adapter or tRPC's own node-http handler), each with its own archive.org stand-in and its own
// SQLite file, so that one request sequence leaves both in the same state. Requests go over raw HTTP
// (node:http), so bodies can be chunked, malformed or not UTF-8 at all.
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AccountExistsError, openAccountStore } from '@lending/accounts';
import type { AccountStore } from '@lending/accounts';
import { createContext } from '@lending/api';
import type { ApiDeps } from '@lending/api';
import { startArchive } from '@lending/archive';
import type { RunningArchive } from '@lending/archive';
import { cookieKeys } from '@lending/crypto';
import type { AnyTRPCRouter } from '@trpc/server';
import type { HTTPErrorHandler, ResponseMetaFn } from '@trpc/server/http';
import Koa from 'koa';
import { createApp, loadEnv } from '../src/app';
import { archiveClientFor } from '../src/archive';
import type { LendingApp, ServerConfig } from '../src/app';
import { cookieJar } from '../src/cookies';
import { createLoginLimiter } from '../src/limiter';
import { createLogger } from '../src/logger';
import { createMetrics } from '../src/metrics';
import { guardStore } from '../src/store-guard';
import type { TRPCAdapter } from '../src/trpc';
import { handleKoaTRPCRequest, handleWithNodeHTTP } from '../src/trpc-koa';
import type { KoaCreateContextOptions } from '../src/trpc-koa';
import { TEST_SECRET } from './helpers';

/** Both sides run on the same fixed clock (server cookies, archive.org loans), so answers carry the same times. */
export const FIXED_NOW = Date.parse('2026-03-02T10:00:00.000Z');
export const BODY_LIMIT = 4096;
export const LOGIN_LIMITS = { perIp: 10_000, perEmail: 5, windowSeconds: 600 };

/** Faults a test switches on in a side's store (a real SQLite store behind them). */
export interface StoreFaults {
  /** Account creation for this email always finds its username taken (five times: max_retries_exceeded). */
  collideOn: string | null;
  /** Reads by username fail with an internal error while the database still answers (500). */
  readFails: boolean;
  /** The database answers nothing, ping included (an outage: 503). */
  down: boolean;
}

function faultyStore(store: AccountStore, faults: StoreFaults): AccountStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => Promise<unknown>;
      return (...args: unknown[]): Promise<unknown> => {
        if (faults.down && property !== 'close') {
          return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
        }
        if (property === 'getByUsername' && faults.readFails) {
          return Promise.reject(new Error('internal detail that stays in the log'));
        }
        if (property === 'create' && (args[0] as { email?: string }).email === faults.collideOn) {
          return Promise.reject(new AccountExistsError('username'));
        }
        return method.apply(target, args);
      };
    },
  });
}

export interface Received {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface Sent {
  method?: string;
  /** As sent on the request line, query string included. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body in pieces with Transfer-Encoding: chunked (no Content-Length). */
  chunked?: boolean;
}

/** One request on a fresh connection. */
export function send(base: string, sent: Sent): Promise<Received> {
  const { hostname, port } = new URL(base);
  const body = typeof sent.body === 'string' ? Buffer.from(sent.body) : sent.body;
  const headers: Record<string, string> = { ...sent.headers };
  if (body !== undefined && !sent.chunked && !('content-length' in headers)) {
    headers['content-length'] = String(body.length);
  }
  return new Promise((resolve, reject) => {
    const request = http.request(
      { hostname, port, method: sent.method ?? 'GET', path: sent.path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    request.on('error', reject);
    if (body !== undefined && sent.chunked) {
      for (let at = 0; at < body.length; at += 1000) request.write(body.subarray(at, at + 1000));
    }
    request.end(body !== undefined && !sent.chunked ? body : undefined);
  });
}

/** The cookies one browser holds for one side. */
export class Jar {
  readonly cookies = new Map<string, string>();

  header(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  keep(received: Received): void {
    for (const line of received.headers['set-cookie'] ?? []) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === '' || /;\s*max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** What the adapter options' `onError` and `responseMeta` received, for harness sides. */
export type HookCall = Record<string, unknown>;

export interface Side {
  adapter: TRPCAdapter;
  url: string;
  archive: RunningArchive;
  faults: StoreFaults;
  store: AccountStore;
  /** Whether the side logs (app sides): its JSON log lines. */
  logged: boolean;
  logs: string[];
  /** onError and responseMeta calls by request id, harness sides only. */
  hooks: Map<string, HookCall[]>;
  jars: Map<string, Jar>;
  jar: (name: string) => Jar;
  close(): Promise<void>;
}

async function sideBase(adapter: TRPCAdapter) {
  const dir = mkdtempSync(path.join(tmpdir(), `lending-conformance-${adapter}-`));
  const archive = await startArchive({ port: 0 });
  archive.state.now = () => new Date(FIXED_NOW);
  const real = await openAccountStore(`sqlite:${path.join(dir, 'lending.db')}`);
  const faults: StoreFaults = { collideOn: null, readFails: false, down: false };
  const config = await loadEnv({
    NODE_ENV: 'test',
    APP_SECRET: TEST_SECRET,
    DATABASE_URL: `sqlite:${path.join(dir, 'lending.db')}`,
    ARCHIVE_URL: archive.url,
    // Every request reaches the stand-in, so that its faults show at once.
    ARCHIVE_CACHE_SECONDS: '0',
    // Both sides name the same hosts (each side's stand-in has its own port), so their CSP headers compare equal.
    ARCHIVE_IMAGES_URL: 'https://archive.org',
    ARCHIVE_BOOKREADER_URL: 'https://archive.org',
    LOG_LEVEL: 'info',
    WEB_DIST: '/nonexistent-web-dist',
  });
  const jars = new Map<string, Jar>();
  return {
    dir,
    archive,
    real,
    faults,
    config,
    jars,
    jar: (name: string): Jar => {
      let jar = jars.get(name);
      if (!jar) jars.set(name, (jar = new Jar()));
      return jar;
    },
    async release(): Promise<void> {
      await archive.close();
      await real.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The real app (createApp, all its middleware and today's mount) with one adapter or the other. */
export async function startAppSide(adapter: TRPCAdapter): Promise<Side> {
  const base = await sideBase(adapter);
  const logs: string[] = [];
  const server: LendingApp = createApp(base.config, {
    store: faultyStore(base.real, base.faults),
    logStream: { write: (line: string) => void logs.push(line) },
    loginLimits: LOGIN_LIMITS,
    bodyLimit: BODY_LIMIT,
    now: () => FIXED_NOW,
    trpcAdapter: adapter,
  });
  const listening = await server.listen(0, '127.0.0.1');
  return {
    adapter,
    url: listening.url,
    archive: base.archive,
    faults: base.faults,
    store: base.real,
    logged: true,
    logs,
    hooks: new Map(),
    jars: base.jars,
    jar: base.jar,
    async close() {
      await server.close();
      await base.release();
    },
  };
}

/** The real procedures' dependencies, as createApp builds them. */
function apiDeps(config: ServerConfig, store: AccountStore): ApiDeps {
  return {
    store: guardStore(store),
    archive: archiveClientFor(config),
    archiveLinks: config.archiveLinks,
    cookieKeys: cookieKeys(config.appSecret),
    sessionTtl: config.sessionTtl,
    s3CookieFormat: config.s3CookieFormat,
    loginLimiter: createLoginLimiter(LOGIN_LIMITS),
    metrics: createMetrics(),
    now: () => FIXED_NOW,
  };
}

export interface HarnessOptions {
  router: AnyTRPCRouter;
  responseMeta?: ResponseMetaFn<AnyTRPCRouter>;
  /** Context for the router; by default the app's, on the side's real dependencies. */
  createContext?: (deps: ApiDeps, opts: KoaCreateContextOptions) => unknown;
}

/**
 * A bare Koa server whose only middleware mounts `router` with one adapter or the other: no guards in front,
 * so every content type and body reaches the handler. `onError` and `responseMeta` calls are recorded.
 */
export async function startHarnessSide(adapter: TRPCAdapter, options: HarnessOptions): Promise<Side> {
  const base = await sideBase(adapter);
  const deps = apiDeps(base.config, faultyStore(base.real, base.faults));
  const log = createLogger({ logLevel: 'silent' });
  const hooks = new Map<string, HookCall[]>();
  const handle = adapter === 'node-http' ? handleWithNodeHTTP : handleKoaTRPCRequest;
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx) => {
    if (!ctx.path.startsWith('/trpc/')) return;
    const calls: HookCall[] = [];
    hooks.set(ctx.get('x-request-id'), calls);
    const onError: HTTPErrorHandler<AnyTRPCRouter, http.IncomingMessage> = ({
      error,
      path: procedure,
      input,
      ctx: context,
      type,
      req,
    }) =>
      calls.push({
        hook: 'onError',
        code: error.code,
        message: error.message,
        path: procedure,
        input,
        hasContext: context !== undefined,
        type,
        req: req === ctx.req,
      });
    ctx.set('Cache-Control', 'no-store');
    await handle({
      ctx,
      router: options.router,
      path: ctx.path.slice('/trpc/'.length),
      maxBodySize: BODY_LIMIT,
      createContext: (opts) =>
        options.createContext
          ? options.createContext(deps, opts)
          : createContext(deps, {
              cookies: cookieJar(opts.ctx, false, () => log),
              ip: opts.ctx.ip,
              log,
              setHeader: (name, value) => opts.ctx.set(name, value),
            }),
      onError,
      responseMeta: (meta) => {
        calls.push({
          hook: 'responseMeta',
          paths: meta.paths,
          type: meta.type,
          errors: meta.errors.map((e) => e.code),
          data: meta.data,
          eagerGeneration: meta.eagerGeneration,
          hasContext: meta.ctx !== undefined,
          info: meta.info && {
            isBatchCall: meta.info.isBatchCall,
            type: meta.info.type,
            accept: meta.info.accept,
            connectionParams: meta.info.connectionParams,
            calls: meta.info.calls.map((call) => [call.batchIndex, call.path, call.procedure !== null]),
            url: meta.info.url?.pathname,
          },
        });
        return options.responseMeta?.(meta) ?? {};
      },
    });
  });
  const handler = app.callback();
  const server = http.createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    adapter,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    archive: base.archive,
    faults: base.faults,
    store: base.real,
    logged: false,
    logs: [],
    hooks,
    jars: base.jars,
    jar: base.jar,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await base.release();
    },
  };
}
