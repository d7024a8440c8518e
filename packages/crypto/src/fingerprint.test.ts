import { describe, expect, it } from 'vitest';
import {
  accessKeyFingerprint,
  cookieKeys,
  matchesAccessKeyFingerprint,
  openCookie,
  sealCookie,
} from './index';

const CURRENT = 'the-current-secret-of-at-least-32-characters';
const OLD = 'an-old-secret-of-at-least-32-characters-long';

describe('access-key fingerprints', () => {
  it('are 128-bit, keyed by the secret, and match under the current or a previous secret only', () => {
    const keys = cookieKeys(CURRENT, [OLD]);
    const fp = accessKeyFingerprint(keys, 'ACCESS1');
    expect(Buffer.from(fp, 'base64url')).toHaveLength(16);
    expect(fp).not.toContain('ACCESS1');
    expect(matchesAccessKeyFingerprint(keys, 'ACCESS1', fp)).toBe(true);
    expect(matchesAccessKeyFingerprint(keys, 'ACCESS2', fp)).toBe(false);
    // Made under the old secret (before a rotation): still matches; under an unknown one: no.
    const oldFp = accessKeyFingerprint(cookieKeys(OLD), 'ACCESS1');
    expect(oldFp).not.toBe(fp);
    expect(matchesAccessKeyFingerprint(keys, 'ACCESS1', oldFp)).toBe(true);
    expect(matchesAccessKeyFingerprint(cookieKeys(CURRENT), 'ACCESS1', oldFp)).toBe(false);
    for (const bad of ['', 'short', fp + 'AA', '!!!!']) {
      expect(matchesAccessKeyFingerprint(keys, 'ACCESS1', bad)).toBe(false);
    }
  });
});

describe('session payloads with id, login time and key fingerprint', () => {
  it('seal and open them; refuse wrong types and unknown fields', () => {
    const keys = cookieKeys(CURRENT);
    const payload = {
      pur: 'session',
      sub: 'u',
      rem: true,
      sid: 'abc',
      iat: 1_700_000_000,
      kfp: 'fp',
    } as const;
    const token = sealCookie(keys, payload, { now: 1_700_000_100 });
    expect(openCookie(keys, token, { pur: 'session', ttl: 3600, now: 1_700_000_200 })).toMatchObject({
      ok: true,
      payload,
    });
    for (const bad of [{ sid: '' }, { iat: -1 }, { iat: 1.5 }, { kfp: 7 }, { admin: true }]) {
      expect(() => sealCookie(keys, { ...payload, ...bad } as never)).toThrow(TypeError);
    }
  });
});
