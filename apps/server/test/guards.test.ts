// Guards over real HTTP: CSRF (content type, Origin), body cap, login rate limit, plain-http production,
// security headers.
import { DEMO_LOAN_API_TOKEN } from '@lending/archive';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, DEMO, dataOf, errorOf, startStack } from './helpers';
import type { Stack } from './helpers';

let stack: Stack;
afterEach(async () => {
  await stack.close();
});

async function loggedIn(): Promise<Client> {
  const client = new Client(stack.url);
  expect((await client.login()).status).toBe(200);
  return client;
}

async function stillLoggedIn(client: Client): Promise<void> {
  const me = await client.query('account.me');
  expect(dataOf<{ email: string } | null>(me)).toMatchObject({ email: DEMO.email });
}

describe('CSRF', () => {
  const form = new FormData();
  form.set('x', '1');
  const simpleBodies: [string, () => RequestInit][] = [
    ['multipart/form-data', () => ({ body: form })],
    [
      'application/x-www-form-urlencoded',
      () => ({ body: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    ],
    ['text/plain', () => ({ body: JSON.stringify({}), headers: { 'content-type': 'text/plain' } })],
    ['no content type', () => ({ body: null })],
  ];

  for (const [type, init] of simpleBodies) {
    it(`refuses a ${type} POST to auth.logout (415) and keeps the session`, async () => {
      stack = await startStack();
      const client = await loggedIn();
      const reply = await client.request('/trpc/auth.logout', { method: 'POST', ...init() });
      expect(reply.status).toBe(415);
      expect(errorOf(reply).data.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(reply.setCookies).toEqual([]);
      await stillLoggedIn(client);
    });
  }

  it('refuses a text/plain POST to auth.login and logs nobody in', async () => {
    stack = await startStack();
    const reply = await new Client(stack.url).request('/trpc/auth.login', {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ email: DEMO.email, password: DEMO.password }),
    });
    expect(reply.status).toBe(415);
    expect(reply.setCookies).toEqual([]);
  });

  it('refuses a multipart POST to auth.login', async () => {
    stack = await startStack();
    const body = new FormData();
    body.set('email', DEMO.email);
    body.set('password', DEMO.password);
    const reply = await new Client(stack.url).request('/trpc/auth.login', { method: 'POST', body });
    expect(reply.status).toBe(415);
    expect(reply.setCookies).toEqual([]);
  });

  it('refuses a foreign Origin (403), even with a JSON body', async () => {
    stack = await startStack();
    const client = await loggedIn();
    const reply = await client.mutate('auth.logout', undefined, { origin: 'https://evil.example' });
    expect(reply.status).toBe(403);
    expect(errorOf(reply).data.code).toBe('FORBIDDEN');
    expect(reply.setCookies).toEqual([]);
    const nullOrigin = await client.mutate('auth.logout', undefined, { origin: 'null' });
    expect(nullOrigin.status).toBe(403);
    await stillLoggedIn(client);
  });

  it('accepts the request own Origin', async () => {
    stack = await startStack();
    const client = await loggedIn();
    const reply = await client.mutate('auth.logout', undefined, { origin: stack.url });
    expect(reply.status).toBe(200);
    expect(client.cookies.size).toBe(0);
  });

  it('compares Origin with the forwarded origin only behind a trusted proxy', async () => {
    stack = await startStack({ env: { TRUST_PROXY: 'true' } });
    const client = await loggedIn();
    const headers = {
      origin: 'https://lending.example',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'lending.example',
    };
    expect((await client.query('account.me', undefined, headers)).status).toBe(200);
    expect((await client.mutate('auth.logout', undefined, { ...headers, origin: stack.url })).status).toBe(
      403,
    );
  });
});

describe('body size cap', () => {
  it('answers 413 to a declared body over 16 KiB before tRPC reads it', async () => {
    stack = await startStack();
    const reply = await new Client(stack.url).mutate('auth.login', {
      email: DEMO.email,
      password: 'x'.repeat(20 * 1024),
    });
    expect(reply.status).toBe(413);
    expect(errorOf(reply).data.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers 413 to a chunked body over the cap', async () => {
    stack = await startStack();
    const chunk = new TextEncoder().encode(' '.repeat(4096));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${stack.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    });
    expect(res.status).toBe(413);
  });
});

describe('login rate limit', () => {
  it('answers 429 rate_limited with Retry-After per email', async () => {
    stack = await startStack({ overrides: { loginLimits: { perEmail: 2, perIp: 100, windowSeconds: 60 } } });
    const client = new Client(stack.url);
    for (let i = 0; i < 2; i++) expect((await client.login(DEMO.email, 'wrong-password')).status).toBe(401);
    const limited = await client.login();
    expect(limited.status).toBe(429);
    expect(errorOf(limited).data.appCode).toBe('rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // The same wait in the body, for clients that cannot read headers.
    expect((errorOf(limited).data as { retryAfter?: number }).retryAfter).toBe(retryAfter);
    expect(limited.setCookies).toEqual([]);
    // Another email from the same address is still allowed.
    expect((await client.login('reader@example.org', 'reader-demo-2026')).status).toBe(200);
  });

  it('answers 429 per address across emails', async () => {
    stack = await startStack({ overrides: { loginLimits: { perEmail: 100, perIp: 3 } } });
    const client = new Client(stack.url);
    for (const email of ['a@example.org', 'b@example.org', 'c@example.org']) {
      expect((await client.login(email, 'nope-nope')).status).toBe(401);
    }
    const limited = await client.login();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});

describe('production over plain http', () => {
  const production = {
    NODE_ENV: 'production',
    ARCHIVE_SERVICE_ACCESS: 'lending-dev-service',
    ARCHIVE_SERVICE_SECRET: 'YN6VB694CP692DPKU5TIFAFH',
    ARCHIVE_LOAN_API_TOKEN: DEMO_LOAN_API_TOKEN,
    ARCHIVE_ACCESS_SECRET: 'a-bookreader-access-secret-for-tests',
  };

  it('refuses login with a clear 400 instead of a 500 or a session-less login', async () => {
    stack = await startStack({ env: production });
    const reply = await new Client(stack.url).login();
    expect(reply.status).toBe(400);
    expect(errorOf(reply).message).toMatch(/HTTPS/);
    expect(errorOf(reply).message).toMatch(/TRUST_PROXY/);
    expect(reply.setCookies).toEqual([]);
    // Logout needs no cookie to be written when there is none to clear; it must never fail with a 500.
    expect((await new Client(stack.url).mutate('auth.logout')).status).toBe(200);
  });

  it('logs in behind a TLS proxy with TRUST_PROXY, with HSTS', async () => {
    stack = await startStack({ env: { ...production, TRUST_PROXY: 'true' } });
    const client = new Client(stack.url);
    const https = { 'x-forwarded-proto': 'https' };
    const reply = await client.mutate('auth.login', { email: DEMO.email, password: DEMO.password }, https);
    expect(reply.status).toBe(200);
    expect(reply.setCookies.map((c) => c.name).sort()).toEqual(['s3', 'session']);
    expect(reply.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    expect(dataOf<{ email: string }>(await client.query('account.me', undefined, https))).toMatchObject({
      email: DEMO.email,
    });
    // Without the proxy's header the same server treats the request as plain http.
    expect((await new Client(stack.url).login()).status).toBe(400);
  });
});

describe('security headers', () => {
  it('sends them on API, health and unknown routes', async () => {
    stack = await startStack();
    for (const path of ['/trpc/account.me', '/healthz', '/nowhere']) {
      const res = await fetch(stack.url + path);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-request-id')).toBeTruthy();
      await res.arrayBuffer();
    }
    const api = await fetch(`${stack.url}/trpc/account.me`);
    expect(api.headers.get('cache-control')).toBe('no-store');
    // Development over http: no HSTS.
    expect(api.headers.get('strict-transport-security')).toBeNull();
    await api.arrayBuffer();
  });
});
