import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { deriveKey, Fernet, InvalidToken, MultiFernet } from './index';
import type { InvalidTokenReason } from './index';
import { forgeToken, pkcs7 } from '../test/forge';
import { encryptToken, parseKey } from './internal';

const KEY = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=';
const T = 1_750_000_000;
const PADDED_URLSAFE_BASE64 = /^[A-Za-z0-9_-]*={0,2}$/;

function invalidReason(run: () => unknown): InvalidTokenReason {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidToken);
    expect((error as InvalidToken).message).toBe('Invalid token');
    return (error as InvalidToken).reason;
  }
  throw new Error('expected an InvalidToken, nothing was thrown');
}

describe('Fernet keys', () => {
  it('takes the 44-character url-safe base64 form or the 32 raw bytes, with the same result', () => {
    const raw = Buffer.from(KEY, 'base64url');
    const token = new Fernet(KEY).encrypt('hello');
    expect(new Fernet(raw).decryptString(token)).toBe('hello');
    expect(new Fernet(new Uint8Array(raw)).decryptString(token)).toBe('hello');
  });

  it('accepts the standard alphabet too, as Python does', () => {
    const standard = Buffer.from(KEY, 'base64url').toString('base64');
    expect(new Fernet(standard).decryptString(new Fernet(KEY).encrypt('x'))).toBe('x');
  });

  it.each([
    ['unpadded', KEY.slice(0, 43)],
    ['too long', KEY + 'AAAA'],
    ['31 bytes', Buffer.alloc(31).toString('base64url') + '='],
    ['not base64', '!'.repeat(43) + '='],
    ['empty', ''],
    ['31 raw bytes', new Uint8Array(31)],
    ['33 raw bytes', new Uint8Array(33)],
    ['a number', 42],
    ['null', null],
  ])('refuses a key that is %s, saying what to do and without echoing it', (_name, key) => {
    expect(() => new Fernet(key as string)).toThrow(
      /Fernet key must be 32 url-safe base64-encoded bytes.*generateKey/,
    );
    try {
      new Fernet(key as string);
    } catch (error) {
      if (typeof key === 'string' && key.length > 0) expect((error as Error).message).not.toContain(key);
    }
  });

  it('generateKey makes distinct 44-character padded url-safe keys', () => {
    const keys = new Set(Array.from({ length: 50 }, () => Fernet.generateKey()));
    expect(keys.size).toBe(50);
    for (const key of keys) {
      expect(key).toMatch(/^[A-Za-z0-9_-]{43}=$/);
      expect(new Fernet(key).decryptString(new Fernet(key).encrypt('ok'))).toBe('ok');
    }
  });

  it('never shows the key when a Fernet is logged or serialised', () => {
    const fernet = new Fernet(KEY);
    const raw = Buffer.from(KEY, 'base64url');
    for (const shown of [
      inspect(fernet, { showHidden: true, depth: 5 }),
      JSON.stringify(fernet),
      JSON.stringify({ ...fernet }),
    ]) {
      expect(shown).not.toContain(KEY.slice(0, 20));
      expect(shown).not.toContain(raw.subarray(0, 16).toString('hex'));
    }
    expect(inspect(new MultiFernet([fernet]), { showHidden: true })).not.toContain(KEY.slice(0, 20));
  });
});

describe('deriveKey', () => {
  it("is Open Library's derivation: base64url(SHA-256(secret)) with padding", () => {
    expect(deriveKey('xxx')).toBe('zS6wg3ybTJYsItL_i1RBt7RYBYh_BR05vxM7WDuvaGA=');
    for (const secret of ['', 'correct horse', 'grüße, 秘密 🔑']) {
      expect(deriveKey(secret)).toBe(
        createHash('sha256').update(Buffer.from(secret, 'utf8')).digest('base64url') + '=',
      );
      expect(() => new Fernet(deriveKey(secret))).not.toThrow();
    }
  });
});

