/**
 * The order of usernames in both adapters (their keyset order): SQLite BINARY and PostgreSQL "C" compare UTF-8
 * bytes, i.e. code points.
 */
export function compareUsernames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
