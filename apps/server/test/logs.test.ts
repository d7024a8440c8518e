// The captured log of a whole login-borrow-logout holds none of the password, the keys or the cookie values.
import { demoPatrons } from '@lending/archive';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, DEMO, startStack } from './helpers';
import type { Stack } from './helpers';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { LOG_LEVEL: 'debug' } });
});
afterAll(async () => {
  await stack.close();
});

describe('request logs', () => {
  it('never contain the password, the keys or the cookie values', async () => {
    const patron = demoPatrons().find((p) => p.email === DEMO.email)!;
    const client = new Client(stack.url);
    const login = await client.login(DEMO.email, DEMO.password, true);
    expect(login.status).toBe(200);
    const cookieValues = login.setCookies.map((c) => c.value);
    expect(cookieValues).toHaveLength(2);
    expect((await client.mutate('loans.borrow', { identifier: 'persuasion00aust' })).status).toBe(200);
    expect((await client.query('loans.list')).status).toBe(200);
    // A refused login with a password in a JSON body and the keys in a loginWithKeys attempt.
    await new Client(stack.url).login(DEMO.email, 'a-wrong-password-to-hide');
    await new Client(stack.url).mutate('auth.loginWithKeys', {
      access: patron.access,
      secret: patron.secret,
    });
    expect((await client.mutate('auth.logout')).status).toBe(200);

    const log = stack.logs.join('');
    const lines = stack.logs
      .flatMap((chunk) => chunk.split('\n').filter(Boolean))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.msg === 'request completed').length).toBeGreaterThanOrEqual(6);
    for (const secret of [
      DEMO.password,
      'a-wrong-password-to-hide',
      patron.access,
      patron.secret,
      ...cookieValues,
    ]) {
      expect(log).not.toContain(secret);
    }
    // One line per request, with its id, method, path and status.
    const request = lines.find(
      (l) => l.msg === 'request completed' && (l.req as { url: string }).url === '/trpc/loans.borrow',
    );
    expect(request).toMatchObject({ req: { method: 'POST' }, res: { statusCode: 200 } });
    expect(typeof request?.reqId).toBe('string');
    // The login line says whether keys were issued, and the scrubber leaves that flag readable.
    expect(lines.find((l) => l.msg === 'login')).toMatchObject({ method: 'password', keysIssued: true });
  });
});
