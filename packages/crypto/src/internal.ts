// The Fernet token format at the byte level (https://github.com/fernet/spec/blob/master/Spec.md):
//   0x80 ‖ timestamp (8 bytes, big-endian seconds) ‖ IV (16) ‖ AES-128-CBC ciphertext (PKCS7) ‖ HMAC-SHA256 (32)
// Not part of the public API: index.ts does not re-export this module. Tests import encryptToken from here to
// pass a fixed IV (the spec's generate vectors); everything else goes through the classes in fernet.ts.
//
// Every call is synchronous and finishes before returning, so the module-level scratch buffers below are never
// shared between two calls in flight. They exist because cookies are opened on every request: each token is
// decoded into one preallocated buffer and each token is written once from one.
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  randomFillSync,
  timingSafeEqual,
} from 'node:crypto';
import type { Decipher, KeyObject } from 'node:crypto';

/** Why a token was refused. For logs and metrics only: the error message never says. */
export type InvalidTokenReason =
  | 'not_a_token' // neither a string nor bytes
  | 'bad_base64'
  | 'bad_version'
  | 'too_short' // no room for version, timestamp, IV and MAC
  | 'bad_length' // the ciphertext is not a whole, non-zero number of AES blocks
  | 'expired'
  | 'future'
  | 'bad_mac'
  | 'bad_padding' // only reachable with a valid MAC, i.e. a token made with the key
  | 'not_utf8'; // decryptString only

/** The only error a decryption failure throws. The message is always 'Invalid token'; `reason` is for logs. */
export class InvalidToken extends Error {
  override readonly name = 'InvalidToken';
  readonly reason: InvalidTokenReason;

  constructor(reason: InvalidTokenReason) {
    super('Invalid token');
    this.reason = reason;
  }
}

const VERSION = 0x80;
const MAX_CLOCK_SKEW = 60;
const BLOCK = 16;
const HEADER = 25; // version + timestamp + IV
const MAC = 32;

/** The two halves of a Fernet key, turned into key objects once. */
export interface FernetKey {
  readonly signing: KeyObject;
  readonly encryption: KeyObject;
  /** AES-128 block decryption under the encryption key, kept for the key's lifetime (see decryptVerified). */
  readonly decryptBlocks: Decipher;
}

const KEY_ERROR =
  'Fernet key must be 32 url-safe base64-encoded bytes (make one with Fernet.generateKey() or deriveKey()).';
// Python's urlsafe_b64decode also accepts '+' and '/', so keys written by other tools work the same way.
const KEY_PATTERN = /^[A-Za-z0-9_+/-]{43}=$/;

export function parseKey(key: unknown): FernetKey {
  let raw: Buffer;
  if (typeof key === 'string') {
    if (!KEY_PATTERN.test(key)) throw new TypeError(KEY_ERROR);
    raw = Buffer.from(key, 'base64url');
  } else if (key instanceof Uint8Array) {
    if (key.length !== 32) throw new TypeError(KEY_ERROR);
    raw = Buffer.from(key);
  } else {
    throw new TypeError(KEY_ERROR);
  }
  const encryption = createSecretKey(raw.subarray(16));
  const decryptBlocks = createDecipheriv('aes-128-ecb', encryption, null);
  decryptBlocks.setAutoPadding(false); // whole blocks in, whole blocks out, no state kept between calls
  const parsed = { signing: createSecretKey(raw.subarray(0, 16)), encryption, decryptBlocks };
  raw.fill(0);
  return parsed;
}

// IVs are drawn from a pool refilled in bulk: one randomFillSync per call costs about as much as the HMAC.
const IV_POOL = Buffer.alloc(BLOCK * 256);
let ivOffset = IV_POOL.length;

function writeRandomIv(target: Buffer, offset: number): void {
  if (ivOffset === IV_POOL.length) {
    randomFillSync(IV_POOL);
    ivOffset = 0;
  }
  IV_POOL.copy(target, offset, ivOffset, ivOffset + BLOCK);
  ivOffset += BLOCK;
}

// base64 of n bytes, where n = 57 + 16k, needs this many '=' to be padded like Python's urlsafe_b64encode.
const PADDING = ['', '==', '='] as const;
const ENCRYPT_SCRATCH = Buffer.alloc(8192);

/**
 * Seals `data` at `time` (seconds, or the 8 raw timestamp bytes of another token, for rotate).
 * `iv` is for the spec's test vectors only; normal calls draw a random IV.
 */