describe('encrypt', () => {
  it('writes version 0x80, the timestamp, and padded url-safe base64', () => {
    for (let length = 0; length < 40; length++) {
      const token = new Fernet(KEY).encryptAtTime('x'.repeat(length), T);
      expect(token).toMatch(PADDED_URLSAFE_BASE64);
      expect(token.length % 4).toBe(0);
      const bytes = Buffer.from(token, 'base64url');
      expect(bytes[0]).toBe(0x80);
      expect(bytes.readBigUInt64BE(1)).toBe(BigInt(T));
      expect(bytes.length).toBe(57 + 16 * (Math.floor(length / 16) + 1));
    }
  });

  it('takes strings as UTF-8 and bytes as they are', () => {
    const fernet = new Fernet(KEY);
    const text = 'grüße 🔑';
    expect(fernet.decrypt(fernet.encrypt(text)).equals(Buffer.from(text, 'utf8'))).toBe(true);
    const bytes = new Uint8Array([0, 255, 128, 10]);
    expect([...fernet.decrypt(fernet.encrypt(bytes))]).toEqual([...bytes]);
    expect(fernet.decrypt(fernet.encrypt('')).length).toBe(0);
  });

  it('uses a fresh IV every time', () => {
    const fernet = new Fernet(KEY);
    const ivs = new Set(
      Array.from({ length: 600 }, () =>
        Buffer.from(fernet.encryptAtTime('same', T), 'base64url').subarray(9, 25).toString('hex'),
      ),
    );
    expect(ivs.size).toBe(600);
  });

  it('leaves no trace of one call in the next (shared buffers)', () => {
    const fernet = new Fernet(KEY);
    const long = fernet.encryptAtTime('L'.repeat(5000), T);
    const short = fernet.encryptAtTime('s', T);
    expect(fernet.decryptString(long)).toBe('L'.repeat(5000));
    expect(fernet.decryptString(short)).toBe('s');
    const first = fernet.decrypt(short);
    fernet.decrypt(long);
    expect(first.toString()).toBe('s');
  });

  it('handles plaintexts larger than its scratch buffers', () => {
    const fernet = new Fernet(KEY);
    const big = Buffer.alloc(100_000, 7);
    const multiByte = '€'.repeat(4000);
    expect(fernet.decrypt(fernet.encrypt(big)).equals(big)).toBe(true);
    expect(fernet.decryptString(fernet.encrypt(multiByte))).toBe(multiByte);
  });

  it.each([-1, 1.5, Number.NaN, Infinity, 2 ** 53, '1'])('refuses the issue time %s', (time) => {
    expect(() => new Fernet(KEY).encryptAtTime('x', time as number)).toThrow(RangeError);
  });

  it('refuses data that is neither a string nor bytes', () => {
    for (const data of [null, undefined, 1, {}, ['a']]) {
      expect(() => new Fernet(KEY).encrypt(data as string)).toThrow(TypeError);
    }
  });
});

