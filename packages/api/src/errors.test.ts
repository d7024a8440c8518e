import { TRPCError } from '@trpc/server';
import { APP_ERROR_CODES, AppError, ArchiveConfigError, RevisionConflictError } from '@lending/accounts';
import { describe, expect, it } from 'vitest';
import {
  appError,
  GENERIC_MESSAGE,
  isDatabaseUnavailable,
  mapError,
  MESSAGE_OF,
  TRPC_CODE_OF,
} from './errors';

function thrown(cause: unknown): TRPCError {
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause });
}

describe('mapError', () => {
  it.each([
    ['invalid_email', 'BAD_REQUEST'],
    ['invalid_credentials', 'UNAUTHORIZED'],
    ['invalid_s3keys', 'UNAUTHORIZED'],
    ['s3_keys_missing', 'UNAUTHORIZED'],
    ['account_locked', 'FORBIDDEN'],
    ['account_blocked', 'FORBIDDEN'],
    ['ia_account_not_verified', 'FORBIDDEN'],
    ['rate_limited', 'TOO_MANY_REQUESTS'],
    ['lending_limit', 'CONFLICT'],
    ['max_retries_exceeded', 'CONFLICT'],
    ['not_found', 'NOT_FOUND'],
    ['archive_unavailable', 'SERVICE_UNAVAILABLE'],
  ] as const)('maps %s to %s', (code, trpcCode) => {
    const { error, log } = mapError(thrown(new AppError(code, 'internal text', 'detail')));
    expect(error.code).toBe(trpcCode);
    expect(error.cause).toBeInstanceOf(AppError);
    // Messages from other packages are replaced by ours, which say what to do next.
    expect(error.message).toBe(MESSAGE_OF[code]);
    expect(log).toBeNull();
  });

  it('covers every code of the contract', () => {
    expect(Object.keys(TRPC_CODE_OF).sort()).toEqual([...APP_ERROR_CODES].sort());
    expect(Object.keys(MESSAGE_OF).sort()).toEqual([...APP_ERROR_CODES].sort());
  });

  it("keeps the message of this package's own AppErrors", () => {
    const { error } = mapError(thrown(appError('rate_limited', { message: 'Wait 7 seconds.' })));
    expect(error.code).toBe('TOO_MANY_REQUESTS');
    expect(error.message).toBe('Wait 7 seconds.');
  });

  it('hides unexpected errors behind a generic message and asks for a log line', () => {
    const { error, log } = mapError(
      thrown(new TypeError("Cannot read properties of undefined (reading 'x')")),
    );
    expect(error.code).toBe('INTERNAL_SERVER_ERROR');
    expect(error.message).toBe(GENERIC_MESSAGE);
    expect(log).toBe('error');
  });

  it('turns a refused service key into archive_unavailable, logged as an error', () => {
    const { error, log } = mapError(thrown(new ArchiveConfigError('xauthn answered 403')));
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    expect((error.cause as AppError).code).toBe('archive_unavailable');
    expect(error.message).not.toContain('403');
    expect(log).toBe('error');
  });

  it('answers a lost update with CONFLICT', () => {
    expect(mapError(thrown(new RevisionConflictError('alice'))).error.code).toBe('CONFLICT');
  });

  it('answers a database outage with SERVICE_UNAVAILABLE', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const { error } = mapError(thrown(refused));
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    expect(error.message).not.toContain('5432');
  });

  it('leaves errors that already have a tRPC code alone', () => {
    const original = new TRPCError({ code: 'UNAUTHORIZED', message: 'Log in to continue.' });
    expect(mapError(original).error).toBe(original);
  });
});

describe('isDatabaseUnavailable', () => {
  it('recognises connection failures of pg and SQLite, and the host guard error', () => {
    const named = new Error('The database is unavailable');
    named.name = 'DatabaseUnavailableError';
    expect(isDatabaseUnavailable(named)).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: '57P01' }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: '08006' }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: 'SQLITE_BUSY' }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(
      isDatabaseUnavailable(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })])),
    ).toBe(true);
  });

  it('does not take bugs or constraint violations for an outage', () => {
    expect(isDatabaseUnavailable(new TypeError('x is not a function'))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('dup'), { code: '23505' }))).toBe(false);
    expect(isDatabaseUnavailable('ECONNREFUSED')).toBe(false);
  });
});
