import { cookieKeys, sealCookie } from '@lending/crypto';
import { describe, expect, it } from 'vitest';
import { getS3Keys } from './s3-keys';
import type { Account, AccountStore } from './types';

const testCookieKeys = cookieKeys('unit-test-secret-0123456789-0123456789');
const now = 1_800_000_000;
const account: Account = {
  username: 'ann',
  email: 'ann@example.org',
  displayName: 'Ann',
  status: 'active',
  itemname: '@ann',
  createdOn: '2020-01-01T00:00:00.000Z',
  lastLogin: null,
  s3Keys: { access: 'STOREA', secret: 'STORES' },
  revision: 1,
};

function storeWith(record: Account | null): AccountStore & { reads: number } {
  const store = {
    reads: 0,
    getByUsername(username: string) {
      store.reads += 1;
      return Promise.resolve(record && record.username === username ? record : null);
    },
  };
  return store as unknown as AccountStore & { reads: number };
}

describe('getS3Keys', () => {
  it('a valid cookie wins and the store is not read', async () => {
    const store = storeWith(account);
    const cookie = sealCookie(testCookieKeys, { pur: 's3', sub: 'ann', access: 'CA', secret: 'CS' }, { now });
    expect(
      await getS3Keys({ store, cookieKeys: testCookieKeys }, { username: 'ann', cookie, ttl: 60, now }),
    ).toEqual({
      s3Keys: { access: 'CA', secret: 'CS' },
      source: 'cookie',
      reissue: false,
      rejected: null,
      storeFallback: null,
      format: 'lending',
    });
    expect(store.reads).toBe(0);
  });

  it('a refused cookie falls back to the record, reporting why', async () => {
    const store = storeWith(account);
    const cookie = sealCookie(testCookieKeys, { pur: 's3', sub: 'bob', access: 'CA', secret: 'CS' }, { now });
    expect(
      await getS3Keys({ store, cookieKeys: testCookieKeys }, { username: 'ann', cookie, ttl: 60, now }),
    ).toEqual({
      s3Keys: { access: 'STOREA', secret: 'STORES' },
      source: 'store',
      reissue: true,
      rejected: 'wrong_subject',
      storeFallback: 'cookie_rejected',
      format: null,
    });
  });

  it('a record with malformed legacy keys gives none', async () => {
    const broken = { ...account, s3Keys: { access: '', secret: 5 } as unknown as Account['s3Keys'] };
    const result = await getS3Keys(
      { store: storeWith(broken), cookieKeys: testCookieKeys },
      { username: 'ann', cookie: null, ttl: 60 },
    );
    expect(result).toEqual({
      s3Keys: null,
      source: 'none',
      reissue: false,
      rejected: null,
      storeFallback: null,
      format: null,
    });
  });
});
