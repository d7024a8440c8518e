// getS3Keys with both store adapters: cookie first, then the legacy record, else none; every bad cookie kind.
import { legacyAccountSeeds } from '@lending/archive';
import { Fernet, cookieKeys, deriveKey, sealCookie, type CookieRejection } from '@lending/crypto';
import { expect, it } from 'vitest';
import { seedLegacyAccounts } from '../src/legacy';
import { getS3Keys } from '../src/s3-keys';
import type { Account, AccountStore } from '../src/types';
import { describeWithStores } from './audit-helpers';

const SECRET = 'current-secret-for-s3-key-tests-0123456789';
const OLD_SECRET = 'previous-secret-for-s3-key-tests-987654321';
const testCookieKeys = cookieKeys(SECRET, [OLD_SECRET]);
const TTL = 24 * 60 * 60;
const NOW = 1_800_000_000;
const seed = legacyAccountSeeds()[0]!;
const username = seed.username;
const cookieKeysPair = { access: 'COOKIEACCESS0001', secret: 'COOKIESECRET0001' };
const s3 = (sub = username, pair = cookieKeysPair) => ({ pur: 's3' as const, sub, ...pair });

/** Flips one character inside the token's ciphertext, keeping it valid base64url. */
function tamper(token: string): string {
  const i = Math.floor(token.length / 2);
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
}

const badCookies: [string, () => string, CookieRejection[]][] = [
  ['tampered', () => tamper(sealCookie(testCookieKeys, s3(), { now: NOW })), ['bad_signature']],
  [
    'truncated',
    () => sealCookie(testCookieKeys, s3(), { now: NOW }).slice(0, -12),
    ['malformed', 'bad_signature'],
  ],
  ['expired', () => sealCookie(testCookieKeys, s3(), { now: NOW - TTL - 60 }), ['expired']],
  ['far future', () => sealCookie(testCookieKeys, s3(), { now: NOW + 24 * 60 * 60 }), ['future']],
  ["another user's", () => sealCookie(testCookieKeys, s3('someone-else'), { now: NOW }), ['wrong_subject']],
  [
    'wrong purpose (a session cookie)',
    () => sealCookie(testCookieKeys, { pur: 'session', sub: username, rem: false }, { now: NOW }),
    ['wrong_purpose'],
  ],
  [
    'garbage plaintext',
    () => new Fernet(deriveKey(SECRET)).encryptAtTime('no colon, no JSON', NOW),
    ['bad_payload'],
  ],
  [
    'JSON without keys',
    () => new Fernet(deriveKey(SECRET)).encryptAtTime(JSON.stringify({ pur: 's3', sub: username }), NOW),
    ['bad_payload'],
  ],
  [
    'sealed under an unknown secret',
    () => sealCookie(cookieKeys('some-other-secret-entirely-0123456789'), s3(), { now: NOW }),
    ['bad_signature'],
  ],
  ['not a token', () => 'hello world', ['malformed']],
  ['too large', () => 'A'.repeat(5000), ['too_large']],
  ['empty', () => '', ['empty']],
];

async function snapshot(store: AccountStore): Promise<Account[]> {
  return store.scan({ after: null, limit: 1000 });
}

