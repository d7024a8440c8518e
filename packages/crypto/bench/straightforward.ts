// Fernet written the obvious way on node:crypto, as a yardstick for the benchmark only: fresh buffers and
// concatenations per call, one randomBytes per IV, raw key Buffers, padded base64 rebuilt by string edits.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export class StraightforwardFernet {
  private readonly signingKey: Buffer;
  private readonly encryptionKey: Buffer;

  constructor(key: string) {
    const raw = Buffer.from(key, 'base64url');
    this.signingKey = raw.subarray(0, 16);
    this.encryptionKey = raw.subarray(16);
  }

  encrypt(data: string): string {
    const iv = randomBytes(16);
    const header = Buffer.alloc(9);
    header[0] = 0x80;
    header.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000)), 1);
    const cipher = createCipheriv('aes-128-cbc', this.encryptionKey, iv);
    const ciphertext = Buffer.concat([cipher.update(data, 'utf8'), cipher.final()]);
    const body = Buffer.concat([header, iv, ciphertext]);
    const mac = createHmac('sha256', this.signingKey).update(body).digest();
    return Buffer.concat([body, mac]).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  }

  decrypt(token: string, ttl: number): Buffer {
    const data = Buffer.from(token, 'base64url');
    if (data.length < 73 || data[0] !== 0x80) throw new Error('Invalid token');
    const timestamp = Number(data.readBigUInt64BE(1));
    const now = Math.floor(Date.now() / 1000);
    if (timestamp + ttl < now || now + 60 < timestamp) throw new Error('Invalid token');
    const mac = createHmac('sha256', this.signingKey).update(data.subarray(0, -32)).digest();
    if (!timingSafeEqual(mac, data.subarray(-32))) throw new Error('Invalid token');
    const decipher = createDecipheriv('aes-128-cbc', this.encryptionKey, data.subarray(9, 25));
    return Buffer.concat([decipher.update(data.subarray(25, -32)), decipher.final()]);
  }
}
