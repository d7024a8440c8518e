/** Key (username) order of both adapters: SQLite BINARY and PostgreSQL "C" compare UTF-8 bytes, i.e. code points. */
export function compareKeys(a: string, b: string): number {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return Buffer.compare(x, y);
}