describe('decrypt', () => {
  const fernet = new Fernet(KEY);
  const token = fernet.encryptAtTime('hello', T);

  it('accepts unpadded tokens and tokens as bytes', () => {
    expect(token.endsWith('=')).toBe(true);
    expect(fernet.decryptString(token.replace(/=+$/, ''))).toBe('hello');
    expect(fernet.decryptString(Buffer.from(token, 'latin1'))).toBe('hello');
    expect(fernet.decryptString(new TextEncoder().encode(token))).toBe('hello');
  });

  it('checks no age without a ttl, as Python', () => {
    expect(fernet.decryptString(fernet.encryptAtTime('old', 0))).toBe('old');
    expect(fernet.decryptString(fernet.encryptAtTime('future', 2 ** 40))).toBe('future');
    expect(fernet.decryptString(token, {})).toBe('hello');
    expect(fernet.decryptString(token, { ttl: undefined })).toBe('hello');
  });

  it('expires when timestamp + ttl < now, and refuses when now + 60 < timestamp', () => {
    expect(fernet.decryptAtTime(token, 100, T + 100).toString()).toBe('hello');
    expect(invalidReason(() => fernet.decryptAtTime(token, 100, T + 101))).toBe('expired');
    expect(fernet.decryptAtTime(token, 100, T - 60).toString()).toBe('hello');
    expect(invalidReason(() => fernet.decryptAtTime(token, 100, T - 61))).toBe('future');
    expect(invalidReason(() => fernet.decryptAtTime(token, -1, T))).toBe('expired');
  });

  it('decrypt with a ttl uses the current time', () => {
    const fresh = fernet.encrypt('now');
    expect(fernet.decryptString(fresh, { ttl: 5 })).toBe('now');
    expect(invalidReason(() => fernet.decrypt(token, { ttl: 5 }))).toBe('expired');
    const ahead = fernet.encryptAtTime('ahead', Math.floor(Date.now() / 1000) + 3600);
    expect(invalidReason(() => fernet.decrypt(ahead, { ttl: 5 }))).toBe('future');
  });

  it.each([Number.NaN, Infinity, '60', null])('refuses the ttl %s instead of accepting everything', (ttl) => {
    expect(() => fernet.decrypt(token, { ttl: ttl as number })).toThrow(TypeError);
    expect(() => fernet.decryptAtTime(token, ttl as number, T)).toThrow(TypeError);
  });

  it('refuses a key it was not made with', () => {
    expect(invalidReason(() => new Fernet(Fernet.generateKey()).decrypt(token))).toBe('bad_mac');
  });

  const bytes = Buffer.from(token, 'base64url');
  const withByte = (index: number, value: number) => {
    const copy = Buffer.from(bytes);
    copy[index] = value;
    return copy.toString('base64url');
  };
  const cases: [string, unknown, InvalidTokenReason][] = [
    ['a number', 42, 'not_a_token'],
    ['null', null, 'not_a_token'],
    ['undefined', undefined, 'not_a_token'],
    ['an object', { token }, 'not_a_token'],
    ['an array', [token], 'not_a_token'],
    ['empty', '', 'bad_version'],
    ['only padding', '==', 'bad_base64'],
    ['of length 4n + 1', 'gAAAA', 'bad_base64'],
    ['one character longer', token.replace(/=+$/, '') + 'A', 'bad_length'],
    ['wrongly padded', token + '=', 'bad_base64'],
    ['padded with three', token.replace(/=+$/, '') + '===', 'bad_base64'],
    ['padding in the middle', token.slice(0, 20) + '==' + token.slice(22), 'bad_base64'],
    ['whitespace inside', token.slice(0, 20) + ' ' + token.slice(21), 'bad_base64'],
    ['a newline at the end', token.replace(/=+$/, '') + '\n', 'bad_base64'],
    ['a percent sign', '%' + token.slice(1), 'bad_base64'],
    ['non-ASCII', 'é' + token.slice(1), 'bad_base64'],
    ['an emoji', '🔑' + token.slice(2), 'bad_base64'],
    ['a character whose low byte is in the alphabet', '\u0167' + token.slice(1), 'bad_base64'],
    ['version 0x81', withByte(0, 0x81), 'bad_version'],
    ['version 0x00', withByte(0, 0), 'bad_version'],
    ['just the version', Buffer.from([0x80]).toString('base64url'), 'too_short'],
    ['56 bytes', bytes.subarray(0, 56).toString('base64url'), 'too_short'],
    [
      '57 bytes: no ciphertext',
      Buffer.concat([bytes.subarray(0, 25), bytes.subarray(-32)]).toString('base64url'),
      'bad_length',
    ],
    ['one byte cut', bytes.subarray(0, bytes.length - 1).toString('base64url'), 'bad_length'],
    ['a flipped MAC bit', withByte(bytes.length - 1, bytes[bytes.length - 1]! ^ 1), 'bad_mac'],
    ['a changed timestamp', withByte(8, bytes[8]! ^ 1), 'bad_mac'],
    ['a changed IV', withByte(9, bytes[9]! ^ 1), 'bad_mac'],
    ['a changed ciphertext', withByte(30, bytes[30]! ^ 1), 'bad_mac'],
    ['huge garbage', 'A'.repeat(1_000_000), 'bad_version'],
  ];
  it.each(cases)('refuses a token that is %s with InvalidToken and nothing else', (_name, bad, reason) => {
    expect(invalidReason(() => fernet.decrypt(bad as string))).toBe(reason);
    expect(invalidReason(() => fernet.decrypt(bad as string, { ttl: 1e12 }))).toBe(reason);
    expect(invalidReason(() => new MultiFernet([fernet]).decrypt(bad as string))).toBe(reason);
  });

  it('decryptString refuses plaintext that is not UTF-8', () => {
    const latin = fernet.encrypt(Buffer.from([0x66, 0xe9, 0x65]));
    expect(invalidReason(() => fernet.decryptString(latin))).toBe('not_utf8');
    expect(fernet.decrypt(latin).length).toBe(3);
  });

  it('keeps a byte-order mark', () => {
    expect(fernet.decryptString(fernet.encrypt('\uFEFFx'))).toBe('\uFEFFx');
  });
});

