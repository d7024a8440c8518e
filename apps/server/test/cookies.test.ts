// Cookies over real HTTP: exact Set-Cookie attributes, borrowing with them, the legacy fallback, bad s3
// cookies of every kind, rotation through APP_SECRET_PREVIOUS and server-side expiry.
import { randomUUID } from 'node:crypto';
import { saveS3Keys } from '@lending/accounts';
import { demoPatrons } from '@lending/archive';
import { Fernet, cookieKeys, deriveKey, openCookie, sealCookie } from '@lending/crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Client, DEMO, TEST_SECRET, dataOf, errorOf, startStack } from './helpers';
import type { SetCookie, Stack } from './helpers';

const BOOK = 'prideandprejudic00aust';
const reader = demoPatrons().find((p) => p.email === 'reader@example.org')!;
const patron = demoPatrons().find((p) => p.email === DEMO.email)!;

function expectPolicy(
  cookie: SetCookie | undefined,
  name: string,
  lifetime: 'session' | 'remember' | 'cleared',
  /** For 'remember': the Max-Age expected, in days. */
  days = 30,
) {
  expect(cookie?.name).toBe(name);
  const { attributes } = cookie!;
  const expected: Record<string, string> = { path: '/', httponly: '', secure: '', samesite: 'Lax' };
  if (lifetime === 'remember') {
    expect(attributes['max-age']).toBe(String(days * 24 * 3600));
    expected['max-age'] = attributes['max-age']!;
    expected.expires = attributes.expires!;
    const expires = Date.parse(attributes.expires!);
    expect(Math.abs(expires - (Date.now() + days * 24 * 3600 * 1000))).toBeLessThan(60_000);
  }
  if (lifetime === 'cleared') {
    expect(cookie!.value).toBe('');
    expected['max-age'] = '0';
    expected.expires = 'Thu, 01 Jan 1970 00:00:00 GMT';
  }
  expect(attributes).toEqual(expected);
}

let stack: Stack;
afterEach(async () => {
  await stack.close();
});

describe('login and logout cookies', () => {
  beforeEach(async () => {
    stack = await startStack();
  });

  it('sets session and s3 as browser-session cookies without remember', async () => {
    const client = new Client(stack.url);
    const reply = await client.login();
    expect(reply.status).toBe(200);
    expect(dataOf<{ email: string; keysSource: string }>(reply)).toMatchObject({
      email: DEMO.email,
      keysSource: 'cookie',
    });
    expect(reply.setCookies.map((c) => c.name).sort()).toEqual(['s3', 'session']);
    expectPolicy(
      reply.setCookies.find((c) => c.name === 'session'),
      'session',
      'session',
    );
    expectPolicy(
      reply.setCookies.find((c) => c.name === 's3'),
      's3',
      'session',
    );
    // The keys travel sealed: neither appears in any header.
    const raw = reply.headers.getSetCookie().join('\n');
    expect(raw).not.toContain(patron.access);
    expect(raw).not.toContain(patron.secret);
  });

  it('with remember: the session cookie lives 30 days (its idle limit), the s3 cookie 90 (the cap)', async () => {
    const client = new Client(stack.url);
    const reply = await client.login(DEMO.email, DEMO.password, true);
    expect(reply.status).toBe(200);
    expectPolicy(
      reply.setCookies.find((c) => c.name === 'session'),
      'session',
      'remember',
    );
    expectPolicy(
      reply.setCookies.find((c) => c.name === 's3'),
      's3',
      'remember',
      90,
    );
  });

  it('clears both cookies on logout with the same attributes', async () => {
    const client = new Client(stack.url);
    await client.login();
    const reply = await client.mutate('auth.logout');
    expect(reply.status).toBe(200);
    expect(dataOf(reply)).toEqual({ ok: true });
    expect(reply.setCookies).toHaveLength(2);
    expectPolicy(
      reply.setCookies.find((c) => c.name === 'session'),
      'session',
      'cleared',
    );
    expectPolicy(
      reply.setCookies.find((c) => c.name === 's3'),
      's3',
      'cleared',
    );
    expect(client.cookies.size).toBe(0);
    expect(dataOf(await client.query('account.me'))).toBeNull();
  });
});

