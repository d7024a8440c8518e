import { describe, expect, it } from 'vitest';
import { readEnv } from './env';

describe('readEnv', () => {
  it('defaults to 127.0.0.1:3001', () => {
    expect(readEnv({})).toEqual({ ARCHIVE_PORT: 3001, ARCHIVE_HOST: '127.0.0.1' });
  });

  it('reads ARCHIVE_PORT and ARCHIVE_HOST', () => {
    expect(readEnv({ ARCHIVE_PORT: '4100', ARCHIVE_HOST: '0.0.0.0' })).toEqual({
      ARCHIVE_PORT: 4100,
      ARCHIVE_HOST: '0.0.0.0',
    });
  });

  it('stops with a message naming the bad variable', () => {
    expect(() => readEnv({ ARCHIVE_PORT: 'eighty' })).toThrow(/ARCHIVE_PORT/);
    expect(() => readEnv({ ARCHIVE_PORT: '70000' })).toThrow(/ARCHIVE_PORT/);
  });
});
