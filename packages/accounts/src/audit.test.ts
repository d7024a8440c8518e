import { describe, expect, it } from 'vitest';
import type { ArchiveClient } from './archive-client';
import { auditAccounts, usernameBase } from './audit';
import type { AccountStore } from './types';

/** Any use of these fails the test: bad input must be refused before archive.org or the store is asked. */
const untouched = new Proxy(
  {},
  {
    get: (_target, property) => () => {
      throw new Error(`unexpected call: ${String(property)}`);
    },
  },
);
const deps = { store: untouched as AccountStore, archive: untouched as ArchiveClient };

describe('usernameBase', () => {
  it.each([
    ['Demo Patron', '@demo_patron', 'demo_patron'],
    ['  Émile   Zola! ', '@ez', 'emile_zola'],
    ['李', '@reader_li', 'reader_li'],
    [null, '@x', 'reader_x'],
    ['', '@', 'reader_x'],
    ['a'.repeat(100), '@a', 'a'.repeat(40)],
  ])('(%j, %j) -> %j', (screenname, itemname, expected) => {
    expect(usernameBase(screenname, itemname)).toBe(expected);
  });
});

describe('auditAccounts input validation (before any call)', () => {
  it.each<[unknown, string, string]>([
    [null, 'invalid_credentials', 'malformed_input'],
    ['x', 'invalid_credentials', 'malformed_input'],
    [{ email: 'a', password: 'x' }, 'invalid_email', 'malformed_email'],
    [{ email: `${'a'.repeat(250)}@b.co`, password: 'x' }, 'invalid_email', 'malformed_email'],
    [{ email: 'a@b.co', password: '' }, 'invalid_credentials', 'malformed_password'],
    [{ email: 'a@b.co', password: 'x'.repeat(1025) }, 'invalid_credentials', 'malformed_password'],
    [{ access: 'a', secret: '' }, 'invalid_s3keys', 'malformed_s3keys'],
    [{ access: ['a'], secret: 'b' }, 'invalid_s3keys', 'malformed_s3keys'],
  ])('%j -> %s', async (input, code, detail) => {
    await expect(auditAccounts(deps, input)).rejects.toMatchObject({ name: 'AppError', code, detail });
  });

  it('accepts an email of exactly 254 characters as syntax (then asks archive.org)', async () => {
    const email = `${'a'.repeat(64)}@${'b'.repeat(61)}.${'c'.repeat(61)}.${'d'.repeat(61)}.com`;
    expect(email).toHaveLength(254);
    await expect(auditAccounts(deps, { email, password: 'x' })).rejects.toThrow(
      'unexpected call: authenticate',
    );
  });
});
