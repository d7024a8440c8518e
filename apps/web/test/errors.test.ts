import { APP_ERROR_CODES } from '@lending/accounts';
import { describe, expect, it } from 'vitest';
import { describeError, formatWait, shouldRetry } from '../src/errors';

// What a TRPCClientError looks like from the outside: message, data (the error formatter's), meta.
function trpcError(data: Record<string, unknown>, message = 'server message', meta?: unknown) {
  return Object.assign(new Error(message), { data, meta });
}

describe('describeError', () => {
  it('gives every appCode a sentence a patron understands', () => {
    for (const appCode of APP_ERROR_CODES) {
      const problem = describeError(trpcError({ code: 'BAD_REQUEST', appCode }));
      expect(problem.appCode).toBe(appCode);
      expect(problem.message).toMatch(/^[A-Za-z].*\.$/);
      expect(problem.message).not.toContain(appCode);
    }
  });

  it('says the lending limit in words', () => {
    const problem = describeError(trpcError({ code: 'CONFLICT', appCode: 'lending_limit' }));
    expect(problem.message).toMatch(/^You have reached the lending limit/);
    expect(problem.relogin).toBe(false);
  });

  it('sends s3_keys_missing back to the login form', () => {
    const problem = describeError(trpcError({ code: 'UNAUTHORIZED', appCode: 's3_keys_missing' }));
    expect(problem).toMatchObject({ relogin: true, message: 'Please log in again to borrow.' });
  });

  it('treats UNAUTHORIZED without a code as an ended session, but not a wrong password', () => {
    expect(describeError(trpcError({ code: 'UNAUTHORIZED' })).relogin).toBe(true);
    expect(describeError(trpcError({ code: 'UNAUTHORIZED', appCode: 'invalid_credentials' })).relogin).toBe(
      false,
    );
  });

  it('tells how long to wait when rate-limited', () => {
    const headers = new Headers({ 'retry-after': '42' });
    const fromHeader = describeError(
      trpcError({ code: 'TOO_MANY_REQUESTS', appCode: 'rate_limited' }, 'x', { response: { headers } }),
    );
    expect(fromHeader.message).toBe('Too many attempts. Please wait 42 seconds and try again.');
    const fromData = describeError(
      trpcError({ code: 'TOO_MANY_REQUESTS', appCode: 'rate_limited', retryAfter: 300 }),
    );
    expect(fromData.message).toContain('5 minutes');
    // The server's own sentence is not the patron's: a number in it is not read.
    const fromMessage = describeError(
      trpcError({ code: 'TOO_MANY_REQUESTS', appCode: 'rate_limited' }, 'Wait 300 seconds and try again.'),
    );
    expect(fromMessage.message).toBe('Too many attempts. Please wait a few minutes and try again.');
    expect(formatWait(1)).toBe('1 second');
  });

  it('keeps field errors for the form', () => {
    const problem = describeError(
      trpcError({ code: 'BAD_REQUEST', fieldErrors: { password: ['Too small'], email: [] } }),
    );
    expect(problem.fieldErrors).toEqual({ password: ['Too small'] });
    expect(problem.message).toBe('Please correct the highlighted fields.');
  });

  it('calls a failed fetch a network problem and retries it', () => {
    const problem = describeError(new TypeError('Failed to fetch'));
    expect(problem.network).toBe(true);
    expect(problem.message).toMatch(/couldn't reach the library/);
    expect(shouldRetry(new TypeError('Failed to fetch'))).toBe(true);
    expect(shouldRetry(trpcError({ code: 'CONFLICT', appCode: 'lending_limit' }))).toBe(false);
  });

  it('falls back to the code for an unknown appCode, like Open Library', () => {
    expect(describeError(trpcError({ code: 'BAD_REQUEST', appCode: 'brand_new' })).message).toBe(
      'Request failed with error code: brand_new.',
    );
  });
});
