import { describe, expect, expectTypeOf, it } from 'vitest';
import { forgeToken } from '../test/forge';
import {
  cookieKeys,
  CookieTooLargeError,
  deriveKey,
  Fernet,
  MAX_COOKIE_BYTES,
  openCookie,
  sealCookie,
} from './index';
import type { CookieKeys, CookiePayload, S3Payload, SessionPayload } from './index';

const NOW = 1_750_000_000;
const TTL = 86_400;
const keys = cookieKeys('current secret', ['previous secret', 'oldest secret']);
const session: SessionPayload = { pur: 'session', sub: 'alice', rem: true };
const s3: S3Payload = { pur: 's3', sub: 'alice', access: 'AKIAEXAMPLE', secret: 's3cr3t:with:colons' };

/** A token under the cookie key around any plaintext, as a key holder could make it. */
function sealRaw(plaintext: string | Uint8Array, secret = 'current secret', now = NOW): string {
  return new Fernet(deriveKey(secret)).encryptAtTime(plaintext, now);
}

function rejection(
  token: string | null | undefined,
  options: Partial<Parameters<typeof openCookie>[2]> = {},
) {
  const result = openCookie(keys, token, { pur: 'session', ttl: TTL, now: NOW, ...options });
  return result.ok ? 'ok' : result.reason;
}

describe('cookieKeys', () => {
  it('derives one Fernet per secret, current first', () => {
    expect(keys.fernets).toHaveLength(3);
    expect(keys.fernets[0]!.decryptString(sealRaw('x'))).toBe('x');
    expect(keys.fernets[1]!.decryptString(sealRaw('y', 'previous secret'))).toBe('y');
    expect(cookieKeys('only').fernets).toHaveLength(1);
  });

  it('refuses empty secrets, which would make forgeable cookies', () => {
    expect(() => cookieKeys('')).toThrow(/non-empty/);
    expect(() => cookieKeys('ok', [''])).toThrow(/non-empty/);
  });
});

