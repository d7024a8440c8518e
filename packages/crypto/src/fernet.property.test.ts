// Property-based tests (fast-check): round trips for any bytes, key and time; the ttl and clock-skew
// boundaries; and that nothing but InvalidToken ever comes out of a bad token.
import { createCipheriv, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Fernet, InvalidToken, MultiFernet } from './index';
import type { InvalidTokenReason } from './index';
import { forgeToken } from '../test/forge';
import { decodeToken, encryptToken, parseKey } from './internal';

const key = fc.uint8Array({ minLength: 32, maxLength: 32 });
const bytes = fc.uint8Array({ maxLength: 600 });
const time = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const recentTime = fc.integer({ min: 0, max: 2 ** 40 });
const ttl = fc.integer({ min: 0, max: 10 ** 9 });

function reason(run: () => unknown): InvalidTokenReason | 'ok' {
  try {
    run();
    return 'ok';
  } catch (error) {
    if (!(error instanceof InvalidToken)) throw error;
    expect(error.message).toBe('Invalid token');
    return error.reason;
  }
}

/** The spec written out plainly with Buffer.concat, to check the tuned encryptToken against. */
function referenceToken(keyBytes: Uint8Array, data: Uint8Array, seconds: number, iv: Uint8Array): string {
  const raw = Buffer.from(keyBytes);
  const cipher = createCipheriv('aes-128-cbc', raw.subarray(16), iv);
  const header = Buffer.alloc(9);
  header[0] = 0x80;
  header.writeBigUInt64BE(BigInt(seconds), 1);
  const body = Buffer.concat([header, iv, cipher.update(data), cipher.final()]);
  const mac = createHmac('sha256', raw.subarray(0, 16)).update(body).digest();
  return Buffer.concat([body, mac]).toString('base64');
}

