// Builds Fernet tokens by hand from the raw key, for the cases our own encrypt never produces
// (ciphertext without valid PKCS7 padding, a wrong MAC). Test-only.
import { createCipheriv, createHmac } from 'node:crypto';

export interface ForgeOptions {
  /** Seconds. */
  time?: number;
  iv?: Buffer;
  /** Replace the MAC with 32 bytes of 0x41 instead of computing it. */
  wrongMac?: boolean;
}

/** `plaintext` is encrypted as it is, without padding: it must be a whole number of 16-byte blocks. */
export function forgeToken(key: string, plaintext: Buffer, options: ForgeOptions = {}): string {
  const raw = Buffer.from(key, 'base64url');
  const header = Buffer.alloc(9);
  header[0] = 0x80;
  header.writeBigUInt64BE(BigInt(options.time ?? 1_750_000_000), 1);
  const iv = options.iv ?? Buffer.alloc(16, 7);
  const cipher = createCipheriv('aes-128-cbc', raw.subarray(16), iv);
  cipher.setAutoPadding(false);
  const body = Buffer.concat([header, iv, cipher.update(plaintext), cipher.final()]);
  const mac = options.wrongMac
    ? Buffer.alloc(32, 0x41)
    : createHmac('sha256', raw.subarray(0, 16)).update(body).digest();
  return Buffer.concat([body, mac]).toString('base64url');
}

/** Valid PKCS7: the plaintext followed by n bytes of value n. */
export function pkcs7(plaintext: Buffer): Buffer {
  const pad = 16 - (plaintext.length % 16);
  return Buffer.concat([plaintext, Buffer.alloc(pad, pad)]);
}