describe('login errors', () => {
  beforeEach(async () => {
    stack = await startStack();
  });

  const cases: [string, { email: string; password: string }, number, string][] = [
    ['a malformed email', { email: 'not-an-email', password: 'x' }, 400, 'invalid_email'],
    ['a wrong password', { email: DEMO.email, password: 'wrong-password' }, 401, 'invalid_credentials'],
    [
      'an unknown account',
      { email: 'nobody@example.org', password: 'whatever-1' },
      401,
      'invalid_credentials',
    ],
    [
      'a locked account',
      { email: 'locked@example.org', password: 'locked-demo-2026' },
      403,
      'account_locked',
    ],
    [
      'an unverified account',
      { email: 'unverified@example.org', password: 'unverified-demo-2026' },
      403,
      'ia_account_not_verified',
    ],
  ];
  for (const [what, credentials, status, appCode] of cases) {
    it(`answers ${status} ${appCode} for ${what}, setting no session`, async () => {
      const reply = await new Client(stack.url).mutate('auth.login', credentials);
      expect(reply.status).toBe(status);
      expect(errorOf(reply).data.appCode).toBe(appCode);
      expect(reply.setCookies.filter((c) => c.value !== '')).toEqual([]);
    });
  }

  it('answers 403 account_blocked for a blocked account', async () => {
    const client = new Client(stack.url);
    const me = dataOf<{ username: string }>(await client.login());
    const account = (await stack.store.getByUsername(me.username))!;
    await stack.store.update(account.username, account.revision, { status: 'blocked' });
    const reply = await new Client(stack.url).login();
    expect(reply.status).toBe(403);
    expect(errorOf(reply).data.appCode).toBe('account_blocked');
  });

  it('answers 401 invalid_s3keys for S3 keys archive.org refuses', async () => {
    const reply = await new Client(stack.url).mutate('auth.loginWithKeys', {
      access: 'NOPE',
      secret: 'NOPE',
    });
    expect(reply.status).toBe(401);
    expect(errorOf(reply).data.appCode).toBe('invalid_s3keys');
  });

  it('answers 400 with field errors for input that fails validation', async () => {
    const reply = await new Client(stack.url).mutate('auth.login', { email: DEMO.email });
    expect(reply.status).toBe(400);
    expect(errorOf(reply).data.code).toBe('BAD_REQUEST');
    expect(reply.text).not.toMatch(/at .*\.ts:\d+/); // never a stack
  });
});

describe('borrowing with the cookies', () => {
  beforeEach(async () => {
    stack = await startStack();
  });

  it('borrows, lists and returns a book', async () => {
    const client = new Client(stack.url);
    await client.login();
    const borrowed = await client.mutate('loans.borrow', { identifier: BOOK });
    expect(borrowed.status).toBe(200);
    expect(dataOf<{ ok: boolean; loan: { identifier: string } | null }>(borrowed)).toMatchObject({
      ok: true,
      loan: { identifier: BOOK, type: 'borrow' },
    });
    const loans = dataOf<{ identifier: string }[]>(await client.query('loans.list'));
    expect(loans.map((l) => l.identifier)).toEqual([BOOK]);
    const returned = await client.mutate('loans.return', { identifier: BOOK });
    expect(returned.status).toBe(200);
    expect(dataOf<{ identifier: string }[]>(await client.query('loans.list'))).toEqual([]);
  });

  it('refuses a protected procedure without a session', async () => {
    const reply = await new Client(stack.url).mutate('loans.borrow', { identifier: BOOK });
    expect(reply.status).toBe(401);
    expect(errorOf(reply).data.appCode).toBeUndefined();
  });
});

