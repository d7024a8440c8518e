import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

// scrypt with node's defaults (N=16384, r=8, p=1), 16-byte salt, 64-byte hash; stored as `salt$hash` in hex.
const KEY_LENGTH = 64;

function scryptAsync(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, (error, derived) => (error ? reject(error) : resolve(derived)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt);
  return `${salt.toString('hex')}$${hash.toString('hex')}`;
}

// A well-formed hash nobody's password matches: checked when the email is unknown, so timing does not tell.
const DUMMY_HASH = `${'00'.repeat(16)}$${'00'.repeat(KEY_LENGTH)}`;

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const [saltHex, hashHex] = (stored ?? DUMMY_HASH).split('$');
  const expected = Buffer.from(hashHex ?? '', 'hex');
  if (!saltHex || expected.length !== KEY_LENGTH) return false;
  const actual = await scryptAsync(password, Buffer.from(saltHex, 'hex'));
  return timingSafeEqual(actual, expected) && stored !== null;
}
