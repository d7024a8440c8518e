// The server's configuration: the only module that reads process.env. Parsed once with zod at start.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_DATABASE_URL, parseDatabaseUrl } from '@lending/accounts';
import { z } from 'zod';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');

export interface ServerConfig {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  host: string;
  appSecret: string;
  appSecretPrevious: string[];
  databaseUrl: string;
  archive: { url: string; serviceAccess: string; serviceSecret: string; timeoutMs: number };
  /** What patrons' browsers open at archive.org (BookReader, covers) and the BookReader links' HMAC key. */
  archiveLinks: { bookreaderUrl: string; imagesUrl: string; accessSecret: string };
  /** Seconds. */
  sessionTtl: number;
  s3CookieFormat: 'lending' | 'openlibrary';
  trustProxy: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Absolute path of the built SPA; served only when it exists. */
  webDist: string;
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
  ARCHIVE_BOOKREADER_URL: httpUrl.optional(),
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
  TRUST_PROXY: bool.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  WEB_DIST: z.string().trim().min(1).optional(),
});

// Variables whose values must never be echoed back in an error.
const SECRET_VARS = new Set([
  'APP_SECRET',
  'APP_SECRET_PREVIOUS',
  'ARCHIVE_SERVICE_SECRET',
  'ARCHIVE_ACCESS_SECRET',
  'DATABASE_URL',
]);

export interface LoadEnvOptions {
  /** Where a development secret is generated once and kept (default ./data/app-secret, relative to cwd). */
  secretFile?: string;
  /** The stand-in's service keys, used outside production when none are configured. */
  demoServiceKeys?: () => Promise<{ access: string; secret: string }>;
  /** The stand-in's BookReader secret, used outside production when ARCHIVE_ACCESS_SECRET is not set. */
  demoAccessSecret?: () => Promise<string>;
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
    for (const name of ['ARCHIVE_SERVICE_ACCESS', 'ARCHIVE_SERVICE_SECRET', 'ARCHIVE_ACCESS_SECRET']) {
      if (!cleaned[name]?.trim()) problems.push(`${name}: required in production`);
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

  const accessSecret =
    e.ARCHIVE_ACCESS_SECRET ?? (await (options.demoAccessSecret ?? defaultDemoAccessSecret)());

  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    appSecret,
    appSecretPrevious: e.APP_SECRET_PREVIOUS,
    databaseUrl: e.DATABASE_URL,
    archive: { url: e.ARCHIVE_URL, serviceAccess, serviceSecret, timeoutMs: e.ARCHIVE_TIMEOUT_MS },
    archiveLinks: {
      bookreaderUrl: originOf(e.ARCHIVE_BOOKREADER_URL ?? e.ARCHIVE_URL),
      imagesUrl: originOf(e.ARCHIVE_IMAGES_URL ?? e.ARCHIVE_URL),
      accessSecret,
    },
    sessionTtl: e.SESSION_TTL,
    s3CookieFormat: e.S3_COOKIE_FORMAT,
    trustProxy: e.TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    webDist: e.WEB_DIST ? path.resolve(e.WEB_DIST) : path.join(REPO_ROOT, 'apps/web/dist'),
  };
}
