import { describe, expect, it } from 'vitest';
import { createLogger, scrub } from './logger';

describe('scrub', () => {
  it('censors secret fields at any depth, case-insensitively', () => {
    const input = {
      user: 'a',
      password: 'p',
      nested: {
        Secret: 's',
        list: [{ access: 'k' }, { ok: 1 }],
        headers: { cookie: 'c', 'Set-Cookie': ['x'] },
      },
    };
    expect(scrub(input)).toEqual({
      user: 'a',
      password: '[redacted]',
      nested: {
        Secret: '[redacted]',
        list: [{ access: '[redacted]' }, { ok: 1 }],
        headers: { cookie: '[redacted]', 'Set-Cookie': '[redacted]' },
      },
    });
    expect(input.password).toBe('p'); // the caller's object is untouched
  });

  it('returns objects without secrets as they are', () => {
    const clean = { req: { method: 'GET', url: '/x' }, res: { statusCode: 200 } };
    expect(scrub(clean)).toBe(clean);
  });

  it('is applied to every log line', () => {
    const lines: string[] = [];
    const log = createLogger({ logLevel: 'info' }, { write: (line: string) => void lines.push(line) });
    log.child({ reqId: 'r1' }).info({ email: 'e@example.org', keys: { access: 'A', secret: 'S' } }, 'hello');
    expect(lines.join('')).not.toMatch(/"A"|"S"/);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      reqId: 'r1',
      email: 'e@example.org',
      keys: '[redacted]',
      msg: 'hello',
    });
  });
});
