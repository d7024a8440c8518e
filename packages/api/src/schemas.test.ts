import { describe, expect, it } from 'vitest';
import { borrowInput, historyInput, identifierInput, loginInput } from './schemas';

describe('input schemas', () => {
  it('accepts archive.org identifiers and refuses anything else', () => {
    for (const ok of ['prideandprejudic00aust', 'a', 'A.b-c_9', 'x'.repeat(100)]) {
      expect(identifierInput.safeParse({ identifier: ok }).success).toBe(true);
    }
    for (const bad of ['', 'x'.repeat(101), 'a/b', '../etc', 'a b', 'a?x=1', 'é', 'a&action=return_loan']) {
      expect(identifierInput.safeParse({ identifier: bad }).success).toBe(false);
    }
  });

  it('bounds the login fields but leaves the email format to the audit', () => {
    expect(loginInput.safeParse({ email: 'not an email', password: 'p' }).success).toBe(true);
    expect(loginInput.safeParse({ email: 'a'.repeat(255), password: 'p' }).success).toBe(false);
    expect(loginInput.safeParse({ email: 'a@b.org', password: '' }).success).toBe(false);
    expect(loginInput.safeParse({ email: 'a@b.org', password: 'p'.repeat(1025) }).success).toBe(false);
    expect(loginInput.safeParse({ email: 'a@b.org', password: 'p', remember: 'yes' }).success).toBe(false);
  });

  it('allows borrow or browse only', () => {
    expect(borrowInput.safeParse({ identifier: 'x', action: 'browse' }).success).toBe(true);
    expect(borrowInput.safeParse({ identifier: 'x', action: 'return' }).success).toBe(false);
  });

  it('pages history within 1..100 and 0..10000', () => {
    expect(historyInput.safeParse(undefined).success).toBe(true);
    expect(historyInput.safeParse({ limit: 100, offset: 10000 }).success).toBe(true);
    for (const bad of [{ limit: 0 }, { limit: 101 }, { limit: 1.5 }, { offset: -1 }, { offset: 10001 }]) {
      expect(historyInput.safeParse(bad).success).toBe(false);
    }
  });
});