/** A client with a valid session cookie for `username` and nothing else. */
/** A client with a valid session cookie for `username` (a live session of the account, as a login records) only. */
async function sessionOnly(
  url: string,
  username: string,
  options: { secret?: string; now?: number } = {},
): Promise<Client> {
  const client = new Client(url);
  const keys = cookieKeys(options.secret ?? TEST_SECRET);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const sid = `test-${randomUUID()}`;
  await stack.store.addSession(username, { id: sid, expiresAt: now + 86400 }, { now, max: 20 });
  client.cookies.set(
    'session',
    sealCookie(keys, { pur: 'session', sub: username, rem: false, sid, iat: now }, { now }),
  );
  return client;
}

async function metric(url: string, line: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  return found ? Number(found.split(' ')[1]) : 0;
}

describe('a session from before the change (keys only in the store)', () => {
  let username: string;
  beforeEach(async () => {
    stack = await startStack();
    // Create the record by logging in, then give it legacy plaintext keys as the old code stored them.
    username = dataOf<{ username: string }>(
      await new Client(stack.url).login(reader.email, reader.password),
    ).username;
    await saveS3Keys(stack.store, username, { access: reader.access, secret: reader.secret });
  });

  it('borrows through the store fallback and receives the s3 cookie', async () => {
    const client = await sessionOnly(stack.url, username);
    const reply = await client.mutate('loans.borrow', { identifier: BOOK });
    expect(reply.status).toBe(200);
    const s3 = reply.setCookies.find((c) => c.name === 's3');
    expectPolicy(s3, 's3', 'session');
    expect(await metric(stack.url, 'lending_s3_keys_source_total{source="store"}')).toBe(1);
    // The next request is served from the new cookie.
    const loans = await client.query('loans.list');
    expect(loans.status).toBe(200);
    expect(loans.setCookies).toEqual([]);
    expect(await metric(stack.url, 'lending_s3_keys_source_total{source="cookie"}')).toBe(1);
  });
});

describe('bad s3 cookies: treated as absent, never a 500', () => {
  let legacyUser: string;
  let plainUser: string;
  beforeEach(async () => {
    stack = await startStack();
    legacyUser = dataOf<{ username: string }>(
      await new Client(stack.url).login(reader.email, reader.password),
    ).username;
    await saveS3Keys(stack.store, legacyUser, { access: reader.access, secret: reader.secret });
    plainUser = dataOf<{ username: string }>(await new Client(stack.url).login()).username;
  });

  const now = Math.floor(Date.now() / 1000);
  const keys = cookieKeys(TEST_SECRET);
  const fernet = new Fernet(deriveKey(TEST_SECRET));
  const s3For = (sub: string, options?: { now?: number }) =>
    sealCookie(keys, { pur: 's3', sub, access: reader.access, secret: reader.secret }, options);
  const kinds: [string, string, (sub: string) => string][] = [
    ['empty', 'empty', () => ''],
    ['too large', 'too_large', () => 'g'.repeat(5000)],
    ['not a token', 'malformed', () => 'not-a-fernet-token'],
    ['truncated', 'malformed', (sub) => s3For(sub).slice(0, 60)],
    [
      'tampered',
      'bad_signature',
      (sub) => {
        const token = s3For(sub);
        const i = 40;
        return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
      },
    ],
    [
      'sealed under another secret',
      'bad_signature',
      (sub) =>
        sealCookie(cookieKeys('some-other-secret-of-at-least-32-chars!!'), {
          pur: 's3',
          sub,
          access: reader.access,
          secret: reader.secret,
        }),
    ],
    ['expired', 'expired', (sub) => s3For(sub, { now: now - 3 * 24 * 3600 })],
    ['from the far future', 'future', (sub) => s3For(sub, { now: now + 3600 })],
    ['of malformed plaintext', 'bad_payload', () => fernet.encrypt('{"pur":"s3"')],
    ['of the wrong purpose', 'wrong_purpose', (sub) => sealCookie(keys, { pur: 'session', sub, rem: false })],
    ['of another user', 'wrong_subject', () => s3For('someone_else')],
  ];

  for (const [what, reason, make] of kinds) {
    it(`${what}: falls back to the store, or asks to log in again`, async () => {
      const legacy = await sessionOnly(stack.url, legacyUser);
      const token = make(legacyUser);
      legacy.cookies.set('s3', token);
      const served = await legacy.query('loans.list');
      expect(served.status).toBe(200);
      expectPolicy(
        served.setCookies.find((c) => c.name === 's3'),
        's3',
        'session',
      );
      expect(served.setCookies.find((c) => c.name === 's3')!.value).not.toBe(token);

      const plain = await sessionOnly(stack.url, plainUser);
      plain.cookies.set('s3', make(plainUser));
      const refused = await plain.mutate('loans.borrow', { identifier: BOOK });
      expect(refused.status).toBe(401);
      expect(errorOf(refused).data.appCode).toBe('s3_keys_missing');
      expectPolicy(
        refused.setCookies.find((c) => c.name === 'session'),
        'session',
        'cleared',
      );

      if (reason !== 'empty') {
        expect(await metric(stack.url, `lending_cookie_rejected_total{cookie="s3",reason="${reason}"}`)).toBe(
          2,
        );
      }
      expect(stack.logs.join('')).not.toContain(token || '\u0000');
    });
  }
});

