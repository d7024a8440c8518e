// Fernet as in Python's cryptography.fernet: same names, same checks in the same order, same tokens.
// Decryption checks: type, base64, version, length, then age (only with a ttl), then the MAC in constant time,
// and only then decrypts. Every failure is an InvalidToken with the message 'Invalid token'.
import { createHash, randomBytes } from 'node:crypto';
import {
  checkAge,
  decodeToken,
  decodeUtf8,
  decryptVerified,
  encryptToken,
  InvalidToken,
  macMatches,
  parseKey,
  readTimestamp,
} from './internal';
import type { FernetKey, InvalidTokenReason } from './internal';

export { InvalidToken } from './internal';
export type { InvalidTokenReason } from './internal';

export interface DecryptOptions {
  /** Maximum age in seconds. Without it, neither the age nor the clock-skew check runs (as in Python). */
  ttl?: number;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function checkData(data: unknown): asserts data is string | Uint8Array {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new TypeError('data must be a string (encoded as UTF-8) or bytes');
  }
}

function checkIssueTime(time: unknown): asserts time is number {
  // The token holds an unsigned 64-bit count of seconds; Python refuses negatives and non-integers too.
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < 0) {
    throw new RangeError('currentTime must be a whole, non-negative number of seconds');
  }
}

function checkSeconds(value: unknown, name: 'ttl' | 'currentTime'): asserts value is number {
  // NaN would make every age comparison false, i.e. accept any token: refuse it loudly.
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${name} must be a finite number of seconds`);
  }
}

function toText(plaintext: Buffer): string {
  const text = decodeUtf8(plaintext);
  if (text === null) throw new InvalidToken('not_utf8');
  return text;
}

let keyOf: (fernet: Fernet) => FernetKey;

export class Fernet {
  // A private field: the key never shows up in console.log, util.inspect or JSON.stringify.
  readonly #key: FernetKey;
  readonly #self: readonly Fernet[] = [this];

  static {
    keyOf = (fernet) => fernet.#key;
  }

  /** `key`: 44-character url-safe base64 of 32 bytes (as generateKey and deriveKey make), or the 32 bytes. */
  constructor(key: string | Uint8Array) {
    this.#key = parseKey(key);
  }

  static generateKey(): string {
    return randomBytes(32).toString('base64url') + '=';
  }

  encrypt(data: string | Uint8Array): string {
    return this.encryptAtTime(data, nowSeconds());
  }

  encryptAtTime(data: string | Uint8Array, currentTime: number): string {
    checkData(data);
    checkIssueTime(currentTime);
    return encryptToken(this.#key, data, currentTime);
  }

  decrypt(token: string | Uint8Array, options?: DecryptOptions): Buffer {
    const ttl = options?.ttl;
    if (ttl === undefined) return openToken(this.#self, token, undefined, 0).plaintext;
    checkSeconds(ttl, 'ttl');
    return openToken(this.#self, token, ttl, nowSeconds()).plaintext;
  }

  decryptAtTime(token: string | Uint8Array, ttl: number, currentTime: number): Buffer {
    checkSeconds(ttl, 'ttl');
    checkSeconds(currentTime, 'currentTime');
    return openToken(this.#self, token, ttl, currentTime).plaintext;
  }

  /** decrypt, then UTF-8 (strict: bytes that are not UTF-8 are an InvalidToken too). */
  decryptString(token: string | Uint8Array, options?: DecryptOptions): string {
    return toText(this.decrypt(token, options));
  }

  /** The token's timestamp (seconds), once its MAC is verified. No age check. */
  extractTimestamp(token: string | Uint8Array): number {
    return extractTimestamp(this.#self, token);
  }
}

export class MultiFernet {
  readonly #fernets: readonly Fernet[];

  /** Encrypts with the first Fernet; decrypts with whichever of them fits, tried in order. */
  constructor(fernets: readonly Fernet[]) {
    const list = Array.from(fernets);
    if (list.length === 0) throw new TypeError('MultiFernet requires at least one Fernet instance');
    if (!list.every((fernet) => fernet instanceof Fernet)) {
      throw new TypeError('MultiFernet takes Fernet instances only');
    }
    this.#fernets = Object.freeze(list);
  }

  encrypt(data: string | Uint8Array): string {
    return this.encryptAtTime(data, nowSeconds());
  }

  encryptAtTime(data: string | Uint8Array, currentTime: number): string {
    return this.#fernets[0]!.encryptAtTime(data, currentTime);
  }

  decrypt(token: string | Uint8Array, options?: DecryptOptions): Buffer {
    const ttl = options?.ttl;
    if (ttl === undefined) return openToken(this.#fernets, token, undefined, 0).plaintext;
    checkSeconds(ttl, 'ttl');
    return openToken(this.#fernets, token, ttl, nowSeconds()).plaintext;
  }

  decryptAtTime(token: string | Uint8Array, ttl: number, currentTime: number): Buffer {
    checkSeconds(ttl, 'ttl');
    checkSeconds(currentTime, 'currentTime');
    return openToken(this.#fernets, token, ttl, currentTime).plaintext;
  }

  decryptString(token: string | Uint8Array, options?: DecryptOptions): string {
    return toText(this.decrypt(token, options));
  }

  extractTimestamp(token: string | Uint8Array): number {
    return extractTimestamp(this.#fernets, token);
  }

  /** Re-encrypts under the first key, keeping the original timestamp. No age check, as in Python. */
  rotate(token: string | Uint8Array): string {
    const data = decodeToken(token);
    const timestamp = Buffer.from(data.subarray(1, 9)); // the exact 8 bytes, even beyond 2^53
    const { plaintext } = openDecoded(this.#fernets, data, undefined, 0);
    return encryptToken(keyOf(this.#fernets[0]!), plaintext, timestamp);
  }
}

/** Open Library's derivation: url-safe base64 (with '=' padding) of SHA-256 of the UTF-8 secret. */
export function deriveKey(secret: string): string {
  if (typeof secret !== 'string') throw new TypeError('secret must be a string');
  return createHash('sha256').update(secret, 'utf8').digest('base64url') + '=';
}

/** @internal What openToken found. */
export interface OpenedToken {
  readonly plaintext: Buffer;
  /** Index of the Fernet that opened it: 0 is the current key. */
  readonly keyIndex: number;
  readonly timestamp: number;
}

/**
 * @internal Shared by Fernet, MultiFernet and openCookie (which needs to know which key fitted); not
 * re-exported from index.ts. `ttl` undefined: no age check.
 */
export function openToken(
  fernets: readonly Fernet[],
  token: unknown,
  ttl: number | undefined,
  now: number,
): OpenedToken {
  return openDecoded(fernets, decodeToken(token), ttl, now);
}

function openDecoded(
  fernets: readonly Fernet[],
  data: Buffer,
  ttl: number | undefined,
  now: number,
): OpenedToken {
  const timestamp = readTimestamp(data);
  if (ttl !== undefined) checkAge(timestamp, ttl, now);
  let failure: InvalidTokenReason = 'bad_mac';
  for (let keyIndex = 0; keyIndex < fernets.length; keyIndex++) {
    const key = keyOf(fernets[keyIndex]!);
    if (!macMatches(key, data)) continue;
    const plaintext = decryptVerified(key, data);
    if (plaintext !== null) return { plaintext, keyIndex, timestamp };
    failure = 'bad_padding'; // Python goes on to the next key here too
  }
  throw new InvalidToken(failure);
}

function extractTimestamp(fernets: readonly Fernet[], token: unknown): number {
  const data = decodeToken(token);
  for (const fernet of fernets) if (macMatches(keyOf(fernet), data)) return readTimestamp(data);
  throw new InvalidToken('bad_mac');
}