export function encryptToken(
  key: FernetKey,
  data: string | Uint8Array,
  time: number | Uint8Array,
  iv?: Uint8Array,
): string {
  // Worst case: 3 UTF-8 bytes per UTF-16 code unit, plus a full block of padding, plus header and MAC.
  const worst = (typeof data === 'string' ? data.length * 3 : data.length) + BLOCK + HEADER + MAC;
  const out = worst <= ENCRYPT_SCRATCH.length ? ENCRYPT_SCRATCH : Buffer.allocUnsafe(worst);
  let length: number;
  if (typeof data === 'string') {
    length = out.write(data, HEADER, 'utf8');
  } else {
    out.set(data, HEADER);
    length = data.length;
  }
  const pad = BLOCK - (length % BLOCK);
  out.fill(pad, HEADER + length, HEADER + length + pad);
  const bodyEnd = HEADER + length + pad;

  out[0] = VERSION;
  if (typeof time === 'number') {
    out.writeUInt32BE(Math.floor(time / 0x100000000), 1);
    out.writeUInt32BE(time >>> 0, 5);
  } else {
    out.set(time, 1);
  }
  if (iv === undefined) writeRandomIv(out, 9);
  else out.set(iv, 9);

  const cipher = createCipheriv('aes-128-cbc', key.encryption, out.subarray(9, HEADER));
  cipher.setAutoPadding(false); // padded above, in place
  out.set(cipher.update(out.subarray(HEADER, bodyEnd)), HEADER); // overwrites the plaintext
  out.set(createHmac('sha256', key.signing).update(out.subarray(0, bodyEnd)).digest(), bodyEnd);
  const total = bodyEnd + MAC;
  return out.toString('base64url', 0, total) + PADDING[total % 3]!;
}

const DECODE_SCRATCH = Buffer.alloc(8192);
const BASE64_ALPHABET = /^[A-Za-z0-9_+/-]*={0,2}$/;

/**
 * Checks, in order: type, base64 (url-safe; padded or not), version, length. Returns the token's bytes, in a
 * scratch buffer that the next call overwrites: use them before calling back into this module.
 */
export function decodeToken(token: unknown): Buffer {
  let text: string;
  if (typeof token === 'string') text = token;
  else if (token instanceof Uint8Array)
    text = Buffer.from(token.buffer, token.byteOffset, token.byteLength).toString('latin1');
  else throw new InvalidToken('not_a_token');

  // Node's decoder reads only the low byte of each UTF-16 unit ('\u0141' would pass for 'A'), so check the
  // alphabet first. ('+' and '/' decode like '-' and '_', as in Python.)
  if (!BASE64_ALPHABET.test(text)) throw new InvalidToken('bad_base64');
  let chars = text.length;
  if (chars > 0 && text.charCodeAt(chars - 1) === 0x3d) {
    chars -= text.charCodeAt(chars - 2) === 0x3d ? 2 : 1;
    if (text.length % 4 !== 0) throw new InvalidToken('bad_base64');
  } else if (chars % 4 === 1) {
    throw new InvalidToken('bad_base64');
  }
  const expected = Math.floor((chars * 3) / 4);
  const buffer = expected <= DECODE_SCRATCH.length ? DECODE_SCRATCH : Buffer.allocUnsafe(expected);
  // Node stops at an '=' inside the text, which shows up as a short count here.
  if (buffer.write(text, 0, 'base64url') !== expected) throw new InvalidToken('bad_base64');
  const data = buffer.subarray(0, expected);

  if (expected === 0 || data[0] !== VERSION) throw new InvalidToken('bad_version');
  if (expected < HEADER + MAC) throw new InvalidToken('too_short');
  const ciphertext = expected - HEADER - MAC;
  if (ciphertext === 0 || ciphertext % BLOCK !== 0) throw new InvalidToken('bad_length');
  return data;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Strict UTF-8 (a byte-order mark is kept); null when the bytes are not UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/** Seconds. Exact up to 2^53; beyond that only a key holder could have made the token anyway. */
export function readTimestamp(data: Buffer): number {
  return data.readUInt32BE(1) * 0x100000000 + data.readUInt32BE(5);
}

export function checkAge(timestamp: number, ttl: number, now: number): void {
  if (timestamp + ttl < now) throw new InvalidToken('expired');
  if (now + MAX_CLOCK_SKEW < timestamp) throw new InvalidToken('future');
}

/** HMAC-SHA256 over everything before the MAC, compared in constant time. */
export function macMatches(key: FernetKey, data: Buffer): boolean {
  const end = data.length - MAC;
  const mac = createHmac('sha256', key.signing).update(data.subarray(0, end)).digest();
  return timingSafeEqual(mac, data.subarray(end));
}

/**
 * Decrypts a token whose MAC has been checked; null when its padding is wrong.
 * AES-CBC decryption by its definition, P[i] = AES⁻¹(C[i]) ⊕ C[i-1] with C[-1] = IV: one long-lived block
 * decipher per key instead of a new CBC decipher per token, whose creation costs as much as the rest of the
 * decryption. The IV sits right before the ciphertext, so C[i-1] for P[i] is the byte 16 places back.
 */
export function decryptVerified(key: FernetKey, data: Buffer): Buffer | null {
  const padded = key.decryptBlocks.update(data.subarray(HEADER, data.length - MAC));
  for (let i = 0; i < padded.length; i++) padded[i]! ^= data[HEADER - BLOCK + i]!;
  // The MAC is already verified, so this check cannot serve as a padding oracle.
  const pad = padded[padded.length - 1]!;
  if (pad < 1 || pad > BLOCK) return null;
  for (let i = padded.length - pad; i < padded.length; i++) if (padded[i] !== pad) return null;
  return padded.subarray(0, padded.length - pad);
}
