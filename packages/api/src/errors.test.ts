import { APP_ERROR_CODES, AppError, RevisionConflictError } from '@lending/accounts';
import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { API_ERRORS, failureLog, INTERNAL_MESSAGE, toClientError } from './errors';

/** What tRPC hands the error middleware when a resolver throws `cause`. */
function thrown(cause: unknown): TRPCError {
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause });
}

describe('toClientError', () => {
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
    ['revision_conflict', 'CONFLICT'],
    ['not_found', 'NOT_FOUND'],
    ['archive_unavailable', 'SERVICE_UNAVAILABLE'],
    ['archive_misconfigured', 'SERVICE_UNAVAILABLE'],
    ['database_unavailable', 'SERVICE_UNAVAILABLE'],
    ['database_busy', 'SERVICE_UNAVAILABLE'],
    ['invalid_code', 'UNAUTHORIZED'],
  ] as const)('gives %s the code %s and its neutral message, keeping the AppError', (code, trpcCode) => {
    const appError = new AppError(code, 'loans borrow_book: HTTP 409 no error code');
    const error = toClientError(thrown(appError));
    expect(error.code).toBe(trpcCode);
    expect(error.cause).toBe(appError);
    expect(error.message).toBe(API_ERRORS[code].message);
    expect(error.message).not.toContain('HTTP 409');
  });

  it('has a contract for every code, each message a sentence', () => {
    expect(Object.keys(API_ERRORS).sort()).toEqual([...APP_ERROR_CODES].sort());
    for (const { message } of Object.values(API_ERRORS)) expect(message).toMatch(/^[A-Za-z].*\.$/);
  });

  it('takes an AppError subclass by its code', () => {
    const error = toClientError(thrown(new RevisionConflictError('alice')));
    expect(error.code).toBe('CONFLICT');
    expect(error.message).not.toContain('alice');
  });

  it('hides an unexpected error behind INTERNAL_MESSAGE, keeping it as the cause', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')");
    const error = toClientError(thrown(bug));
    expect(error.code).toBe('INTERNAL_SERVER_ERROR');
    expect(error.message).toBe(INTERNAL_MESSAGE);
    expect(error.cause).toBe(bug);
  });

  it('takes a connection error from the database for database_unavailable', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const error = toClientError(thrown(refused));
    expect(error.code).toBe('SERVICE_UNAVAILABLE');
    expect(error.cause).toMatchObject({ code: 'database_unavailable', cause: refused });
    expect(error.message).not.toContain('5432');
  });

  it("leaves tRPC's own errors alone", () => {
    const original = new TRPCError({ code: 'UNAUTHORIZED', message: 'Log in to continue.' });
    expect(toClientError(original)).toBe(original);
    const mapped = toClientError(thrown(new AppError('not_found', 'x')));
    expect(toClientError(mapped)).toBe(mapped);
  });
});

describe('failureLog', () => {
  it('logs a refusal at info with its code and detail, without stacks', () => {
    const entry = failureLog(
      toClientError(thrown(new AppError('lending_limit', 'loans borrow_book: HTTP 409'))),
    );
    expect(entry).toMatchObject({
      level: 'info',
      message: 'procedure refused',
      fields: {
        status: 409,
        code: 'CONFLICT',
        appCode: 'lending_limit',
        detail: 'loans borrow_book: HTTP 409',
      },
    });
    expect(entry.fields.causes).toEqual([
      { name: 'AppError', message: 'lending_limit: loans borrow_book: HTTP 409' },
    ]);
  });

  it('logs an outage with the whole cause chain: names, messages, driver codes and stacks', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const fetchFailed = new TypeError('fetch failed', { cause: reset });
    const outage = new AppError('archive_unavailable', 'loans user_loans: connection failed (ECONNRESET)', {
      cause: fetchFailed,
    });
    const entry = failureLog(toClientError(thrown(outage)));
    expect(entry.level).toBe('warn');
    expect(entry.fields).toMatchObject({ status: 503, appCode: 'archive_unavailable' });
    expect(entry.fields.causes.map(({ name, message, code }) => ({ name, message, code }))).toEqual([
      {
        name: 'AppError',
        message: 'archive_unavailable: loans user_loans: connection failed (ECONNRESET)',
        code: undefined,
      },
      { name: 'TypeError', message: 'fetch failed', code: undefined },
      { name: 'Error', message: 'read ECONNRESET', code: 'ECONNRESET' },
    ]);
    for (const cause of entry.fields.causes) expect(cause.stack).toContain('errors.test.ts');
  });

  it('logs a fault at error with the thrown error, not the generic message', () => {
    const entry = failureLog(toClientError(thrown(new Error('SELECT failed at db.ts:42'))));
    expect(entry).toMatchObject({ level: 'error', message: 'procedure failed', fields: { status: 500 } });
    expect(entry.fields.appCode).toBeUndefined();
    expect(entry.fields.causes[0]).toMatchObject({ name: 'Error', message: 'SELECT failed at db.ts:42' });
  });

  it("logs tRPC's own client errors at info", () => {
    const entry = failureLog(new TRPCError({ code: 'NOT_FOUND', message: 'No procedure found' }));
    expect(entry).toMatchObject({ level: 'info', fields: { status: 404, code: 'NOT_FOUND' } });
    expect(entry.fields.causes).toEqual([
      { name: 'TRPCError', message: 'No procedure found', code: 'NOT_FOUND' },
    ]);
  });

  it('copies no field of an error but its name, message, code and stack (a driver error can carry values)', () => {
    const driver = Object.assign(new Error('duplicate key value violates unique constraint'), {
      code: '23505',
      detail: 'Key (email)=(patron@example.org) already exists.',
      parameters: ['hunter2'],
    });
    const entry = failureLog(toClientError(thrown(driver)));
    expect(JSON.stringify(entry)).not.toMatch(/patron@example\.org|hunter2/);
    expect(entry.fields.causes[0]).toMatchObject({ code: '23505' });
  });
});
