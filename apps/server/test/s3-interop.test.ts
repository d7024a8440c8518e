// Open Library-format `s3` cookies bound to their owner, over real HTTP (issue 13 §3). Such a cookie holds only
// `access:secret`: it is used only when its access key is the one issued to this session (the fingerprint sealed in
// the session cookie), only in the interop mode before its end date or with S3_COOKIE_FORMAT=openlibrary, and in
// the interop mode it is re-sealed at once into Lending's bound format and counted.
import { demoPatrons } from '@lending/archive';
import { cookieKeys, openCookie, sealCookie } from '@lending/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEnv } from '../src/app';
import { Client, DEMO, TEST_SECRET, dataOf, errorOf, startStack } from './helpers';
import type { Reply, Stack } from './helpers';

const BOOK = 'prideandprejudic00aust';
const alice = demoPatrons().find((p) => p.email === DEMO.email)!;
const bob = demoPatrons().find((p) => p.email === 'reader@example.org')!;
const keys = cookieKeys(TEST_SECRET);

let stack: Stack;
afterEach(async () => {
  await stack.close();
});

async function metric(line: string): Promise<number> {
  const text = await (await fetch(`${stack.url}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  return found ? Number(found.split(' ')[1]) : 0;
}

/** Alice's keys in Open Library's format, as an instance with S3_COOKIE_FORMAT=openlibrary (or OL itself) writes. */
function openLibraryCookieOf(patron: { access: string; secret: string }): string {
  return sealCookie(
    keys,
    { pur: 's3', sub: 'ignored', access: patron.access, secret: patron.secret },
    { format: 'openlibrary' },
  );
}

function s3Set(reply: Reply) {
  return reply.setCookies.find((c) => c.name === 's3');
}

/** Bob's session with Alice's Open Library-format cookie: refused as wrong_subject, nothing borrowed on Alice's account. */
async function expectSwapRefused(aliceCookie: string): Promise<void> {
  const bobClient = new Client(stack.url);
  expect((await bobClient.login(bob.email, bob.password)).status).toBe(200);
  bobClient.cookies.set('s3', aliceCookie);
  const borrow = await bobClient.mutate('loans.borrow', { identifier: BOOK });
  expect(borrow.status).toBe(401);
  expect(errorOf(borrow).data.appCode).toBe('s3_keys_missing');
  expect(s3Set(borrow)).toMatchObject({ value: '', attributes: { 'max-age': '0' } });
  expect(await metric('lending_cookie_rejected_total{cookie="s3",reason="wrong_subject"}')).toBe(1);
  expect(stack.archive!.state.activeLoans(alice.email)).toEqual([]);
  expect(stack.archive!.state.activeLoans(bob.email)).toEqual([]);
  expect(stack.logs.join('')).not.toContain(alice.secret);
}

describe('S3_COOKIE_FORMAT=openlibrary: the ownership check on every read', () => {
  it("serves a patron's own cookie, and refuses it with another patron's session", async () => {
    stack = await startStack({ env: { S3_COOKIE_FORMAT: 'openlibrary' } });
    const aliceClient = new Client(stack.url);
    const login = await aliceClient.login();
    const minted = s3Set(login)!.value;
    // What this instance writes is Open Library's unbound format.
    expect(openCookie(keys, minted, { pur: 's3', sub: 'anyone', ttl: 60 })).toMatchObject({
      ok: true,
      format: 'openlibrary',
    });
    const own = await aliceClient.mutate('loans.borrow', { identifier: BOOK });
    expect(own.status).toBe(200);
    expect(await metric('lending_s3_cookie_openlibrary_total{outcome="accepted"}')).toBe(1);
    expect((await aliceClient.mutate('loans.return', { identifier: BOOK })).status).toBe(200);

    await expectSwapRefused(minted);
  });
});

describe('S3_COOKIE_INTEROP_UNTIL: Open Library-format cookies accepted until a date, once owned, then re-sealed', () => {
  it('re-seals the own cookie into the bound format at once, and counts it', async () => {
    stack = await startStack({ env: { S3_COOKIE_INTEROP_UNTIL: '2999-01-01' } });
    const aliceClient = new Client(stack.url);
    const me = dataOf<{ username: string }>(await aliceClient.login());
    aliceClient.cookies.set('s3', openLibraryCookieOf(alice));
    const list = await aliceClient.query('loans.list');
    expect(list.status).toBe(200);
    const resealed = s3Set(list)!;
    expect(openCookie(keys, resealed.value, { pur: 's3', sub: me.username, ttl: 60 })).toMatchObject({
      ok: true,
      format: 'lending',
      payload: { sub: me.username, access: alice.access },
    });
    expect(await metric('lending_s3_cookie_openlibrary_total{outcome="resealed"}')).toBe(1);
    // From then on the bound cookie serves, with nothing more to re-seal.
    const again = await aliceClient.query('loans.list');
    expect(again.status).toBe(200);
    expect(again.setCookies).toEqual([]);
  });

  it("refuses another patron's cookie (wrong_subject), borrowing nothing on their account", async () => {
    stack = await startStack({ env: { S3_COOKIE_INTEROP_UNTIL: '2999-01-01' } });
    await expectSwapRefused(openLibraryCookieOf(alice));
  });

  for (const [what, env] of [
    ['after the end date', { S3_COOKIE_INTEROP_UNTIL: '2020-01-01' }],
    ['without the interop mode', {}],
  ] as const) {
    it(`refuses even the patron's own cookie ${what} (unbound)`, async () => {
      stack = await startStack({ env });
      const aliceClient = new Client(stack.url);
      await aliceClient.login();
      aliceClient.cookies.set('s3', openLibraryCookieOf(alice));
      const borrow = await aliceClient.mutate('loans.borrow', { identifier: BOOK });
      expect(borrow.status).toBe(401);
      expect(await metric('lending_cookie_rejected_total{cookie="s3",reason="unbound"}')).toBe(1);
      expect(stack.archive!.state.activeLoans(alice.email)).toEqual([]);
    });
  }
});

describe('configuration', () => {
  it('refuses a bad interop date or lifetime, naming the variable', async () => {
    const base = { NODE_ENV: 'test', APP_SECRET: TEST_SECRET, DATABASE_URL: 'sqlite::memory:' };
    for (const [name, value] of [
      ['S3_COOKIE_INTEROP_UNTIL', 'soon'],
      ['S3_COOKIE_INTEROP_UNTIL', '2027-02-30'],
      ['REMEMBER_MAX_TTL', '91d'],
      ['REMEMBER_IDLE_TTL', 'forever'],
    ] as const) {
      await expect(
        loadEnv({ ...base, [name]: value }, { demoServiceKeys: () => Promise.resolve(alice) }),
      ).rejects.toThrow(new RegExp(`${name}: `));
    }
    const config = await loadEnv(
      { ...base, S3_COOKIE_INTEROP_UNTIL: '2027-03-01', REMEMBER_IDLE_TTL: '7d' },
      { demoServiceKeys: () => Promise.resolve(alice) },
    );
    expect(config).toMatchObject({
      s3CookieInteropUntil: Date.UTC(2027, 2, 1),
      rememberIdleTtl: 7 * 86400,
      rememberMaxTtl: 90 * 86400,
    });
  });
});
