// Rebuilds one SQLite database in place, then empties its WAL. Started by sqlite.ts (SqliteAccountsAdmin.compact)
// as a process of its own, whose environment (SQLITE_TMPDIR) puts VACUUM's temporary copy of the database in the
// database's own directory. Prints one JSON line: {"ok":true} or {"ok":false,"error":…,"code":…}.
// Usage: node sqlite-rebuild.mjs <database file>
import Database from 'better-sqlite3';

const BUSY_TIMEOUT_MS = 5000;
const CHECKPOINT_ATTEMPTS = 20;

const file = process.argv[2];
let db;
try {
  if (!file) throw new Error('usage: sqlite-rebuild.mjs <database file>');
  db = new Database(file, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  db.pragma('secure_delete = ON');
  // VACUUM's temporary database goes to a file (the database may be larger than memory), in SQLITE_TMPDIR, and a
  // small page cache (SQLite's own default, 2 MB) keeps this process small: the copy lives in that file.
  db.pragma('temp_store = FILE');
  db.pragma('cache_size = -2000');
  // One write transaction: it waits for the write lock (busy timeout), writers wait for it, readers keep their
  // snapshot until it commits. Every page is rewritten from the live rows; the file shrinks to what they need.
  db.exec('VACUUM');
  // The rebuilt pages are in the WAL, and older WAL frames may still hold old page images: copy the WAL into the
  // database and truncate it to zero bytes. TRUNCATE waits for readers of older snapshots; they are short.
  for (let attempt = 1; ; attempt += 1) {
    const [result] = db.pragma('wal_checkpoint(TRUNCATE)');
    if (result.busy === 0) break;
    if (attempt >= CHECKPOINT_ATTEMPTS) {
      throw Object.assign(
        new Error('the WAL could not be emptied: another connection kept reading; run again'),
        {
          code: 'SQLITE_BUSY',
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  db.close();
  process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
} catch (error) {
  try {
    db?.close();
  } catch {
    // already failing
  }
  // SQLite's messages name tables and constraints, never row values.
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof error?.code === 'string' ? error.code : undefined;
  process.stdout.write(`${JSON.stringify({ ok: false, error: message, code })}\n`);
  process.exitCode = 1;
}
