// JSON logs (pino). Secrets are redacted wherever a field of that name appears, as a second line of defence:
// the code already avoids logging cookies, keys and passwords.
import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';
import type { ApiLogger } from '@lending/api';
import type { ServerConfig } from './env';

const SECRET_FIELDS = [
  'password',
  'secret',
  'access',
  'serviceSecret',
  'serviceAccess',
  'appSecret',
  's3Keys',
  'keys',
  'token',
  'cookie',
  'cookies',
  'authorization',
  '"set-cookie"',
];

const REDACT_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  ...SECRET_FIELDS.map((f) => `*.*.${f}`),
];

export function createLogger(
  config: Pick<ServerConfig, 'logLevel'>,
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'lending-server' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/** The procedures' view of the request logger. */
export function apiLogger(log: Logger): ApiLogger {
  return {
    info: (fields, message) => log.info(fields, message),
    warn: (fields, message) => log.warn(fields, message),
    error: (fields, message) => log.error(fields, message),
  };
}
