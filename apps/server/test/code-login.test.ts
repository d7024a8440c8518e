// Login with an emailed one-time code over real HTTP (issue 14 §3): the real server on port 0 beside the archive.org
// stand-in, its dev outbox read over HTTP as the demo does; the same answer for known and unknown emails, the same
// cookies as a password login, every bad input a clear code and never a 500, no code or key in the log; and the
// typed client (createLendingClient) logging in with a code.
import { createLendingClient } from '@lending/api/client';
import { demoPatrons, OTP_TTL_MS } from '@lending/archive';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrub } from '../src/logger';
import { Client, errorOf, startStack } from './helpers';
import type { Reply, Stack } from './helpers';

const demo = demoPatrons().find((p) => p.email === 'patron@example.org')!;
const pd = demoPatrons().find((p) => p.hasDisabilityAccess)!;
const UNKNOWN = 'nobody-here@example.org';

let stack: Stack;
beforeAll(async () => {
  // Generous login limits: this file asks codes and logs in many times from one address, and every code request
  // counts as a failure (the limit has its own test below).
  stack = await startStack({
    env: { LOG_LEVEL: 'debug' },
    overrides: {
      loginLimits: { perIp: 1000, perEmail: 1000, pairFreeFailures: 1000, siteFailures: 10_000 },
    },
  });
});
afterAll(async () => {
  await stack.close();
});

/** The newest code the stand-in "emailed" to `email`, read from its dev-only outbox over HTTP. */
async function outboxCode(archiveUrl: string, email: string): Promise<string> {
  const res = await fetch(`${archiveUrl}/_dev/outbox?email=${encodeURIComponent(email)}`);
  const { messages } = (await res.json()) as { messages: { code: string }[] };
  if (!messages[0]) throw new Error(`no code was sent to ${email}`);
  return messages[0].code;
}

async function requestCode(client: Client, email: string): Promise<string> {
  const reply = await client.mutate('auth.requestCode', { email });
  expect(reply.status).toBe(200);
  return outboxCode(stack.archive!.url, email);
}

/** Headers that differ between any two answers whatever they say. */
const VARYING = new Set(['date', 'x-request-id', 'x-response-time']);
function stableHeaders(reply: Reply): [string, string][] {
  return [...reply.headers].filter(([name]) => !VARYING.has(name));
}

function expectClearFailure(reply: Reply, status: number, appCode?: string): void {
  expect(reply.status).toBe(status);
  expect(reply.text).not.toMatch(/at .*\.ts:\d+|stack/i);
  if (appCode) expect(errorOf(reply).data.appCode).toBe(appCode);
}

describe('auth.requestCode over HTTP', () => {
  it('answers a known and an unknown email byte for byte alike', async () => {
    const known = await new Client(stack.url).mutate('auth.requestCode', { email: demo.email });
    const unknown = await new Client(stack.url).mutate('auth.requestCode', { email: UNKNOWN });
    expect(known.status).toBe(200);
    expect(unknown.text).toBe(known.text);
    expect(stableHeaders(unknown)).toEqual(stableHeaders(known));
    expect(known.setCookies).toEqual([]);
    expect(await outboxCode(stack.archive!.url, demo.email)).toMatch(/^\d{6}$/);
  });

  it('is limited per email and per address by the login limiter (429, Retry-After)', async () => {
    const limited = await startStack({ overrides: { loginLimits: { perEmail: 2, perIp: 3 } } });
    try {
      const client = new Client(limited.url);
      // Every request counts, though none is a wrong credential: two per email...
      for (let i = 0; i < 2; i++)
        expect((await client.mutate('auth.requestCode', { email: demo.email })).status).toBe(200);
      const perEmail = await client.mutate('auth.requestCode', { email: demo.email });
      expectClearFailure(perEmail, 429, 'rate_limited');
      expect(Number(perEmail.headers.get('retry-after'))).toBeGreaterThan(0);
      // ...and three per address: an unknown email counts alike (the limit tells nothing about accounts).
      expect((await client.mutate('auth.requestCode', { email: UNKNOWN })).status).toBe(200);
      expect((await client.mutate('auth.requestCode', { email: UNKNOWN })).status).toBe(429);
      const other = await client.mutate('auth.loginWithCode', {
        email: 'reader@example.org',
        code: '123456',
      });
      expectClearFailure(other, 429, 'rate_limited');
    } finally {
      await limited.close();
    }
  });
});

