// The Fernet spec's own vectors (generate, verify, invalid), copied into ./fixtures/fernet-spec (see its README).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Fernet, InvalidToken, MultiFernet } from '../src/index';
import type { InvalidTokenReason } from '../src/index';
import { encryptToken, parseKey } from '../src/internal';

const SPEC = new URL('./fixtures/fernet-spec/', import.meta.url);

interface Vector {
  token: string;
  now: string;
  secret: string;
}
interface GenerateVector extends Vector {
  iv: number[];
  src: string;
}
interface VerifyVector extends Vector {
  ttl_sec: number;
  src: string;
}
interface InvalidVector extends Vector {
  desc: string;
  ttl_sec: number;
}

function load<T>(name: string): T[] {
  const vectors = JSON.parse(readFileSync(new URL(name, SPEC), 'utf8')) as T[];
  if (vectors.length === 0) throw new Error(`no vectors in ${name}`);
  return vectors;
}

const seconds = (iso: string) => Date.parse(iso) / 1000;

describe('generate.json', () => {
  it.each(load<GenerateVector>('generate.json'))('seals $src into the spec token', (vector) => {
    const token = encryptToken(
      parseKey(vector.secret),
      vector.src,
      seconds(vector.now),
      Uint8Array.from(vector.iv),
    );
    expect(token).toBe(vector.token);
    expect(new Fernet(vector.secret).extractTimestamp(token)).toBe(seconds(vector.now));
  });
});

describe('verify.json', () => {
  it.each(load<VerifyVector>('verify.json'))('opens the spec token into $src', (vector) => {
    const now = seconds(vector.now);
    expect(new Fernet(vector.secret).decryptAtTime(vector.token, vector.ttl_sec, now).toString('utf8')).toBe(
      vector.src,
    );
    const multi = new MultiFernet([new Fernet(Fernet.generateKey()), new Fernet(vector.secret)]);
    expect(multi.decryptAtTime(vector.token, vector.ttl_sec, now).toString('utf8')).toBe(vector.src);
  });
});

// The reason each spec case is refused for (for logs; the error itself is the same for all).
const REASONS: Record<string, InvalidTokenReason> = {
  'incorrect mac': 'bad_mac',
  'too short': 'too_short',
  'invalid base64': 'bad_base64',
  'payload size not multiple of block size': 'bad_length',
  'payload padding error': 'bad_padding',
  'far-future TS (unacceptable clock skew)': 'future',
  'expired TTL': 'expired',
  'incorrect IV (causes padding error)': 'bad_padding',
};

describe('invalid.json', () => {
  it.each(load<InvalidVector>('invalid.json'))('refuses: $desc', (vector) => {
    const fernet = new Fernet(vector.secret);
    let thrown: unknown;
    try {
      fernet.decryptAtTime(vector.token, vector.ttl_sec, seconds(vector.now));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidToken);
    expect((thrown as InvalidToken).message).toBe('Invalid token');
    expect((thrown as InvalidToken).reason).toBe(REASONS[vector.desc]);
    expect(() =>
      new MultiFernet([fernet]).decryptAtTime(vector.token, vector.ttl_sec, seconds(vector.now)),
    ).toThrow(InvalidToken);
  });
});