/** A store whose reads fail the test: proves a lookup did not touch it. */
function untouchable(store: AccountStore): AccountStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'getByUsername') return () => Promise.reject(new Error('store read unexpectedly'));
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describeWithStores('getS3Keys', (ctx) => {
  const lookup = (
    cookie: string | null | undefined,
    extra: { account?: Account | null; username?: string } = {},
  ) =>
    getS3Keys(
      { store: ctx.store, cookieKeys: testCookieKeys },
      { username: extra.username ?? username, cookie, ttl: TTL, now: NOW, account: extra.account },
    );
  const seedLegacy = () => seedLegacyAccounts(ctx.store, [seed]);

  it('a valid cookie gives its keys (source cookie, no reissue), even over a legacy record', async () => {
    await seedLegacy();
    const result = await lookup(sealCookie(testCookieKeys, s3(), { now: NOW - 60 }));
    expect(result).toEqual({
      s3Keys: cookieKeysPair,
      source: 'cookie',
      reissue: false,
      rejected: null,
      storeFallback: null,
      format: 'lending',
    });
  });

  it('a cookie sealed under the previous secret is accepted and marked for reissue', async () => {
    const old = cookieKeys(OLD_SECRET);
    const result = await lookup(sealCookie(old, s3(), { now: NOW - 60 }));
    expect(result).toEqual({
      s3Keys: cookieKeysPair,
      source: 'cookie',
      reissue: true,
      rejected: null,
      storeFallback: null,
      format: 'lending',
    });
  });

  it("accepts Open Library's own `access:secret` cookie (URL-quoted too) only when the policy owns its key", async () => {
    const token = sealCookie(testCookieKeys, s3(), { now: NOW, format: 'openlibrary' });
    const policy = { accept: true, owns: (access: string) => access === cookieKeysPair.access };
    const withPolicy = (cookie: string, openLibrary = policy) =>
      getS3Keys(
        { store: ctx.store, cookieKeys: testCookieKeys },
        { username, cookie, ttl: TTL, now: NOW, openLibrary },
      );
    expect(await withPolicy(token)).toEqual({
      s3Keys: cookieKeysPair,
      source: 'cookie',
      reissue: false,
      rejected: null,
      storeFallback: null,
      format: 'openlibrary',
    });
    const quoted = token.replace(/=/g, '%3D');
    expect(await withPolicy(quoted)).toMatchObject({ s3Keys: cookieKeysPair, source: 'cookie' });
    // Without the policy it names no owner: refused. With it, someone else's key is refused too.
    expect(await lookup(token)).toMatchObject({ s3Keys: null, source: 'none', rejected: 'unbound' });
    expect(await withPolicy(token, { accept: true, owns: () => false })).toMatchObject({
      s3Keys: null,
      rejected: 'wrong_subject',
    });
    expect(await withPolicy(token, { accept: false, owns: () => true })).toMatchObject({
      s3Keys: null,
      rejected: 'unbound',
    });
  });

  it('no cookie: the legacy record serves the keys, marked for reissue', async () => {
    await seedLegacy();
    for (const cookie of [undefined, null]) {
      expect(await lookup(cookie)).toEqual({
        s3Keys: seed.s3Keys,
        source: 'store',
        reissue: true,
        rejected: null,
        storeFallback: 'no_cookie',
        format: null,
      });
    }
  });

  it('no cookie and no stored keys: none', async () => {
    await ctx.store.create({
      username,
      email: seed.email,
      displayName: 'x',
      status: 'active',
      itemname: null,
      createdOn: new Date(NOW * 1000).toISOString(),
    });
    expect(await lookup(undefined)).toEqual({
      s3Keys: null,
      source: 'none',
      reissue: false,
      rejected: null,
      storeFallback: null,
      format: null,
    });
    expect(await lookup(undefined, { username: 'nobody-at-all' })).toEqual({
      s3Keys: null,
      source: 'none',
      reissue: false,
      rejected: null,
      storeFallback: null,
      format: null,
    });
  });

  it.each(badCookies)(
    'a bad cookie (%s) is refused, with the reason, and falls back',
    async (_name, make, reasons) => {
      const cookie = make();
      const none = await lookup(cookie);
      expect(none.s3Keys).toBeNull();
      expect(none.source).toBe('none');
      expect(reasons).toContain(none.rejected);

      await seedLegacy();
      const before = await snapshot(ctx.store);
      const fallback = await lookup(cookie);
      expect(fallback).toEqual({
        s3Keys: seed.s3Keys,
        source: 'store',
        reissue: true,
        rejected: none.rejected,
        storeFallback: 'cookie_rejected',
        format: null,
      });
      expect(await snapshot(ctx.store)).toEqual(before);
    },
  );

  it('uses a passed account without reading the store', async () => {
    await seedLegacy();
    const account = await ctx.store.getByUsername(username);
    const deps = { store: untouchable(ctx.store), cookieKeys: testCookieKeys };
    const input = { username, ttl: TTL, now: NOW };
    expect(await getS3Keys(deps, { ...input, cookie: undefined, account })).toMatchObject({
      source: 'store',
    });
    expect(await getS3Keys(deps, { ...input, cookie: undefined, account: null })).toMatchObject({
      source: 'none',
    });
    // A record of someone else is not this user's.
    const other = { ...account!, username: 'someone-else' };
    expect(await getS3Keys(deps, { ...input, cookie: undefined, account: other })).toMatchObject({
      source: 'none',
    });
  });

  it.each<[string, unknown, unknown]>([
    ['username a number', 42, undefined],
    ['username empty', '', undefined],
    ['username an object', { $ne: null }, undefined],
    ['cookie a number', username, 12345],
    ['cookie an object', username, { toString: () => 'x' }],
    [
      'cookie whose toString throws',
      username,
      {
        toString: () => {
          throw new Error('boom');
        },
      },
    ],
    ['cookie with NUL', username, 'gAAAA\0'],
  ])(
    'bad input (%s): a clean answer, no exception, nothing written',
    async (_name, badUsername, badCookie) => {
      await seedLegacy();
      const before = await snapshot(ctx.store);
      const result = await getS3Keys(
        { store: ctx.store, cookieKeys: testCookieKeys },
        { username: badUsername as string, cookie: badCookie as string, ttl: TTL, now: NOW },
      );
      expect(['none', 'store']).toContain(result.source);
      if (typeof badUsername !== 'string' || badUsername === '') expect(result.source).toBe('none');
      if (badCookie !== undefined) expect(result.rejected).not.toBeNull();
      expect(await snapshot(ctx.store)).toEqual(before);
    },
  );

  it('a nonsensical ttl is a programming error', async () => {
    await expect(
      getS3Keys({ store: ctx.store, cookieKeys: testCookieKeys }, { username, cookie: null, ttl: -1 }),
    ).rejects.toBeInstanceOf(RangeError);
  });
});
