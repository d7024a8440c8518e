// Each failed call is logged once, through the real server, with its code, the operator's detail, the cause chain
// and the request id; the client gets the code, the status and a neutral sentence, never the detail.
import { openAccountStore } from '@lending/accounts';
import { demoPatrons } from '@lending/archive';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, DEMO, errorOf, startStack } from './helpers';
import type { Stack } from './helpers';

let stack: Stack;
afterEach(async () => {
  await stack.close();
});

type Line = Record<string, unknown> & {
  level: number;
  msg: string;
  reqId?: string;
  causes?: { name: string; message: string; code?: string; stack?: string }[];
};

function logLines(): Line[] {
  return stack.logs.flatMap((chunk) => chunk.split('\n').filter(Boolean)).map((l) => JSON.parse(l) as Line);
}

/** The lines about failed calls of one request (every line but the request's own). */
function failureLines(reqId: string): Line[] {
  return logLines().filter((l) => l.reqId === reqId && typeof l.procedure === 'string');
}

async function loggedIn(): Promise<Client> {
  const client = new Client(stack.url);
  expect((await client.login()).status).toBe(200);
  return client;
}

describe('archive.org failing during loans.list', () => {
  it('stopped: one warn line with the detail, the cause chain down to ECONNREFUSED, and the request id', async () => {
    stack = await startStack();
    const client = await loggedIn();
    await stack.archive!.close();
    const reply = await client.query('loans.list', undefined, { 'x-request-id': 'archive-stopped-1' });

    expect(reply.status).toBe(503);
    expect(errorOf(reply).data).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      appCode: 'archive_unavailable',
    });
    expect(errorOf(reply).message).toBe('archive.org is not answering; a retry may succeed.');
    expect(reply.text).not.toMatch(/ECONNREFUSED|loan\.query|stack/);

    const lines = failureLines('archive-stopped-1');
    expect(lines).toHaveLength(1);
    const [line] = lines as [Line];
    expect(line).toMatchObject({
      level: 40,
      msg: 'procedure failed',
      procedure: 'loans.list',
      type: 'query',
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      appCode: 'archive_unavailable',
      detail: 'lending API loan.query: connection failed (ECONNREFUSED)',
    });
    const causes = line.causes ?? [];
    expect(causes[0]).toMatchObject({
      name: 'AppError',
      message: expect.stringContaining(line.detail as string) as unknown,
    });
    expect(causes.some((c) => c.code === 'ECONNREFUSED' && c.message.includes('ECONNREFUSED'))).toBe(true);
    for (const cause of causes) expect(cause.stack).toEqual(expect.any(String));
  });

  it.each([
    [
      'HTML instead of JSON',
      { kind: 'non_json' } as const,
      'lending API loan.query: answer is not JSON (HTTP 200)',
    ],
    [
      'JSON of another shape',
      { kind: 'bad_shape' } as const,
      'lending API loan.query: unexpected answer shape at status, result',
    ],
    ['a 502', { kind: 'status', status: 502 } as const, 'lending API loan.query: HTTP 502'],
  ])('answering %s: the line says what was wrong', async (_name, fault, detail) => {
    stack = await startStack();
    const client = await loggedIn();
    stack.archive!.state.fault = { ...fault, path: '/services/openlibrary.php' };
    const reply = await client.query('loans.list', undefined, { 'x-request-id': 'archive-garbage-1' });
    expect(reply.status).toBe(503);
    expect(reply.text).not.toContain(detail);
    expect(failureLines('archive-garbage-1')).toEqual([
      expect.objectContaining({ appCode: 'archive_unavailable', detail }),
    ]);
  });
});