describe('sealCookie and openCookie', () => {
  it('round-trip a session payload, bound to purpose and user', () => {
    const token = sealCookie(keys, session, { now: NOW });
    const opened = openCookie(keys, token, { pur: 'session', sub: 'alice', ttl: TTL, now: NOW + 10 });
    expect(opened).toEqual({ ok: true, payload: session, format: 'lending', oldKey: false, issuedAt: NOW });
  });

  it('round-trip a session payload with print-disabled access, and open older ones without it', () => {
    const withPd: SessionPayload = { ...session, pd: true };
    const opened = openCookie(keys, sealCookie(keys, withPd, { now: NOW }), {
      pur: 'session',
      ttl: TTL,
      now: NOW,
    });
    expect(opened).toMatchObject({ ok: true, payload: withPd });
    const older = openCookie(keys, sealCookie(keys, session, { now: NOW }), {
      pur: 'session',
      ttl: TTL,
      now: NOW,
    });
    expect(older).toMatchObject({ ok: true, payload: { pur: 'session', sub: 'alice', rem: true } });
    expect(older.ok && 'pd' in older.payload).toBe(false);
  });

  it('round-trip a revocable session payload (sid, iat, kfp) with pd, in a fixed field order', () => {
    const full: SessionPayload = {
      pur: 'session',
      sub: 'alice',
      rem: false,
      sid: 's1',
      iat: NOW,
      kfp: 'fp',
      pd: true,
    };
    const shuffled = {
      pd: true,
      kfp: 'fp',
      iat: NOW,
      sid: 's1',
      rem: false,
      sub: 'alice',
      pur: 'session',
    } as const;
    const token = sealCookie(keys, shuffled, { now: NOW });
    const opened = openCookie(keys, token, { pur: 'session', ttl: TTL, now: NOW });
    expect(opened).toEqual({ ok: true, payload: full, format: 'lending', oldKey: false, issuedAt: NOW });
    expect(opened.ok && Object.keys(opened.payload)).toEqual([
      'pur',
      'sub',
      'rem',
      'sid',
      'iat',
      'kfp',
      'pd',
    ]);
  });

  it('round-trip an s3 payload', () => {
    const token = sealCookie(keys, s3, { now: NOW });
    expect(openCookie(keys, token, { pur: 's3', sub: 'alice', ttl: TTL, now: NOW })).toEqual({
      ok: true,
      payload: s3,
      format: 'lending',
      oldKey: false,
      issuedAt: NOW,
    });
  });

  it('seal the exact JSON of docs/ARCHITECTURE.md (Cookies), which Python can read', () => {
    const fernet = new Fernet(deriveKey('current secret'));
    expect(fernet.decryptString(sealCookie(keys, session))).toBe(
      '{"pur":"session","sub":"alice","rem":true}',
    );
    expect(fernet.decryptString(sealCookie(keys, { ...s3, sub: 'bob' }))).toBe(
      '{"pur":"s3","sub":"bob","access":"AKIAEXAMPLE","secret":"s3cr3t:with:colons"}',
    );
  });

  it('seal with the current time by default', () => {
    const before = Math.floor(Date.now() / 1000);
    const opened = openCookie(keys, sealCookie(keys, session), { pur: 'session', ttl: 5 });
    expect(opened.ok && opened.issuedAt).toBeGreaterThanOrEqual(before);
  });

  it('say when a previous secret opened the cookie, so it can be re-issued', () => {
    const old = sealCookie(cookieKeys('oldest secret'), session, { now: NOW });
    const opened = openCookie(keys, old, { pur: 'session', ttl: TTL, now: NOW });
    expect(opened).toMatchObject({ ok: true, oldKey: true, payload: session });
    const reissued = sealCookie(keys, session, { now: NOW });
    expect(openCookie(keys, reissued, { pur: 'session', ttl: TTL, now: NOW })).toMatchObject({
      oldKey: false,
    });
    // once the secret is retired, its cookies are refused
    expect(rejection(old, { now: NOW })).toBe('ok');
    const retired = cookieKeys('current secret', ['previous secret']);
    expect(openCookie(retired, old, { pur: 'session', ttl: TTL, now: NOW })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('type the payload after the purpose asked for', () => {
    const opened = openCookie(keys, sealCookie(keys, s3), { pur: 's3', ttl: TTL });
    if (opened.ok) expectTypeOf(opened.payload).toEqualTypeOf<S3Payload>();
    const other = openCookie(keys, sealCookie(keys, session), { pur: 'session', ttl: TTL });
    if (other.ok) expectTypeOf(other.payload).toEqualTypeOf<SessionPayload>();
    expectTypeOf(keys).toEqualTypeOf<CookieKeys>();
  });
});

describe('openCookie rejections', () => {
  const valid = sealCookie(keys, session, { now: NOW });

  it.each([null, undefined, ''])('empty: %j', (token) => {
    expect(rejection(token)).toBe('empty');
  });

  it('too_large: longer than 4096 characters, before any decoding', () => {
    expect(rejection('A'.repeat(MAX_COOKIE_BYTES + 1))).toBe('too_large');
    expect(rejection(valid + '='.repeat(MAX_COOKIE_BYTES))).toBe('too_large');
  });

  it.each([
    ['not base64', '!!!!'],
    ['a bad percent escape', valid.slice(0, -2) + '%E0%A4%A'],
    ['cut short', valid.slice(0, 40)],
    ['cut by a byte', Buffer.from(valid, 'base64url').subarray(0, -1).toString('base64url')],
    ['wrong version', 'A' + valid.slice(1)],
    ['whitespace', ` ${valid}`],
    ['a number at run time', 42 as unknown as string],
  ])('malformed: %s', (_name, token) => {
    expect(rejection(token)).toBe('malformed');
  });

  it('malformed: a good MAC over bad padding (only a key holder could make one)', () => {
    expect(rejection(forgeToken(deriveKey('current secret'), Buffer.alloc(16)))).toBe('malformed');
  });

  it('bad_signature: another secret, or any change to the token', () => {
    expect(rejection(sealCookie(cookieKeys('someone else'), session, { now: NOW }))).toBe('bad_signature');
    const bytes = Buffer.from(valid, 'base64url');
    bytes[40] = bytes[40]! ^ 1;
    expect(rejection(bytes.toString('base64url'))).toBe('bad_signature');
  });

  it('expired: issued more than ttl seconds ago', () => {
    expect(rejection(valid, { now: NOW + TTL })).toBe('ok');
    expect(rejection(valid, { now: NOW + TTL + 1 })).toBe('expired');
  });

  it('future: issued more than 60 seconds ahead of now', () => {
    expect(rejection(valid, { now: NOW - 60 })).toBe('ok');
    expect(rejection(valid, { now: NOW - 61 })).toBe('future');
  });

  it.each([
    ['not JSON nor Open Library', 'hello'],
    ['broken JSON', '{"pur":"session"'],
    ['a JSON array', '["session","alice",true]'],
    ['JSON null', 'null'],
    ['an extra field', '{"pur":"session","sub":"alice","rem":true,"admin":true}'],
    ['a missing field', '{"pur":"session","sub":"alice"}'],
    ['rem as a string', '{"pur":"session","sub":"alice","rem":"true"}'],
    ['pd as a string', '{"pur":"session","sub":"alice","rem":true,"pd":"yes"}'],
    ['pd and an extra field', '{"pur":"session","sub":"alice","rem":true,"pd":true,"admin":true}'],
    ['sub as a number', '{"pur":"session","sub":7,"rem":true}'],
    ['an empty sub', '{"pur":"session","sub":"","rem":true}'],
    ['an unknown purpose', '{"pur":"admin","sub":"alice","rem":true}'],
    ['an s3 payload without secret', '{"pur":"s3","sub":"alice","access":"a"}'],
    ['an s3 payload with an empty access key', '{"pur":"s3","sub":"alice","access":"","secret":"b"}'],
    ['an extra-large sub', JSON.stringify({ pur: 'session', sub: 'a'.repeat(2000), rem: true })],
    ['a prototype-polluting key', '{"pur":"session","sub":"alice","rem":true,"__proto__":{"x":1}}'],
    ['Open Library format without a colon', 'accesssecret'],
    ['Open Library format with an empty secret', 'access:'],
    ['Open Library format with an empty access key', ':secret'],
    ['Open Library format with control characters', 'acc\u0000ess:secret'],
    ['Open Library format with spaces', 'access key:secret'],
    ['extra-large Open Library keys', `${'a'.repeat(1500)}:${'b'.repeat(1500)}`],
  ])('bad_payload: %s', (_name, plaintext) => {
    const pur = plaintext.includes('"s3"') || !plaintext.startsWith('{') ? 's3' : 'session';
    expect(rejection(sealRaw(plaintext), { pur })).toBe('bad_payload');
  });

  it('bad_payload: plaintext that is not UTF-8', () => {
    expect(rejection(sealRaw(Buffer.from([0x7b, 0xff, 0x7d])))).toBe('bad_payload');
    expect(rejection(sealRaw(Buffer.from([0x61, 0x3a, 0xc3])), { pur: 's3' })).toBe('bad_payload');
  });

  it('wrong_purpose: a session cookie offered as s3, and the other way round', () => {
    expect(rejection(valid, { pur: 's3' })).toBe('wrong_purpose');
    expect(rejection(sealCookie(keys, s3, { now: NOW }), { pur: 'session' })).toBe('wrong_purpose');
    expect(rejection(sealCookie(keys, s3, { now: NOW, format: 'openlibrary' }), { pur: 'session' })).toBe(
      'wrong_purpose',
    );
  });

  it("wrong_subject: another user's cookie", () => {
    expect(rejection(valid, { sub: 'alice' })).toBe('ok');
    expect(rejection(valid, { sub: 'mallory' })).toBe('wrong_subject');
    expect(rejection(sealCookie(keys, s3, { now: NOW }), { pur: 's3', sub: 'Alice' })).toBe('wrong_subject');
  });

  it('never throws on hostile input', () => {
    const inputs: unknown[] = [
      {},
      [],
      1n,
      Symbol('x'),
      () => valid,
      new Uint8Array(5),
      '%',
      '%%%%',
      '\uD800',
    ];
    for (const input of inputs) {
      expect(() => openCookie(keys, input as string, { pur: 's3', ttl: TTL, now: NOW })).not.toThrow();
    }
  });

  it('refuses options that are a programming error', () => {
    expect(() => rejection(valid, { ttl: Number.NaN })).toThrow(TypeError);
    expect(() => rejection(valid, { now: Number.NaN })).toThrow(TypeError);
    expect(() => rejection(valid, { pur: 'sessions' as 'session' })).toThrow(TypeError);
  });
});

describe('Open Library format', () => {
  // openlibrary.md §2: secret `xxx`, ts 1750000000, IV 00..0f, plaintext `foo:bar`.
  const OL_TOKEN =
    'gAAAAABoTuGAAAECAwQFBgcICQoLDA0ODwAlPitnCeTfOO3v7VJiJFSxk_f2zApwY82yQaAfYYWZOw9I9cREjBwKxjejplOvKg==';
  const olKeys = cookieKeys('xxx');

  it("opens Open Library's own s3 cookie, taking the requested user", () => {
    expect(openCookie(olKeys, OL_TOKEN, { pur: 's3', sub: 'alice', ttl: TTL, now: NOW })).toEqual({
      ok: true,
      payload: { pur: 's3', sub: 'alice', access: 'foo', secret: 'bar' },
      format: 'openlibrary',
      oldKey: false,
      issuedAt: NOW,
    });
    const anyone = openCookie(olKeys, OL_TOKEN, { pur: 's3', ttl: TTL, now: NOW });
    expect(anyone.ok && anyone.payload.sub).toBe('');
  });

  it('opens it as web.py writes it, URL-quoted', () => {
    const quoted = OL_TOKEN.replaceAll('=', '%3D');
    expect(quoted).toContain('%3D%3D');
    expect(openCookie(olKeys, quoted, { pur: 's3', ttl: TTL, now: NOW })).toMatchObject({ ok: true });
  });

  it('still checks the age Open Library does not', () => {
    expect(openCookie(olKeys, OL_TOKEN, { pur: 's3', ttl: TTL, now: NOW + TTL + 1 })).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it("splits at the first ':' only, as Open Library does", () => {
    const token = sealRaw('AKIA:se:cret');
    expect(openCookie(keys, token, { pur: 's3', ttl: TTL, now: NOW })).toMatchObject({
      ok: true,
      payload: { access: 'AKIA', secret: 'se:cret' },
    });
  });

  it("seals s3 in Open Library's format on request, which Open Library's decrypt reads", () => {
    const token = sealCookie(
      olKeys,
      { pur: 's3', sub: 'alice', access: 'foo', secret: 'bar' },
      {
        format: 'openlibrary',
        now: NOW,
      },
    );
    expect(new Fernet(deriveKey('xxx')).decryptString(token)).toBe('foo:bar');
    expect(openCookie(olKeys, token, { pur: 's3', sub: 'alice', ttl: TTL, now: NOW })).toMatchObject({
      ok: true,
      format: 'openlibrary',
    });
  });

  it('refuses to seal what the format cannot carry', () => {
    expect(() => sealCookie(keys, session, { format: 'openlibrary' })).toThrow(TypeError);
    expect(() => sealCookie(keys, { ...s3, access: 'has:colon' }, { format: 'openlibrary' })).toThrow(
      TypeError,
    );
    expect(() => sealCookie(keys, s3, { format: 'ol' as 'openlibrary' })).toThrow(
      /'lending' or 'openlibrary'/,
    );
  });
});

describe('sealCookie limits', () => {
  it('refuses payloads openCookie would refuse', () => {
    const bad: unknown[] = [
      { ...session, extra: 1 },
      { ...session, sub: '' },
      { ...session, rem: 'yes' },
      { pur: 'other', sub: 'a' },
      { ...s3, secret: undefined },
      null,
    ];
    for (const payload of bad) expect(() => sealCookie(keys, payload as CookiePayload)).toThrow(TypeError);
  });

  it('refuses tokens over 4096 bytes with CookieTooLargeError, naming no secret', () => {
    const big = '€'.repeat(512); // 1536 bytes of UTF-8 per field
    const payload: S3Payload = { pur: 's3', sub: big, access: big, secret: big };
    let thrown: unknown;
    try {
      sealCookie(keys, payload);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CookieTooLargeError);
    expect((thrown as Error).message).toMatch(/over the 4096-byte limit/);
    expect((thrown as Error).message).not.toContain('€');
  });

  it('seals right up to the limit', () => {
    // 57 + 16k bytes of token; the largest k that fits 4096 base64 characters is 188 (4088 characters).
    const fits = sealRaw('x'.repeat(16 * 188 - 1));
    expect(fits.length).toBe(4088);
    const sub = 'é'.repeat(500); // 1000 bytes
    const payload: S3Payload = { pur: 's3', sub, access: sub, secret: 'e'.repeat(500) };
    const token = sealCookie(keys, payload);
    expect(token.length).toBeLessThanOrEqual(MAX_COOKIE_BYTES);
    expect(openCookie(keys, token, { pur: 's3', sub, ttl: TTL })).toMatchObject({ ok: true, payload });
  });
});
