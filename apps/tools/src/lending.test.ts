import { APP_ERROR_CODES } from '@lending/accounts';
import { describe, expect, it } from 'vitest';
import { describeFailure } from './lending';

/** What a TRPCClientError looks like from the outside: the server's neutral message and the error's data. */
const failure = (data: Record<string, unknown>, message = 'The server says this.') =>
  Object.assign(new Error(message), { data });
const URL = 'http://127.0.0.1:3000';

describe('describeFailure', () => {
  it("words every code in the command's own terms, with the code for scripts", () => {
    for (const appCode of APP_ERROR_CODES) {
      const line = describeFailure(failure({ code: 'BAD_REQUEST', appCode }), URL);
      expect(line).toMatch(new RegExp(`^[A-Za-z].* \\(${appCode}\\)$`));
      expect(line).not.toContain('The server says this.');
    }
  });

  it("falls back to the server's sentence for a code it does not know", () => {
    expect(describeFailure(failure({ code: 'CONFLICT', appCode: 'brand_new' }), URL)).toBe(
      'The server says this. (brand_new)',
    );
    expect(describeFailure(failure({ code: 'UNAUTHORIZED' }, 'Log in to continue.'), URL)).toBe(
      'Log in to continue. (UNAUTHORIZED)',
    );
  });

  it('says how long to wait when rate-limited, and lists field errors', () => {
    expect(describeFailure(failure({ appCode: 'rate_limited', retryAfter: 42 }), URL)).toMatch(/Wait 42 s /);
    expect(
      describeFailure(failure({ code: 'BAD_REQUEST', fieldErrors: { identifier: ['Too big'] } }), URL),
    ).toBe('identifier: Too big (BAD_REQUEST)');
  });

  it('names the server when nothing answered', () => {
    expect(describeFailure(new TypeError('fetch failed'), URL)).toMatch(
      /Cannot reach the Lending server at /,
    );
  });
});
