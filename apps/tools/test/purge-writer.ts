// Test fixture: a second process that keeps updating accounts the way the live server does (read, then update
// with the expected revision, retrying on conflict) until a stop file appears. Prints what it last wrote, and when
// each update was attempted and committed (Unix ms), so a test can tell which ones raced the compaction.
// Usage: node --import tsx test/purge-writer.ts <databaseUrl> <usernames.json> <stopFile>
import { existsSync, readFileSync } from 'node:fs';
import { RevisionConflictError, openAccountStore } from '@lending/accounts';

const [databaseUrl, usernamesFile, stopFile] = process.argv.slice(2);
if (!databaseUrl || !usernamesFile || !stopFile)
  throw new Error('usage: purge-writer <url> <usernames.json> <stop>');
const usernames = JSON.parse(readFileSync(usernamesFile, 'utf8')) as string[];
const store = await openAccountStore(databaseUrl);
const last: Record<string, { lastLogin: string; loginCount: number }> = {};
const timings: [number, number][] = [];
let updates = 0;
let conflicts = 0;
let clock = Date.UTC(2026, 10, 1);

outer: for (let round = 0; ; round++) {
  for (const username of usernames) {
    if (existsSync(stopFile)) break outer;
    const attempted = Date.now();
    for (;;) {
      const account = await store.getByUsername(username);
      if (!account) throw new Error(`account ${username} vanished`);
      const loginCount = (typeof account.loginCount === 'number' ? account.loginCount : 0) + 1;
      const lastLogin = new Date((clock += 1000)).toISOString();
      try {
        await store.update(username, account.revision, { lastLogin, loginCount });
        last[username] = { lastLogin, loginCount };
        updates++;
        break;
      } catch (error) {
        if (!(error instanceof RevisionConflictError)) throw error;
        conflicts++;
      }
    }
    timings.push([attempted, Date.now()]);
  }
  if (round === 0) process.stderr.write('writer: first round done\n');
}
await store.close();
process.stdout.write(JSON.stringify({ updates, conflicts, last, timings }) + '\n');
