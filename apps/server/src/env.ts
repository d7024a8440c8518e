// The server's configuration: the only module that reads process.env. Parsed once with zod at start.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_DATABASE_URL,
  DEFAULT_GATE_LIMITS,
  defaultEndpoints,
  parseDatabaseUrl,
} from '@lending/accounts';
import type { ArchiveEndpoints } from '@lending/accounts';
import type { PostgresTuning } from '@lending/accounts';
import { z } from 'zod';
import { LOOPBACK_PROXIES, parseProxyList } from './client-ip';
import type { ProxyTrust } from './client-ip';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');

export interface ServerConfig {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  host: string;
  appSecret: string;
  appSecretPrevious: string[];
  databaseUrl: string;
  archive: {
    url: string;
    serviceAccess: string;
    serviceSecret: string;
    timeoutMs: number;
    /** The internal lending API's token (Open Library's `ia_ol_shared_key`). */
    loanApiToken: string;
    /** Each service's own URL (each defaults to its path under `url`). */
    endpoints: ArchiveEndpoints;
    /** Calls in flight at once, and calls that may wait for a slot. */
    maxConcurrent: number;
    maxQueue: number;
    /** How long a catalogue page and a book's availability are reused (0: not cached). */
    cacheSeconds: number;
  };
  /** What patrons' browsers open at archive.org (BookReader, covers) and the BookReader links' HMAC key. */
  archiveLinks: { bookreaderUrl: string; imagesUrl: string; accessSecret: string };
  /** Seconds. */
  sessionTtl: number;
  s3CookieFormat: 'lending' | 'openlibrary';
  /** Milliseconds since the epoch until which Open Library-format s3 cookies are accepted (and re-sealed); null: never. */
  s3CookieInteropUntil: number | null;
  /** Seconds: a remembered session ends after this long without a request, and at most this long after login. */
  rememberIdleTtl: number;
  rememberMaxTtl: number;
  trustProxy: boolean;
  /** Whose X-Forwarded-For is believed (TRUST_PROXY with PROXY_HOPS or TRUSTED_PROXIES; loopback by default). */
  proxyTrust: ProxyTrust;
  /** Where the login limits are shared (REDIS_URL); absent: PostgreSQL when the store is, else memory. */
  redis: { url: string; prefix: string } | null;
  /** Anonymous /trpc calls per network: a token bucket refilled at `perSecond` holding `burst`; 0: off. */
  anonymousLimit: { perSecond: number; burst: number };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Absolute path of the built SPA; served only when it exists. */
  webDist: string;
  /** PostgreSQL's pool and timeouts, in ms (not used with SQLite). */
  database: {
    poolMax: number;
    statementTimeoutMs: number;
    lockTimeoutMs: number;
    queryTimeoutMs: number;
    connectTimeoutMs: number;
  };
  /**
   * Where /metrics is served: with `port`, only on a listener of its own at host:port; without, on the public
   * listener outside production only. With `token`, only to `Authorization: Bearer <token>`.
   */
  metrics: { port: number | undefined; host: string; token: string | undefined };
  /** SIGTERM: how long /readyz says 503 before the listener closes, and the bound on the whole shutdown. */
  shutdown: { delayMs: number; timeoutMs: number };
}

/** A configuration the server cannot start with; the message names the variables, never a secret's value. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "86400", "90s", "30m", "24h", "7d" -> seconds. */
export function parseDuration(value: string): number | null {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!match) return null;
  const seconds = Number(match[1]) * (UNITS[match[2] || 's'] ?? 1);
  return Number.isSafeInteger(seconds) && seconds > 0 ? seconds : null;
}

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine(
    (v) => ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', ''].includes(v),
    'must be true or false',
  )
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

const httpUrl = z
  .string()
  .trim()
  .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'must be an http(s) URL')
  .transform((v) => v.replace(/\/+$/, ''));

/** A duration variable (parseDuration), with its default and an upper bound. */
function duration(fallback: string, max?: { seconds: number; words: string }) {
  return z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const seconds = parseDuration(v);
      if (seconds === null) {
        ctx.addIssue({ code: 'custom', message: 'must be seconds or a duration like 90s, 30m, 24h, 7d' });
        return z.NEVER;
      }
      if (max !== undefined && seconds > max.seconds) {
        ctx.addIssue({ code: 'custom', message: `must be at most ${max.words}` });
        return z.NEVER;
      }
      return seconds;
    });
}