describe('auth.loginWithCode over HTTP', () => {
  it('logs in with the code from the outbox and sets the same two cookies as a password login', async () => {
    const byPassword = new Client(stack.url);
    const passwordLogin = await byPassword.login(demo.email, demo.password);
    const client = new Client(stack.url);
    const code = await requestCode(client, demo.email);
    const reply = await client.mutate('auth.loginWithCode', { email: demo.email, code });
    expect(reply.status).toBe(200);
    const shape = (r: Reply) => r.setCookies.map((c) => ({ name: c.name, attributes: c.attributes }));
    expect(shape(reply)).toEqual(shape(passwordLogin));
    expect(shape(reply).map((c) => c.name)).toEqual(['session', 's3']);
    const me = await client.query('account.me');
    expect(me.body).toMatchObject({ result: { data: { email: demo.email, keysSource: 'cookie' } } });
    expect((await client.query('loans.list')).status).toBe(200);
  });

  it('refuses a reused, an expired and a wrong code with invalid_code (401), and sets no cookie', async () => {
    const client = new Client(stack.url);
    const code = await requestCode(client, 'reader@example.org');
    expect((await client.mutate('auth.loginWithCode', { email: 'reader@example.org', code })).status).toBe(
      200,
    );
    const reused = await new Client(stack.url).mutate('auth.loginWithCode', {
      email: 'reader@example.org',
      code,
    });
    expectClearFailure(reused, 401, 'invalid_code');
    expect(reused.setCookies).toEqual([]);

    const wrong = await new Client(stack.url).mutate('auth.loginWithCode', {
      email: 'scholar@example.org',
      code: '999999',
    });
    expectClearFailure(wrong, 401, 'invalid_code');

    const fresh = await requestCode(new Client(stack.url), 'scholar@example.org');
    const state = stack.archive!.state;
    const later = Date.now() + OTP_TTL_MS + 1000;
    state.now = () => new Date(later);
    try {
      const expired = await new Client(stack.url).mutate('auth.loginWithCode', {
        email: 'scholar@example.org',
        code: fresh,
      });
      expectClearFailure(expired, 401, 'invalid_code');
    } finally {
      state.now = () => new Date();
    }
  });

  it('refuses the code of a locked and of an unverified account with their codes (403)', async () => {
    for (const [email, appCode] of [
      ['locked@example.org', 'account_locked'],
      ['unverified@example.org', 'ia_account_not_verified'],
    ] as const) {
      const client = new Client(stack.url);
      const code = await requestCode(client, email);
      const reply = await client.mutate('auth.loginWithCode', { email, code });
      expectClearFailure(reply, 403, appCode);
      expect(reply.setCookies).toEqual([]);
    }
  });

  it('answers malformed input with 400 or a clear code, never a 500', async () => {
    const client = new Client(stack.url);
    const bodies: unknown[] = [
      {},
      { email: demo.email },
      { email: demo.email, code: 123456 },
      { email: demo.email, code: '' },
      { email: demo.email, code: 'x'.repeat(100_000) },
      { email: ['a'], code: '123456' },
      { email: 'not-an-email', code: '123456' },
      { email: demo.email, code: '12 34 56' },
      { email: demo.email, code: '\u0000\u0001' },
      null,
    ];
    for (const body of bodies) {
      const reply = await client.mutate('auth.loginWithCode', body);
      expect([400, 401, 413], JSON.stringify(body).slice(0, 80)).toContain(reply.status);
      expectClearFailure(reply, reply.status);
    }
    const notJson = await client.request('/trpc/auth.loginWithCode', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"email":',
    });
    expect(notJson.status).toBe(400);
    for (const body of [{}, { email: 42 }, { email: 'x'.repeat(300) }, { email: 'nope' }]) {
      expect((await client.mutate('auth.requestCode', body)).status).toBe(400);
    }
  });

  it('answers 503 archive_unavailable when archive.org hangs or talks nonsense, at either step', async () => {
    const client = new Client(stack.url);
    const code = await requestCode(client, demo.email);
    const state = stack.archive!.state;
    for (const fault of [
      { kind: 'non_json' },
      { kind: 'bad_shape' },
      { kind: 'status', status: 502 },
    ] as const) {
      state.fault = { ...fault, path: '/services/xauthn/' };
      try {
        expectClearFailure(
          await client.mutate('auth.requestCode', { email: demo.email }),
          503,
          'archive_unavailable',
        );
        expectClearFailure(
          await client.mutate('auth.loginWithCode', { email: demo.email, code }),
          503,
          'archive_unavailable',
        );
      } finally {
        state.fault = null;
      }
    }
  });

  it('never writes the code, the token or the keys to the log', async () => {
    const client = new Client(stack.url);
    const code = await requestCode(client, demo.email);
    await new Client(stack.url).mutate('auth.loginWithCode', { email: demo.email, code: '000000' });
    const reply = await client.mutate('auth.loginWithCode', { email: demo.email, code });
    expect(reply.status).toBe(200);
    const log = stack.logs.join('');
    expect(log).toContain('"method":"code"');
    for (const secret of [code, demo.access, demo.secret, ...reply.setCookies.map((c) => c.value)]) {
      expect(log).not.toContain(secret);
    }
  });

  it('shows print-disabled access in account.me after a code login', async () => {
    const client = new Client(stack.url);
    const code = await requestCode(client, pd.email);
    const reply = await client.mutate('auth.loginWithCode', { email: pd.email, code });
    expect(reply.body).toMatchObject({ result: { data: { email: pd.email, printDisabled: true } } });
    expect((await client.query('account.me')).body).toMatchObject({
      result: { data: { printDisabled: true } },
    });
  });
});

