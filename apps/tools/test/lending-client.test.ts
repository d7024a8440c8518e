// createLendingClient over real HTTP: the server on port 0 and the archive.org stand-in on port 0.
import { createLendingClient } from '@lending/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBooks, demoPatron, startLendingStack } from './lending-stack';
import type { LendingStack } from './lending-stack';

let stack: LendingStack;
beforeAll(async () => {
  stack = await startLendingStack();
});
afterAll(async () => {
  await stack?.close();
});

function client() {
  return createLendingClient({ url: `${stack.url}/trpc` });
}

async function failure(promise: Promise<unknown>): Promise<{ code?: string; appCode?: string }> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  // A TRPCClientError: the server's error formatter output is in `data`.
  expect(error).toBeInstanceOf(Error);
  expect(error).toHaveProperty('data');
  return (error as { data: { code?: string; appCode?: string } }).data;
}

describe('createLendingClient against the real server', () => {
  it('logs in with S3 keys, keeps both cookies and borrows and returns with them', async () => {
    const patron = demoPatron(0);
    const lending = client();
    expect(await lending.account.me.query()).toBeNull();

    const me = await lending.auth.loginWithKeys.mutate({ access: patron.access, secret: patron.secret });
    expect(me.email).toBe(patron.email);
    expect(Object.keys(lending.cookies.all()).sort()).toEqual(['s3', 'session']);
    // Sealed: the cookie never holds the keys in the clear.
    expect(lending.cookies.get('s3')).not.toContain(patron.secret);

    const again = await lending.account.me.query();
    expect(again).toMatchObject({ email: patron.email, keysSource: 'cookie' });

    const [identifier] = await availableBooks(stack.archive, 1);
    const borrowed = await lending.loans.borrow.mutate({ identifier: identifier! });
    expect(borrowed.ok).toBe(true);
    expect((await lending.loans.list.query()).map((l) => l.identifier)).toContain(identifier);
    await lending.loans.return.mutate({ identifier: identifier! });
    expect((await lending.loans.list.query()).map((l) => l.identifier)).not.toContain(identifier);
    const history = await lending.loans.history.query({ limit: 10 });
    expect(history.items.map((h) => h.identifier)).toContain(identifier);
  });

  it('logs in with a password too, and logout empties the jar', async () => {
    const patron = demoPatron(1);
    const lending = client();
    const me = await lending.auth.login.mutate({ email: patron.email, password: patron.password });
    expect(me.displayName).toBe(patron.screenname);
    expect(lending.cookies.get('session')).toBeTruthy();
    await lending.auth.logout.mutate();
    expect(lending.cookies.all()).toEqual({});
    expect(await lending.account.me.query()).toBeNull();
  });

  it('forgets the session when the jar is cleared', async () => {
    const patron = demoPatron(2);
    const lending = client();
    await lending.auth.loginWithKeys.mutate({ access: patron.access, secret: patron.secret });
    lending.cookies.clear();
    expect(await failure(lending.loans.list.query())).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('reports refused keys and bad input with their codes', async () => {
    const lending = client();
    expect(
      await failure(lending.auth.loginWithKeys.mutate({ access: 'nope', secret: 'wrong' })),
    ).toMatchObject({
      appCode: 'invalid_s3keys',
    });
    const data = (await failure(
      lending.auth.login.mutate({ email: 'patron@example.org', password: '' }),
    )) as {
      fieldErrors?: Record<string, string[]>;
    };
    expect(data.fieldErrors?.password?.length).toBeGreaterThan(0);
  });

  it('stops the sixth loan with lending_limit', async () => {
    const patron = demoPatron(0);
    const lending = client();
    await lending.auth.loginWithKeys.mutate({ access: patron.access, secret: patron.secret });
    const ids = await availableBooks(stack.archive, 6, 10);
    for (const identifier of ids.slice(0, 5)) await lending.loans.borrow.mutate({ identifier });
    expect(await failure(lending.loans.borrow.mutate({ identifier: ids[5]! }))).toMatchObject({
      appCode: 'lending_limit',
    });
    for (const identifier of ids.slice(0, 5)) await lending.loans.return.mutate({ identifier });
    expect(await lending.loans.list.query()).toEqual([]);
  });
});