const NINETY_DAYS = { seconds: 90 * 86400, words: '90 days' };
/** A service's own URL, kept as given (archive.org's paths end with a slash). */
const endpointUrl = z
  .string()
  .trim()
  .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'must be an http(s) URL');

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  APP_SECRET: z.string().optional(),
  APP_SECRET_PREVIOUS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  DATABASE_URL: z
    .string()
    .trim()
    .superRefine((v, ctx) => {
      try {
        parseDatabaseUrl(v);
      } catch (error) {
        // The parser's messages never repeat the URL.
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    })
    .default(DEFAULT_DATABASE_URL),
  ARCHIVE_URL: httpUrl.default('http://127.0.0.1:3001'),
  ARCHIVE_SERVICE_ACCESS: z.string().trim().min(1).optional(),
  ARCHIVE_SERVICE_SECRET: z.string().trim().min(1).optional(),
  ARCHIVE_TIMEOUT_MS: z.coerce.number().int().min(1).max(120_000).default(5000),
  ARCHIVE_XAUTHN_URL: endpointUrl.optional(),
  ARCHIVE_S3AUTH_URL: endpointUrl.optional(),
  ARCHIVE_LOAN_URL: endpointUrl.optional(),
  ARCHIVE_LENDING_API_URL: endpointUrl.optional(),
  ARCHIVE_AVAILABILITY_URL: endpointUrl.optional(),
  ARCHIVE_SEARCH_URL: endpointUrl.optional(),
  ARCHIVE_BOOKREADER_URL: httpUrl.optional(),
  ARCHIVE_LOAN_API_TOKEN: z.string().trim().min(16).optional(),
  ARCHIVE_MAX_CONCURRENT: z.coerce.number().int().min(1).max(1000).default(DEFAULT_GATE_LIMITS.maxConcurrent),
  ARCHIVE_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(20),
  ARCHIVE_MAX_QUEUE: z.coerce.number().int().min(0).max(100_000).default(DEFAULT_GATE_LIMITS.maxQueue),
  ARCHIVE_IMAGES_URL: httpUrl.optional(),
  ARCHIVE_ACCESS_SECRET: z.string().trim().min(16).optional(),
  SESSION_TTL: z
    .string()
    .default('24h')
    .transform((v, ctx) => {
      const seconds = parseDuration(v);
      if (seconds === null) {
        ctx.addIssue({ code: 'custom', message: 'must be seconds or a duration like 90s, 30m, 24h, 7d' });
        return z.NEVER;
      }
      return seconds;
    }),
  S3_COOKIE_FORMAT: z.enum(['lending', 'openlibrary']).default('lending'),
  S3_COOKIE_INTEROP_UNTIL: z
    .string()
    .trim()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2027-03-01 (the first day it no longer applies, UTC)')
    .transform((v, ctx) => {
      const ms = Date.parse(`${v}T00:00:00Z`);
      if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== v) {
        ctx.addIssue({ code: 'custom', message: 'is not a calendar date' });
        return z.NEVER;
      }
      return ms;
    })
    .optional(),
  REMEMBER_IDLE_TTL: duration('30d', NINETY_DAYS),
  REMEMBER_MAX_TTL: duration('90d', NINETY_DAYS),
  TRUST_PROXY: bool.default(false),
  PROXY_HOPS: z.coerce.number().int().min(1).max(10).optional(),
  TRUSTED_PROXIES: z
    .string()
    .trim()
    .optional()
    .superRefine((v, ctx) => {
      if (v === undefined) return;
      try {
        parseProxyList(v);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }),
  REDIS_URL: z
    .string()
    .trim()
    .refine(
      (v) => URL.canParse(v) && /^rediss?:$/.test(new URL(v).protocol),
      'must be a redis:// or rediss:// URL',
    )
    .optional(),
  REDIS_PREFIX: z.string().trim().min(1).max(100).default('lending:'),
  ANONYMOUS_RATE: z.coerce.number().min(0).max(100_000).default(20),
  ANONYMOUS_BURST: z.coerce.number().int().min(1).max(1_000_000).default(200),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  WEB_DIST: z.string().trim().min(1).optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(1000).default(10),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(1).max(3_600_000).default(5000),
  DATABASE_LOCK_TIMEOUT_MS: z.coerce.number().int().min(1).max(3_600_000).default(2000),
  DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(1).max(3_600_000).default(6000),
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(1).max(120_000).default(2000),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_HOST: z.string().trim().min(1).default('127.0.0.1'),
  METRICS_TOKEN: z.string().trim().min(16, 'must be at least 16 characters').optional(),
  SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).max(120_000).default(0),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(15_000),
});

