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

describe('the scrubber on errors and child bindings (issue 13 §6)', () => {
  function capture() {
    const lines: string[] = [];
    const log = createLogger({ logLevel: 'info' }, { write: (line: string) => void lines.push(line) });
    return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
  }

  it('keeps an Error’s message, stack and code while censoring its secret-named fields', () => {
    const { log, lines, parsed } = capture();
    const error = Object.assign(new Error('upstream refused the call'), {
      code: 'E_REFUSED',
      token: 'tok-3f9a-secret',
      context: { password: 'hunter2-password' },
    });
    log.error({ err: error }, 'call failed');
    log.warn({ failure: error }, 'under another field name');
    const text = lines.join('');
    expect(text).not.toContain('tok-3f9a-secret');
    expect(text).not.toContain('hunter2-password');
    for (const [line, field] of [
      [parsed()[0]!, 'err'],
      [parsed()[1]!, 'failure'],
    ] as const) {
      expect(line[field]).toMatchObject({
        type: 'Error',
        message: 'upstream refused the call',
        code: 'E_REFUSED',
        token: '[redacted]',
        context: { password: '[redacted]' },
      });
      expect((line[field] as { stack: string }).stack).toContain('logger.test.ts');
    }
  });

  it('follows an Error’s cause and scrubs it too', () => {
    const { log, lines, parsed } = capture();
    const cause = Object.assign(new Error('socket hang up'), { secret: 'cause-secret-value' });
    log.error({ err: new Error('outer', { cause }) }, 'failed');
    expect(lines.join('')).not.toContain('cause-secret-value');
    expect(parsed()[0]!.err).toMatchObject({
      message: 'outer',
      cause: { message: 'socket hang up', secret: '[redacted]' },
    });
  });

  it('logs an Error passed on its own with its message', () => {
    const { log, parsed } = capture();
    log.error(Object.assign(new Error('alone'), { authorization: 'Bearer abc-def' }));
    expect(JSON.stringify(parsed()[0])).not.toContain('abc-def');
    expect(parsed()[0]).toMatchObject({ err: { message: 'alone', authorization: '[redacted]' } });
  });

  it('scrubs the bindings of child loggers', () => {
    const { log, lines, parsed } = capture();
    const child = log.child({ user: 'ada', password: 'child-binding-password', nested: { secret: 's-3' } });
    child.info({}, 'one');
    child.child({ cookie: 'session=abc123cookie' }).info({}, 'two');
    const text = lines.join('');
    expect(text).not.toContain('child-binding-password');
    expect(text).not.toContain('abc123cookie');
    expect(text).not.toContain('"s-3"');
    expect(parsed()[0]).toMatchObject({
      user: 'ada',
      password: '[redacted]',
      nested: { secret: '[redacted]' },
    });
    expect(parsed()[1]).toMatchObject({ user: 'ada', password: '[redacted]', cookie: '[redacted]' });
  });
});
