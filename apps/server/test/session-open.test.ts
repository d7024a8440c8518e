// A patron's request opens each cookie once: the anonymous-traffic limit (on by default) checks the `session`
// cookie before tRPC runs, and the api uses that check instead of opening the cookie a second time.
import * as crypto from '@lending/crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Client, dataOf, startStack } from './helpers';
import type { Stack } from './helpers';

vi.mock('@lending/crypto', async (importOriginal) => {
  const original = await importOriginal<typeof crypto>();
  return { ...original, openCookie: vi.fn(original.openCookie) };
});

const opened = () =>
  vi.mocked(crypto.openCookie).mock.calls.map(([, , options]) => (options as { pur: string }).pur);

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
  vi.mocked(crypto.openCookie).mockClear();
});

describe('cookies opened per request', () => {
  it('opens the session cookie once and the s3 cookie once for account.me, with the anonymous limit on', async () => {
    stack = await startStack(); // ANONYMOUS_RATE: its default, on
    expect(stack.config.anonymousLimit.perSecond).toBeGreaterThan(0);
    const patron = new Client(stack.url);
    expect((await patron.login()).status).toBe(200);
    vi.mocked(crypto.openCookie).mockClear();

    const me = await patron.query('account.me');
    expect(me.status).toBe(200);
    expect(dataOf<{ keysSource: string }>(me).keysSource).toBe('cookie');
    expect(opened().sort()).toEqual(['s3', 'session']);
  });

  it('an invalid session cookie is checked once, rejected once and counted as anonymous', async () => {
    stack = await startStack();
    const stranger = new Client(stack.url);
    stranger.cookies.set('session', 'gAAAAABnot-a-real-token');
    const me = await stranger.query('account.me');
    expect(me.status).toBe(200);
    expect(dataOf<null>(me)).toBeNull();
    expect(opened()).toEqual(['session']);
    const rejected = stack.logs.filter((line) => line.includes('session cookie rejected'));
    expect(rejected).toHaveLength(1);
  });
});