// Variables whose values must never be echoed back in an error.
const SECRET_VARS = new Set([
  'APP_SECRET',
  'APP_SECRET_PREVIOUS',
  'ARCHIVE_SERVICE_SECRET',
  'ARCHIVE_ACCESS_SECRET',
  'ARCHIVE_LOAN_API_TOKEN',
  'DATABASE_URL',
  'METRICS_TOKEN',
  'REDIS_URL',
]);

export interface LoadEnvOptions {
  /** Where a development secret is generated once and kept (default ./data/app-secret, relative to cwd). */
  secretFile?: string;
  /** The stand-in's service keys, used outside production when none are configured. */
  demoServiceKeys?: () => Promise<{ access: string; secret: string }>;
  /** The stand-in's lending API token, used outside production when none is configured. */
  demoLoanApiToken?: () => Promise<string>;
  /** The stand-in's BookReader secret, used outside production when ARCHIVE_ACCESS_SECRET is not set. */
  demoAccessSecret?: () => Promise<string>;
}

async function defaultDemoLoanApiToken(): Promise<string> {
  const { DEMO_LOAN_API_TOKEN } = await import('@lending/archive');
  return DEMO_LOAN_API_TOKEN;
}

async function defaultDemoAccessSecret(): Promise<string> {
  const { DEMO_ACCESS_SECRET } = await import('@lending/archive');
  return DEMO_ACCESS_SECRET;
}

/** An http(s) URL's origin: what a Content-Security-Policy source names. */
function originOf(url: string): string {
  return new URL(url).origin;
}

async function defaultDemoServiceKeys(): Promise<{ access: string; secret: string }> {
  // Imported lazily: the stand-in is a development dependency, never loaded in production.
  const { DEMO_SERVICE_KEYS } = await import('@lending/archive');
  return DEMO_SERVICE_KEYS;
}

/** Reads a development secret from `file`, creating it (mode 0600) the first time. */
export function developmentSecret(file: string): string {
  if (existsSync(file)) {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored.length >= 32) return stored;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}

/** The store's PostgreSQL tuning from the configuration. */
export function postgresTuning(config: Pick<ServerConfig, 'database'>): PostgresTuning {
  const d = config.database;
  return {
    max: d.poolMax,
    statementTimeoutMs: d.statementTimeoutMs,
    lockTimeoutMs: d.lockTimeoutMs,
    queryTimeoutMs: d.queryTimeoutMs,
    connectTimeoutMs: d.connectTimeoutMs,
  };
}