describe('the typed client (createLendingClient)', () => {
  it('requests a code, logs in with it, keeps both cookies and reads its loans', async () => {
    const lending = createLendingClient({ url: `${stack.url}/trpc` });
    expect(await lending.auth.requestCode.mutate({ email: demo.email })).toEqual({ ok: true });
    const code = await outboxCode(stack.archive!.url, demo.email);
    const me = await lending.auth.loginWithCode.mutate({ email: demo.email, code });
    expect(me).toMatchObject({ email: demo.email, keysSource: 'cookie', printDisabled: false });
    expect(Object.keys(lending.cookies.all()).sort()).toEqual(['s3', 'session']);
    expect(await lending.account.me.query()).toMatchObject({ email: demo.email });
    expect(Array.isArray(await lending.loans.list.query())).toBe(true);

    const reused = await lending.auth.loginWithCode.mutate({ email: demo.email, code }).then(
      () => null,
      (error: unknown) => error as { data?: { appCode?: string } },
    );
    expect(reused?.data?.appCode).toBe('invalid_code');
  });
});

describe('the log scrubber', () => {
  it('censors one-time codes and tokens under the names they travel by', () => {
    const line = scrub({
      otp: '123456',
      nested: { issuer_token: 'tok', token: 'tok2', otpCode: '654321', password: '111111' },
      code: 'UNAUTHORIZED',
    });
    expect(line).toEqual({
      otp: '[redacted]',
      nested: {
        issuer_token: '[redacted]',
        token: '[redacted]',
        otpCode: '[redacted]',
        password: '[redacted]',
      },
      // `code` stays readable: every failure line names its error code by it, and no code is logged under it.
      code: 'UNAUTHORIZED',
    });
  });
});
