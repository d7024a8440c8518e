// JSON logs (pino). Secrets are scrubbed wherever a field of that name appears, as a second line of defence:
// the code already avoids logging cookies, keys and passwords.
import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';
import type { ApiLogger } from '@lending/api';
import type { ServerConfig } from './env';

const CENSOR = '[redacted]';

/** Field names (lower-cased) whose values never reach a log line, at any depth. */
export const SECRET_FIELDS = new Set([
  'password',
  'secret',
  'access',
  'servicesecret',
  'serviceaccess',
  'appsecret',
  's3keys',
  'keys',
  'token',
  // One-time login codes and xauthn's tokens (`code` itself names error codes on every failure line; no
  // one-time code is ever logged under it).
  'otp',
  'otpcode',
  'onetimecode',
  'logincode',
  'issuer_token',
  'cookie',
  'cookies',
  'set-cookie',
  'authorization',
]);

const MAX_DEPTH = 6;

/**
 * A copy of `value` with secret fields censored; untouched objects are returned as they are, so the common case
 * (no secret anywhere) costs one walk and no allocation. pino's own wildcard `redact` costs ten times more.
 */
export function scrub<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH || value instanceof Date) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    value.forEach((item: unknown, i) => {
      const clean = scrub(item, depth + 1);
      if (clean !== item) (copy ??= [...(value as unknown[])])[i] = clean;
    });
    return (copy ?? value) as T;
  }
  let copy: Record<string, unknown> | null = null;
  const source = value as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    const item = source[key];
    const clean =
      SECRET_FIELDS.has(key.toLowerCase()) && item !== undefined ? CENSOR : scrub(item, depth + 1);
    if (clean !== item) (copy ??= { ...source })[key] = clean;
  }
  return (copy ?? value) as T;
}

let stampedAt = NaN;
let stamp = '';

/** pino's ISO timestamp, formatted once per millisecond: under load many lines share one, and formatting is not free. */
function isoTime(): string {
  const now = Date.now();
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = `,"time":"${new Date(now).toISOString()}"`;
  }
  return stamp;
}

export function createLogger(
  config: Pick<ServerConfig, 'logLevel'>,
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'lending-server' },
      formatters: { log: (fields) => scrub(fields) },
      timestamp: isoTime,
    },
    destination,
  );
}

/**
 * The procedures' view of the request logger: the pino logger itself (its `info`/`warn`/`error` take the same
 * fields and message), so a request allocates no wrapper for it.
 */
export function apiLogger(log: Logger): ApiLogger {
  return log;
}