/** Parses `env` (default: process.env). Throws ConfigError naming every bad variable. */
export async function loadEnv(
  env: Record<string, string | undefined> = process.env,
  options: LoadEnvOptions = {},
): Promise<ServerConfig> {
  // Empty strings count as unset, as in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'environment');
        const message = SECRET_VARS.has(name) ? issue.message.replace(/"[^"]*"/g, '(hidden)') : issue.message;
        return `${name}: ${message}`;
      });
  // Checked on the raw values too, so one run reports every problem.
  const production = cleaned.NODE_ENV === 'production';
  const rawSecret = cleaned.APP_SECRET;
  if (rawSecret === undefined && production) {
    problems.push('APP_SECRET: required in production (at least 32 characters)');
  } else if (rawSecret !== undefined && rawSecret.length < 32) {
    problems.push(`APP_SECRET: must be at least 32 characters (it has ${rawSecret.length})`);
  }
  if (production) {
    for (const name of [
      'ARCHIVE_SERVICE_ACCESS',
      'ARCHIVE_SERVICE_SECRET',
      'ARCHIVE_LOAN_API_TOKEN',
      'ARCHIVE_ACCESS_SECRET',
    ]) {
      if (!cleaned[name]?.trim()) problems.push(`${name}: required in production`);
    }
  }
  if (cleaned.PROXY_HOPS !== undefined && cleaned.TRUSTED_PROXIES !== undefined) {
    problems.push('PROXY_HOPS: set either PROXY_HOPS or TRUSTED_PROXIES, not both');
  }
  const trustsProxy = ['true', '1', 'yes', 'on'].includes((cleaned.TRUST_PROXY ?? '').trim().toLowerCase());
  for (const name of ['PROXY_HOPS', 'TRUSTED_PROXIES']) {
    if (cleaned[name] !== undefined && !trustsProxy) {
      problems.push(`${name}: only meaningful with TRUST_PROXY=true`);
    }
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const appSecret = e.APP_SECRET ?? developmentSecret(options.secretFile ?? path.resolve('data/app-secret'));

  let serviceAccess = e.ARCHIVE_SERVICE_ACCESS;
  let serviceSecret = e.ARCHIVE_SERVICE_SECRET;
  if (serviceAccess === undefined || serviceSecret === undefined) {
    const demo = await (options.demoServiceKeys ?? defaultDemoServiceKeys)();
    serviceAccess ??= demo.access;
    serviceSecret ??= demo.secret;
  }

  const loanApiToken =
    e.ARCHIVE_LOAN_API_TOKEN ?? (await (options.demoLoanApiToken ?? defaultDemoLoanApiToken)());
  const defaults = defaultEndpoints(e.ARCHIVE_URL);
  const endpoints: ArchiveEndpoints = {
    xauthn: e.ARCHIVE_XAUTHN_URL ?? defaults.xauthn,
    s3auth: e.ARCHIVE_S3AUTH_URL ?? defaults.s3auth,
    loans: e.ARCHIVE_LOAN_URL ?? defaults.loans,
    lendingApi: e.ARCHIVE_LENDING_API_URL ?? defaults.lendingApi,
    availability: e.ARCHIVE_AVAILABILITY_URL ?? defaults.availability,
    search: e.ARCHIVE_SEARCH_URL ?? defaults.search,
    bookreader: e.ARCHIVE_BOOKREADER_URL ?? defaults.bookreader,
  };
  const accessSecret =
    e.ARCHIVE_ACCESS_SECRET ?? (await (options.demoAccessSecret ?? defaultDemoAccessSecret)());

  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    appSecret,
    appSecretPrevious: e.APP_SECRET_PREVIOUS,
    databaseUrl: e.DATABASE_URL,
    archive: {
      url: e.ARCHIVE_URL,
      serviceAccess,
      serviceSecret,
      timeoutMs: e.ARCHIVE_TIMEOUT_MS,
      loanApiToken,
      endpoints,
      maxConcurrent: e.ARCHIVE_MAX_CONCURRENT,
      maxQueue: e.ARCHIVE_MAX_QUEUE,
      cacheSeconds: e.ARCHIVE_CACHE_SECONDS,
    },
    archiveLinks: {
      bookreaderUrl: originOf(e.ARCHIVE_BOOKREADER_URL ?? e.ARCHIVE_URL),
      imagesUrl: originOf(e.ARCHIVE_IMAGES_URL ?? e.ARCHIVE_URL),
      accessSecret,
    },
    sessionTtl: e.SESSION_TTL,
    s3CookieFormat: e.S3_COOKIE_FORMAT,
    s3CookieInteropUntil: e.S3_COOKIE_INTEROP_UNTIL ?? null,
    rememberIdleTtl: Math.min(e.REMEMBER_IDLE_TTL, e.REMEMBER_MAX_TTL),
    rememberMaxTtl: e.REMEMBER_MAX_TTL,
    trustProxy: e.TRUST_PROXY,
    proxyTrust: !e.TRUST_PROXY
      ? { mode: 'none' }
      : e.PROXY_HOPS !== undefined
        ? { mode: 'hops', hops: e.PROXY_HOPS }
        : { mode: 'list', ...parseProxyList(e.TRUSTED_PROXIES ?? LOOPBACK_PROXIES) },
    redis: e.REDIS_URL === undefined ? null : { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    anonymousLimit: { perSecond: e.ANONYMOUS_RATE, burst: e.ANONYMOUS_BURST },
    logLevel: e.LOG_LEVEL,
    webDist: e.WEB_DIST ? path.resolve(e.WEB_DIST) : path.join(REPO_ROOT, 'apps/web/dist'),
    database: {
      poolMax: e.DATABASE_POOL_MAX,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
      lockTimeoutMs: e.DATABASE_LOCK_TIMEOUT_MS,
      queryTimeoutMs: e.DATABASE_QUERY_TIMEOUT_MS,
      connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
    },
    metrics: { port: e.METRICS_PORT, host: e.METRICS_HOST, token: e.METRICS_TOKEN },
    shutdown: { delayMs: e.SHUTDOWN_DELAY_MS, timeoutMs: e.SHUTDOWN_TIMEOUT_MS },
  };
}
