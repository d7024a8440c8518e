import { describe, expect, it } from 'vitest';
import * as api from './index';

describe('@lending/crypto public API', () => {
  it('exports the contract and nothing internal (no fixed-IV encryption, no key material)', () => {
    expect(Object.keys(api).sort()).toEqual([
      'CookieTooLargeError',
      'Fernet',
      'InvalidToken',
      'MAX_COOKIE_BYTES',
      'MultiFernet',
      'accessKeyFingerprint',
      'cookieKeys',
      'deriveKey',
      'matchesAccessKeyFingerprint',
      'openCookie',
      'sealCookie',
    ]);
  });
});
