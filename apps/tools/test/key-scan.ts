// Finding secrets in raw bytes, fast: one pass over the bytes for runs of the keys' alphabet (letters and
// digits), then every window of a key's length within a run looked up in a Set. A key stored next to other
// letters or digits (PostgreSQL's jsonb writes strings back to back, with no quotes) is still found.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ALPHABET = new Uint8Array(256);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')
  ALPHABET[ch.charCodeAt(0)] = 1;

export class KeySet {
  private readonly keys = new Set<string>();
  private readonly lengths = new Set<number>();

  add(key: string): void {
    if (!/^[A-Za-z0-9]+$/.test(key)) throw new Error('KeySet holds keys of letters and digits only');
    this.keys.add(key);
    this.lengths.add(key.length);
  }

  get size(): number {
    return this.keys.size;
  }

  /** Every key that occurs in `bytes`, each once. */
  findIn(bytes: Uint8Array): Set<string> {
    const found = new Set<string>();
    if (this.keys.size === 0) return found;
    const lengths = [...this.lengths];
    const shortest = Math.min(...lengths);
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const end = buffer.length;
    let i = 0;
    while (i < end) {
      if (ALPHABET[buffer[i]!] === 0) {
        i += 1;
        continue;
      }
      const start = i;
      while (i < end && ALPHABET[buffer[i]!] === 1) i += 1;
      if (i - start < shortest) continue;
      const run = buffer.toString('latin1', start, i);
      for (const length of lengths) {
        for (let at = 0; at + length <= run.length; at += 1) {
          const window = run.slice(at, at + length);
          if (this.keys.has(window)) found.add(window);
        }
      }
    }
    return found;
  }
}

/** Each file of a directory (not recursing) with the keys found in its bytes; every file is listed. */
export function scanDirectory(dir: string, keys: KeySet): { file: string; bytes: number; found: string[] }[] {
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isFile())
    .sort()
    .map((name) => {
      const bytes = readFileSync(join(dir, name));
      return { file: name, bytes: bytes.length, found: [...keys.findIn(bytes)] };
    });
}