describe('the database failing', () => {
  it('SQLite closed under the server: one error line with the detail and the driver error as its cause', async () => {
    const store = await openAccountStore('sqlite::memory:');
    stack = await startStack({ overrides: { store } });
    const client = await loggedIn();
    await store.close();
    const reply = await client.query('account.me', undefined, { 'x-request-id': 'database-down-1' });
    expect(reply.status).toBe(503);
    expect(errorOf(reply).data.appCode).toBe('database_unavailable');
    expect(reply.text).not.toMatch(/sqlite|ping|getByUsername/i);

    const lines = failureLines('database-down-1');
    expect(lines).toHaveLength(1);
    const [line] = lines as [Line];
    expect(line).toMatchObject({
      level: 50,
      procedure: 'account.me',
      status: 503,
      appCode: 'database_unavailable',
    });
    expect(line.detail).toMatch(/^store getByUsername failed and the database did not answer a ping/);
    // better-sqlite3's own error, as the store threw it.
    expect(line.causes?.[1]).toMatchObject({
      name: 'TypeError',
      message: 'The database connection is not open',
      stack: expect.any(String) as unknown,
    });
  });
});

describe('one line per failed call', () => {
  it('a batch of two calls failing alike: two lines, and their common status', async () => {
    stack = await startStack();
    const client = await loggedIn();
    await stack.archive!.close();
    const reply = await client.request('/trpc/loans.list,loans.history?batch=1&input=%7B%7D', {
      headers: { 'x-request-id': 'batch-down-1' },
    });
    expect(reply.status).toBe(503);
    expect(failureLines('batch-down-1').map((l) => [l.procedure, l.appCode])).toEqual([
      ['loans.list', 'archive_unavailable'],
      ['loans.history', 'archive_unavailable'],
    ]);
  });

  it('a batch with a success and a refusal: 207, one info line for the refusal', async () => {
    stack = await startStack();
    const client = new Client(stack.url);
    const reply = await client.request('/trpc/account.me,loans.list?batch=1&input=%7B%7D', {
      headers: { 'x-request-id': 'batch-mixed-1' },
    });
    expect(reply.status).toBe(207);
    const body = reply.body as [{ result: unknown }, { error: { data: { httpStatus: number } } }];
    expect(body[0].result).toEqual({ data: null });
    expect(body[1].error.data.httpStatus).toBe(401);
    expect(failureLines('batch-mixed-1')).toEqual([
      expect.objectContaining({ level: 30, msg: 'procedure refused', procedure: 'loans.list', status: 401 }),
    ]);
  });

  it('a refused login: info with the precise reason, no stack, and none of the password', async () => {
    stack = await startStack();
    const reply = await new Client(stack.url).request('/trpc/auth.login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'refused-1' },
      body: JSON.stringify({ email: DEMO.email, password: 'not-the-password-4417' }),
    });
    expect(reply.status).toBe(401);
    expect(errorOf(reply).data.appCode).toBe('invalid_credentials');
    const lines = failureLines('refused-1');
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, appCode: 'invalid_credentials', detail: 'account_bad_password' }),
    ]);
    expect(lines[0]!.causes?.every((c) => c.stack === undefined)).toBe(true);
    expect(stack.logs.join('')).not.toContain('not-the-password-4417');
  });

  it('keys refused by archive.org: the line holds neither the keys nor the service keys', async () => {
    stack = await startStack();
    const patron = demoPatrons().find((p) => p.email === DEMO.email)!;
    const reply = await new Client(stack.url).mutate(
      'auth.loginWithKeys',
      { access: patron.access, secret: 'WRONGSECRET0000' },
      { 'x-request-id': 'keys-refused-1' },
    );
    expect(errorOf(reply).data.appCode).toBe('invalid_s3keys');
    expect(failureLines('keys-refused-1')).toEqual([
      expect.objectContaining({ appCode: 'invalid_s3keys', detail: 's3auth_refused' }),
    ]);
    const log = stack.logs.join('');
    for (const secret of [patron.access, 'WRONGSECRET0000', stack.config.archive.serviceSecret]) {
      expect(log).not.toContain(secret);
    }
  });
});