describe('secret rotation and expiry', () => {
  const OLD_SECRET = 'the-previous-app-secret-0123456789abcdef';

  it('accepts cookies under APP_SECRET_PREVIOUS and re-issues them under APP_SECRET', async () => {
    stack = await startStack({
      env: { APP_SECRET_PREVIOUS: `unused-secret-0123456789abcdefghijkl,${OLD_SECRET}` },
    });
    const username = dataOf<{ username: string }>(await new Client(stack.url).login()).username;
    const client = await sessionOnly(stack.url, username, { secret: OLD_SECRET });
    client.cookies.set(
      's3',
      sealCookie(cookieKeys(OLD_SECRET), {
        pur: 's3',
        sub: username,
        access: patron.access,
        secret: patron.secret,
      }),
    );
    const reply = await client.query('loans.list');
    expect(reply.status).toBe(200);
    const names = reply.setCookies.map((c) => c.name).sort();
    expect(names).toEqual(['s3', 'session']);
    // The re-issued cookies open under the current secret alone, and keep working.
    const current = cookieKeys(TEST_SECRET);
    for (const cookie of reply.setCookies) {
      const pur = cookie.name as 'session' | 's3';
      expect(openCookie(current, cookie.value, { pur, sub: username, ttl: 3600 }).ok).toBe(true);
    }
    const again = await client.query('loans.list');
    expect(again.status).toBe(200);
    expect(again.setCookies).toEqual([]);
  });

  it('refuses a session cookie older than SESSION_TTL', async () => {
    stack = await startStack({ env: { SESSION_TTL: '1h' } });
    const username = dataOf<{ username: string }>(await new Client(stack.url).login()).username;
    const stale = await sessionOnly(stack.url, username, { now: Math.floor(Date.now() / 1000) - 2 * 3600 });
    const me = await stale.query('account.me');
    expect(me.status).toBe(200);
    expect(dataOf(me)).toBeNull();
    expectPolicy(
      me.setCookies.find((c) => c.name === 'session'),
      'session',
      'cleared',
    );
    const borrow = await (
      await sessionOnly(stack.url, username, {
        now: Math.floor(Date.now() / 1000) - 2 * 3600,
      })
    ).mutate('loans.borrow', { identifier: BOOK });
    expect(borrow.status).toBe(401);
    // Within the TTL the same kind of cookie is fine.
    const recent = await sessionOnly(stack.url, username, { now: Math.floor(Date.now() / 1000) - 1800 });
    expect(dataOf<{ username: string }>(await recent.query('account.me'))).toMatchObject({ username });
  });
});
