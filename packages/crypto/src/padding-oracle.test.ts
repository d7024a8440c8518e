// Padding-oracle regression: a token with a bad MAC must fail the same way whether or not its ciphertext
// would unpad, and must never reach the cipher. node:crypto is wrapped so that every call that decrypts
// (update on any decipher) is seen.
import type * as NodeCrypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { forgeToken, pkcs7 } from '../test/forge';
import { cookieKeys, deriveKey, Fernet, InvalidToken, MultiFernet, openCookie } from './index';

const decryptions = vi.hoisted(() => vi.fn());

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof NodeCrypto>();
  function createDecipheriv(
    algorithm: string,
    key: NodeCrypto.CipherKey,
    iv: NodeCrypto.BinaryLike | null,
  ): NodeCrypto.Decipher {
    const decipher = actual.createDecipheriv(algorithm, key, iv);
    const update = decipher.update.bind(decipher) as (data: NodeJS.ArrayBufferView) => Buffer;
    decipher.update = ((data: NodeJS.ArrayBufferView) => {
      decryptions();
      return update(data);
    }) as typeof decipher.update;
    return decipher;
  }
  return { ...actual, createDecipheriv };
});

const KEY = Fernet.generateKey();
const VALID_PADDING = pkcs7(Buffer.from('{"pur":"session","sub":"alice","rem":false}'));
const BROKEN_PADDING = Buffer.concat([VALID_PADDING.subarray(0, -1), Buffer.from([0])]);

function failure(run: () => unknown) {
  try {
    run();
  } catch (error) {
    return {
      type: (error as object).constructor,
      message: (error as Error).message,
      reason: (error as InvalidToken).reason,
      keys: Object.keys(error as object),
    };
  }
  throw new Error('expected a failure');
}

describe('a bad MAC over valid and over broken padding', () => {
  const fernet = new Fernet(KEY);
  const overValid = forgeToken(KEY, VALID_PADDING, { wrongMac: true });
  const overBroken = forgeToken(KEY, BROKEN_PADDING, { wrongMac: true });
  beforeEach(() => {
    decryptions.mockClear();
  });

  it('the spy sees decryption: a good MAC over each padding reaches the cipher', () => {
    expect(fernet.decrypt(forgeToken(KEY, VALID_PADDING)).toString()).toContain('alice');
    expect(failure(() => fernet.decrypt(forgeToken(KEY, BROKEN_PADDING))).reason).toBe('bad_padding');
    expect(decryptions).toHaveBeenCalledTimes(2);
  });

  it.each([
    ['Fernet.decrypt', (token: string) => fernet.decrypt(token)],
    ['Fernet.decrypt with a ttl', (token: string) => fernet.decryptAtTime(token, 60, 1_750_000_000)],
    ['Fernet.extractTimestamp', (token: string) => fernet.extractTimestamp(token)],
    [
      'MultiFernet.decrypt',
      (token: string) => new MultiFernet([new Fernet(Fernet.generateKey()), fernet]).decrypt(token),
    ],
    ['MultiFernet.rotate', (token: string) => new MultiFernet([fernet]).rotate(token)],
  ])('%s fails identically for both, without decrypting anything', (_name, run) => {
    const valid = failure(() => run(overValid));
    const broken = failure(() => run(overBroken));
    expect(valid).toEqual({
      type: InvalidToken,
      message: 'Invalid token',
      reason: 'bad_mac',
      keys: ['name', 'reason'],
    });
    expect(broken).toEqual(valid);
    expect(decryptions).not.toHaveBeenCalled();
  });

  it('openCookie rejects both as bad_signature, without decrypting anything', () => {
    const secret = 'cookie secret';
    const key = deriveKey(secret);
    const options = { pur: 'session', ttl: 60, now: 1_750_000_000 } as const;
    const keys = cookieKeys(secret, ['previous secret']);
    for (const padding of [VALID_PADDING, BROKEN_PADDING]) {
      expect(openCookie(keys, forgeToken(key, padding, { wrongMac: true }), options)).toEqual({
        ok: false,
        reason: 'bad_signature',
      });
    }
    expect(decryptions).not.toHaveBeenCalled();
  });
});