describe('extractTimestamp', () => {
  it('returns the timestamp once the MAC is checked, at any age', () => {
    const fernet = new Fernet(KEY);
    expect(fernet.extractTimestamp(fernet.encryptAtTime('x', 12345))).toBe(12345);
    expect(invalidReason(() => new Fernet(Fernet.generateKey()).extractTimestamp(fernet.encrypt('x')))).toBe(
      'bad_mac',
    );
    expect(invalidReason(() => fernet.extractTimestamp('no!'))).toBe('bad_base64');
  });
});

describe('MultiFernet', () => {
  const [a, b, c] = [Fernet.generateKey(), Fernet.generateKey(), Fernet.generateKey()].map(
    (key) => new Fernet(key),
  );
  const multi = new MultiFernet([a!, b!]);

  it('encrypts with the first key and decrypts with any', () => {
    expect(a!.decryptString(multi.encrypt('first'))).toBe('first');
    expect(multi.decryptString(b!.encrypt('second'))).toBe('second');
    expect(multi.decryptAtTime(b!.encryptAtTime('timed', T), 10, T + 10).toString()).toBe('timed');
    expect(multi.extractTimestamp(b!.encryptAtTime('x', T))).toBe(T);
    expect(invalidReason(() => multi.decrypt(c!.encrypt('third')))).toBe('bad_mac');
    expect(invalidReason(() => multi.decryptAtTime(b!.encryptAtTime('old', T), 10, T + 11))).toBe('expired');
  });

  it('rotate re-encrypts under the first key and keeps the timestamp, with no age check', () => {
    const old = b!.encryptAtTime('payload', 1000);
    const rotated = multi.rotate(old);
    expect(a!.decryptString(rotated)).toBe('payload');
    expect(a!.extractTimestamp(rotated)).toBe(1000);
    expect(invalidReason(() => b!.decrypt(rotated))).toBe('bad_mac');
    expect(multi.rotate(rotated)).not.toBe(rotated); // fresh IV
    expect(invalidReason(() => multi.rotate(c!.encrypt('x')))).toBe('bad_mac');
    expect(invalidReason(() => multi.rotate('garbage'))).toBe('bad_version');
  });

  it('rotate keeps timestamps exactly, even those beyond 2^53', () => {
    const raw = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]);
    const token = encryptToken(parseKey(KEY), 'far', raw);
    const rotated = new MultiFernet([a!, new Fernet(KEY)]).rotate(token);
    expect(Buffer.from(rotated, 'base64url').subarray(1, 9)).toEqual(Buffer.from(raw));
  });

  it('reports a good MAC over bad padding as bad_padding, after trying every key', () => {
    // Only a key holder can make such a token: a valid MAC over plaintext that is not PKCS7-padded.
    const token = forgeToken(KEY, Buffer.alloc(16, 0x20));
    expect(invalidReason(() => new MultiFernet([a!, new Fernet(KEY)]).decrypt(token))).toBe('bad_padding');
    expect(invalidReason(() => new MultiFernet([new Fernet(KEY), a!]).decrypt(token))).toBe('bad_padding');
    expect(new Fernet(KEY).decryptString(forgeToken(KEY, pkcs7(Buffer.from('fine'))))).toBe('fine');
  });

  it('needs at least one Fernet, and only Fernets', () => {
    expect(() => new MultiFernet([])).toThrow(TypeError);
    expect(() => new MultiFernet([KEY as unknown as Fernet])).toThrow(TypeError);
  });
});
