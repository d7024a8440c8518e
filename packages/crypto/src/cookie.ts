// Sealed cookies (docs/ARCHITECTURE.md, "Cookies"): a Fernet token around a small JSON payload, bound to a purpose
// (the cookie's name) and to a user. Also reads, and for s3 can write, Open Library's own `access:secret`.
import { createHash, createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { Fernet, deriveKey, InvalidToken, openToken } from './fernet';
import type { InvalidTokenReason } from './fernet';
import { decodeUtf8 } from './internal';

/**
 * `sid` names the session in the account's list of live sessions (revocation), `iat` is the login time in seconds
 * (the absolute cap of a sliding session) and `kfp` the fingerprint of the access key issued with the session
 * (accessKeyFingerprint), which an Open Library-format s3 cookie must match. All three are optional here, where
 * only the format is checked; the API refuses a session without `sid` and `iat`. `pd`: the patron has
 * print-disabled access (xauthn's has_disability_access); absent in older cookies.
 */
export type SessionPayload = {
  pur: 'session';
  sub: string;
  rem: boolean;
  sid?: string;
  iat?: number;
  kfp?: string;
  pd?: boolean;
};
export type S3Payload = { pur: 's3'; sub: string; access: string; secret: string };
export type CookiePayload = SessionPayload | S3Payload;
export type CookiePurpose = CookiePayload['pur'];
export type CookieFormat = 'lending' | 'openlibrary';
export type CookieRejection =
  | 'empty'
  | 'too_large'
  | 'malformed'
  | 'bad_signature'
  | 'expired'
  | 'future'
  | 'bad_payload'
  | 'wrong_purpose'
  | 'wrong_subject';

/** Current secret first, then the previous ones; each turned into a Fernet with deriveKey. */
export interface CookieKeys {
  readonly fernets: readonly Fernet[];
  /**
   * For accessKeyFingerprint, one per secret, in the same order: HMAC-SHA256 of an access key under that secret's
   * fingerprint key. (Functions over key objects held inside, so that the type says nothing of node:crypto: it
   * reaches the typed client's declarations through the router's context.)
   */
  readonly fingerprinters: readonly ((access: string) => Uint8Array)[];
}

/** Browsers keep at most about 4096 bytes per cookie; we refuse to seal more and do not try to open more. */
export const MAX_COOKIE_BYTES = 4096;
// Strings inside a payload: generous for usernames and S3 keys, small against garbage.
const MAX_FIELD_LENGTH = 512;

export class CookieTooLargeError extends Error {
  override readonly name = 'CookieTooLargeError';

  constructor(bytes: number) {
    super(
      `Sealed cookie would be ${bytes} bytes, over the ${MAX_COOKIE_BYTES}-byte limit; store less in it.`,
    );
  }
}

export function cookieKeys(secret: string, previous: readonly string[] = []): CookieKeys {
  const secrets = [secret, ...previous];
  for (const each of secrets) {
    // An empty secret would make cookies anyone can forge: refuse it rather than skip it.
    if (typeof each !== 'string' || each.length === 0) {
      throw new TypeError(
        'cookie secrets must be non-empty strings (check APP_SECRET and APP_SECRET_PREVIOUS)',
      );
    }
  }
  return Object.freeze({
    fernets: Object.freeze(secrets.map((each) => new Fernet(deriveKey(each)))),
    // A key of its own (not the Fernet key), so that a fingerprint reveals nothing about the cookie keys.
    fingerprinters: Object.freeze(
      secrets.map((each) => {
        // A key object made once: an HMAC under a raw buffer key imports the key on every call.
        const key = createSecretKey(
          createHash('sha256').update('lending access-key fingerprint\0').update(each).digest(),
        );
        return (access: string): Uint8Array => createHmac('sha256', key).update(access, 'utf8').digest();
      }),
    ),
  });
}

const FINGERPRINT_BYTES = 16;

/**
 * A keyed fingerprint (HMAC-SHA256 under a key derived from the current secret, 128 bits, base64url) of an
 * archive.org access key: kept in the sealed session to show which keys were issued to it, without the key.
 */
export function accessKeyFingerprint(keys: CookieKeys, access: string): string {
  const fingerprint = keys.fingerprinters[0];
  if (fingerprint === undefined) throw new TypeError('CookieKeys holds no key');
  return Buffer.from(fingerprint(access).subarray(0, FINGERPRINT_BYTES)).toString('base64url');
}

/** Whether `fingerprint` is `access`'s under the current or a previous secret; compared in constant time. */
export function matchesAccessKeyFingerprint(keys: CookieKeys, access: string, fingerprint: string): boolean {
  const given = Buffer.from(fingerprint, 'base64url');
  if (given.length !== FINGERPRINT_BYTES) return false;
  let match = false;
  for (const fingerprintOf of keys.fingerprinters) {
    const expected = fingerprintOf(access).subarray(0, FINGERPRINT_BYTES);
    // Every key is tried (no early exit), so the time does not tell which secret matched.
    if (timingSafeEqual(expected, given)) match = true;
  }
  return match;
}

export interface SealOptions {
  /** 'openlibrary' (s3 only) writes Open Library's plaintext `access:secret`. Default 'lending' (JSON). */
  format?: CookieFormat;
  /** Issue time in seconds; default now. */
  now?: number;
}

/** Throws CookieTooLargeError over 4096 bytes, TypeError on a payload openCookie would refuse. */
export function sealCookie(keys: CookieKeys, payload: CookiePayload, options: SealOptions = {}): string {
  const format = options.format ?? 'lending';
  const parsed = parsePayload(payload);
  if (parsed === null) {
    throw new TypeError(
      "not a valid cookie payload: pur 'session' with sub and rem, or 's3' with sub, access and secret; " +
        `strings non-empty and at most ${MAX_FIELD_LENGTH} characters, rem (and the optional pd) a boolean, no other fields`,
    );
  }
  let plaintext: string;
  if (format === 'lending') {
    plaintext = JSON.stringify(parsed); // parsePayload rebuilt it: known fields only, in a fixed order
  } else if (format !== 'openlibrary') {
    throw new TypeError("format must be 'lending' or 'openlibrary'");
  } else if (parsed.pur === 's3' && !parsed.access.includes(':')) {
    plaintext = `${parsed.access}:${parsed.secret}`;
  } else {
    throw new TypeError("format 'openlibrary' needs an s3 payload whose access key has no ':'");
  }
  const current = keys.fernets[0];
  if (current === undefined) throw new TypeError('CookieKeys holds no key');
  const token = current.encryptAtTime(plaintext, options.now ?? Math.floor(Date.now() / 1000));
  if (token.length > MAX_COOKIE_BYTES) throw new CookieTooLargeError(token.length);
  return token;
}

export interface OpenOptions<P extends CookiePurpose> {
  /** The cookie's purpose; the payload's `pur` must match. */
  pur: P;
  /** When given, the payload's `sub` must match (Open Library tokens take it, as they carry no user). */
  sub?: string;
  /** Maximum age in seconds. */
  ttl: number;
  /** Seconds; default now. */
  now?: number;
}

export type OpenedCookie<P extends CookiePurpose> =
  | {
      ok: true;
      payload: Extract<CookiePayload, { pur: P }>;
      format: CookieFormat;
      /** Opened with a previous secret: re-issue it under the current one. */
      oldKey: boolean;
      issuedAt: number;
    }
  | { ok: false; reason: CookieRejection };

const REJECTION: Record<InvalidTokenReason, CookieRejection> = {
  not_a_token: 'malformed',
  bad_base64: 'malformed',
  bad_version: 'malformed',
  too_short: 'malformed',
  bad_length: 'malformed',
  expired: 'expired',
  future: 'future',
  bad_mac: 'bad_signature',
  bad_padding: 'malformed',
  not_utf8: 'bad_payload',
};

/**
 * Never throws on a bad token (the reason says what was wrong; log it, never the value). Throws TypeError only
 * when the options themselves are wrong, which is a programming error.
 */
export function openCookie<P extends CookiePurpose>(
  keys: CookieKeys,
  token: string | null | undefined,
  options: OpenOptions<P>,
): OpenedCookie<P> {
  const { pur, sub, ttl } = options;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (pur !== 'session' && pur !== 's3') throw new TypeError("pur must be 'session' or 's3'");
  if (sub !== undefined && typeof sub !== 'string') throw new TypeError('sub must be a string');
  if (typeof ttl !== 'number' || !Number.isFinite(ttl)) throw new TypeError('ttl must be a finite number');
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new TypeError('now must be a finite number');

  if (token === null || token === undefined || token === '') return reject('empty');
  if (typeof token !== 'string') return reject('malformed');
  if (token.length > MAX_COOKIE_BYTES) return reject('too_large');
  let value = token;
  // Open Library's web.py writes cookie values URL-quoted, so its padding arrives as %3D.
  if (value.includes('%')) {
    try {
      value = decodeURIComponent(value);
    } catch {
      return reject('malformed');
    }
  }

  let opened;
  try {
    opened = openToken(keys.fernets, value, ttl, now);
  } catch (error) {
    if (error instanceof InvalidToken) return reject(REJECTION[error.reason]);
    throw error;
  }

  const text = decodeUtf8(opened.plaintext);
  if (text === null) return reject('bad_payload');
  let payload: CookiePayload;
  let format: CookieFormat;
  if (text.startsWith('{')) {
    const parsed = parsePayload(parseJson(text));
    if (parsed === null) return reject('bad_payload');
    payload = parsed;
    format = 'lending';
  } else {
    const keyPair = parseOpenLibrary(text);
    if (keyPair === null) return reject('bad_payload');
    payload = { pur: 's3', sub: sub ?? '', ...keyPair };
    format = 'openlibrary';
  }
  if (payload.pur !== pur) return reject('wrong_purpose');
  if (sub !== undefined && payload.sub !== sub) return reject('wrong_subject');
  return {
    ok: true,
    payload: payload as Extract<CookiePayload, { pur: P }>,
    format,
    oldKey: opened.keyIndex > 0,
    issuedAt: opened.timestamp,
  };
}

function reject(reason: CookieRejection): { ok: false; reason: CookieRejection } {
  return { ok: false, reason };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isField(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_FIELD_LENGTH;
}

function hasExactly(value: object, keys: readonly string[]): boolean {
  const own = Object.keys(value);
  return own.length === keys.length && keys.every((key) => Object.hasOwn(value, key));
}

const SESSION_KEYS = ['pur', 'sub', 'rem'] as const;
const SESSION_OPTIONAL = ['sid', 'iat', 'kfp', 'pd'] as const;

function hasExactlyWithOptional(
  value: object,
  keys: readonly string[],
  optional: readonly string[],
): boolean {
  const own = Object.keys(value);
  return (
    keys.every((key) => Object.hasOwn(value, key)) &&
    own.every((key) => keys.includes(key) || optional.includes(key))
  );
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
const S3_KEYS = ['pur', 'sub', 'access', 'secret'] as const;

/** The payload rebuilt with exactly its known fields, or null when it is not exactly a valid payload. */
function parsePayload(value: unknown): CookiePayload | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  const { pur, sub } = record;
  if (!isField(sub)) return null;
  if (pur === 'session') {
    const { rem, sid, iat, kfp, pd } = record;
    if (!hasExactlyWithOptional(record, SESSION_KEYS, SESSION_OPTIONAL) || typeof rem !== 'boolean')
      return null;
    if (sid !== undefined && !isField(sid)) return null;
    if (iat !== undefined && !isTime(iat)) return null;
    if (kfp !== undefined && !isField(kfp)) return null;
    // `pd` is optional (cookies sealed before it existed have none).
    if (pd !== undefined && typeof pd !== 'boolean') return null;
    // Rebuilt in a fixed order, absent fields left out.
    return {
      pur,
      sub,
      rem,
      ...(sid === undefined ? {} : { sid }),
      ...(iat === undefined ? {} : { iat }),
      ...(kfp === undefined ? {} : { kfp }),
      ...(pd === undefined ? {} : { pd }),
    };
  }
  if (pur === 's3') {
    const { access, secret } = record;
    if (!hasExactly(record, S3_KEYS) || !isField(access) || !isField(secret)) return null;
    return { pur, sub, access, secret };
  }
  return null;
}

// Open Library: `${access}:${secret}`, split at the first ':' (so only the secret may contain one).
// Printable ASCII only: S3 keys are, and anything else is garbage that happened to carry a valid MAC.
const OPEN_LIBRARY_PLAINTEXT = /^([!-9;-~]{1,512}):([!-~]{1,512})$/;

function parseOpenLibrary(text: string): { access: string; secret: string } | null {
  const match = OPEN_LIBRARY_PLAINTEXT.exec(text);
  if (match === null) return null;
  return { access: match[1]!, secret: match[2]! };
}
