import { describe, expect, it } from 'vitest';
import { readEnv } from './env';

describe('readEnv', () => {
  it('defaults to 127.0.0.1:3001, the full catalogue, lenient, no latency, the fixture’s secrets', () => {
    expect(readEnv({})).toEqual({
      ARCHIVE_PORT: 3001,
      ARCHIVE_HOST: '127.0.0.1',
      NODE_ENV: 'development',
      ARCHIVE_STRICT: false,
      ARCHIVE_LATENCY_MS: 0,
      ARCHIVE_CATALOGUE: 'full',
    });
  });

  it('reads every variable', () => {
    expect(
      readEnv({
        ARCHIVE_PORT: '4100',
        ARCHIVE_HOST: '0.0.0.0',
        NODE_ENV: 'production',
        ARCHIVE_STRICT: '1',
        ARCHIVE_LATENCY_MS: '50',
        ARCHIVE_CATALOGUE: 'classic',
        ARCHIVE_LOAN_API_TOKEN: 'a-loan-api-token-of-some-length',
        ARCHIVE_ACCESS_SECRET: 'an-access-secret-of-some-length',
      }),
    ).toEqual({
      ARCHIVE_PORT: 4100,
      ARCHIVE_HOST: '0.0.0.0',
      NODE_ENV: 'production',
      ARCHIVE_STRICT: true,
      ARCHIVE_LATENCY_MS: 50,
      ARCHIVE_CATALOGUE: 'classic',
      ARCHIVE_LOAN_API_TOKEN: 'a-loan-api-token-of-some-length',
      ARCHIVE_ACCESS_SECRET: 'an-access-secret-of-some-length',
    });
    expect(readEnv({ ARCHIVE_STRICT: 'true' }).ARCHIVE_STRICT).toBe(true);
    expect(readEnv({ ARCHIVE_STRICT: '0' }).ARCHIVE_STRICT).toBe(false);
  });

  it.each([
    ['ARCHIVE_PORT', 'eighty'],
    ['ARCHIVE_PORT', '70000'],
    ['ARCHIVE_STRICT', 'yes'],
    ['ARCHIVE_LATENCY_MS', '-1'],
    ['ARCHIVE_LATENCY_MS', '60001'],
    ['ARCHIVE_CATALOGUE', 'huge'],
    ['ARCHIVE_ACCESS_SECRET', 'short'],
    ['ARCHIVE_LOAN_API_TOKEN', 'short'],
  ])('stops with a message naming %s=%s', (name, value) => {
    expect(() => readEnv({ [name]: value })).toThrow(new RegExp(name));
  });
});
