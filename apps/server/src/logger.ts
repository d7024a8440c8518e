// JSON logs (pino). Secrets are scrubbed wherever a field of that name appears, as a second line of defence:
// the code already avoids logging cookies, keys and passwords.
import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';
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
  'iaauthtoken',
  'accesssecret',
  'cookie',
  'cookies',
  'set-cookie',
  'authorization',
]);

const MAX_DEPTH = 6;

/**
 * An Error as a plain object: its name, message, stack and code (which spreading or JSON.stringify would lose),
 * its own enumerable fields and its cause, each scrubbed like any other field.
 */
function scrubError(error: Error, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { type: error.name, message: error.message };
  if (error.stack !== undefined) out.stack = error.stack;
  for (const key of Object.keys(error)) {
    if (key === 'cause') continue;
    const item = (error as unknown as Record<string, unknown>)[key];
    out[key] = SECRET_FIELDS.has(key.toLowerCase()) && item !== undefined ? CENSOR : scrub(item, depth + 1);
  }
  if (error.cause !== undefined) out.cause = scrub(error.cause, depth + 1);
  if (error instanceof AggregateError) out.errors = scrub(error.errors, depth + 1);
  return out;
}

/**
 * A copy of `value` with secret fields censored; untouched objects are returned as they are, so the common case
 * (no secret anywhere) costs one walk and no allocation. pino's own wildcard `redact` costs ten times more.
 * Errors always become plain objects (name, message, stack, code, fields), scrubbed.
 */
export function scrub<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH || value instanceof Date) return value;
  if (value instanceof Error) return scrubError(value, depth) as T;
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
  const logger = pino(
    {
      level: config.logLevel,
      base: { service: 'lending-server' },
      formatters: { log: (fields) => scrub(fields) },
      // pino's default serialiser for `err` would run before `log` and keep secret-named fields: scrub() handles
      // errors under any field name.
      serializers: { err: (error: unknown) => scrub(error) },
      timestamp: isoTime,
    },
    destination,
  );
  // A child's bindings (`log.child({ ... })`) are serialised once, when the child is made, and never pass through
  // `formatters.log` (pino applies `formatters.bindings` to the root's base only): scrub them here. Children
  // inherit this method from the root, so grandchildren are scrubbed too.
  type ChildFn = (this: Logger, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => Logger;
  const child = Reflect.get(logger, 'child') as unknown as ChildFn;
  const scrubbedChild: ChildFn = function (this: Logger, bindings, options) {
    return child.call(this, scrub(bindings), options);
  };
  Reflect.set(logger, 'child', scrubbedChild);
  return logger;
}