describe('Fernet properties', () => {
  it('round-trips any bytes under any key at any time', () => {
    fc.assert(
      fc.property(key, bytes, time, (k, data, t) => {
        const fernet = new Fernet(k);
        const token = fernet.encryptAtTime(data, t);
        expect(fernet.decrypt(token).equals(data)).toBe(true);
        expect(fernet.decryptAtTime(token, 0, t).equals(data)).toBe(true);
        expect(fernet.decrypt(token.replace(/=+$/, '')).equals(data)).toBe(true);
        expect(fernet.extractTimestamp(token)).toBe(t);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps decrypting correctly with one Fernet across many tokens, failures included', () => {
    // Decryption reuses one block decipher per key: no state may leak from one token into the next.
    const keyText = Fernet.generateKey();
    const fernet = new Fernet(keyText);
    const badPadding = forgeToken(keyText, Buffer.alloc(32, 0x11));
    fc.assert(
      fc.property(fc.array(fc.oneof(bytes, fc.constant(null)), { minLength: 1, maxLength: 20 }), (items) => {
        const tokens = items.map((data) => (data === null ? null : ([data, fernet.encrypt(data)] as const)));
        for (const item of tokens.reverse()) {
          if (item === null) expect(reason(() => fernet.decrypt(badPadding))).toBe('bad_padding');
          else expect(fernet.decrypt(item[1]).equals(item[0])).toBe(true);
        }
      }),
    );
  });

  it('round-trips any string as UTF-8', () => {
    fc.assert(
      fc.property(key, fc.string({ unit: 'binary', maxLength: 300 }), (k, text) => {
        const fernet = new Fernet(k);
        expect(fernet.decryptString(fernet.encrypt(text))).toBe(text);
      }),
    );
  });

  it('writes exactly the spec token (checked against a plain Buffer.concat version)', () => {
    fc.assert(
      fc.property(key, bytes, time, fc.uint8Array({ minLength: 16, maxLength: 16 }), (k, data, t, iv) => {
        const token = encryptToken(parseKey(k), data, t, iv);
        const reference = referenceToken(k, data, t, iv).replaceAll('+', '-').replaceAll('/', '_');
        expect(token).toBe(reference);
        expect(token).toMatch(/^[A-Za-z0-9_-]+={0,2}$/);
        expect(token.length % 4).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts a token exactly up to timestamp + ttl, and down to now + 60 = timestamp', () => {
    fc.assert(
      fc.property(key, recentTime, ttl, (k, t, maxAge) => {
        const fernet = new Fernet(k);
        const multi = new MultiFernet([new Fernet(Fernet.generateKey()), fernet]);
        const token = fernet.encryptAtTime('x', t);
        for (const opener of [fernet, multi]) {
          expect(reason(() => opener.decryptAtTime(token, maxAge, t + maxAge))).toBe('ok');
          expect(reason(() => opener.decryptAtTime(token, maxAge, t + maxAge + 1))).toBe('expired');
          expect(reason(() => opener.decryptAtTime(token, maxAge, t - 60))).toBe('ok');
          expect(reason(() => opener.decryptAtTime(token, maxAge, t - 61))).toBe('future');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('opens nothing under another key', () => {
    fc.assert(
      fc.property(key, key, bytes, (k1, k2, data) => {
        fc.pre(!Buffer.from(k1).subarray(0, 16).equals(Buffer.from(k2).subarray(0, 16)));
        expect(reason(() => new Fernet(k2).decrypt(new Fernet(k1).encrypt(data)))).toBe('bad_mac');
      }),
    );
  });

  it('refuses any change to any byte of a token', () => {
    fc.assert(
      fc.property(key, bytes, fc.nat(), fc.integer({ min: 1, max: 255 }), (k, data, at, flip) => {
        const fernet = new Fernet(k);
        const token = Buffer.from(fernet.encrypt(data), 'base64url');
        const index = at % token.length;
        token[index] = token[index]! ^ flip;
        const expected = index === 0 ? 'bad_version' : 'bad_mac';
        expect(reason(() => fernet.decrypt(token.toString('base64url')))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('throws nothing but InvalidToken for any input at all', () => {
    const fernet = new Fernet(Fernet.generateKey());
    const base64ish = fc.string({
      unit: fc.constantFrom(...'gAAAAB-_=+/ \n%é\u0000🔑abcdefghijklmnopqrstuvwxyz0123456789'.split('')),
      maxLength: 200,
    });
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.string({ unit: 'binary' }), base64ish), (input) => {
        expect(reason(() => fernet.decrypt(input as string, { ttl: 60 }))).not.toBe('ok');
        expect(reason(() => fernet.extractTimestamp(input as string))).not.toBe('ok');
        expect(reason(() => new MultiFernet([fernet]).rotate(input as string))).not.toBe('ok');
      }),
      { numRuns: 1000 },
    );
  });

  it('decodes exactly the url-safe base64 strings, padded correctly or not at all', () => {
    const alphabet = fc.constantFrom(...'Ab9-_+/= .%é\u0141\u012d'.split(''));
    const isBase64 = (text: string) => {
      const body = text.replace(/={1,2}$/, '');
      if (!/^[A-Za-z0-9_+/-]*$/.test(body) || body.length % 4 === 1) return false;
      return body.length === text.length || text.length % 4 === 0;
    };
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 12 }), (text) => {
        expect(reason(() => decodeToken(text)) !== 'bad_base64').toBe(isBase64(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('rotate keeps plaintext and timestamp and moves the token to the first key', () => {
    fc.assert(
      fc.property(
        fc.array(key, { minLength: 1, maxLength: 4 }),
        fc.nat(),
        bytes,
        time,
        (keys, pick, data, t) => {
          const fernets = keys.map((k) => new Fernet(k));
          const token = fernets[pick % fernets.length]!.encryptAtTime(data, t);
          const rotated = new MultiFernet(fernets).rotate(token);
          expect(fernets[0]!.decrypt(rotated).equals(data)).toBe(true);
          expect(fernets[0]!.extractTimestamp(rotated)).toBe(t);
        },
      ),
    );
  });
});
