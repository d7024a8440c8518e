// `pnpm purge` end to end, as real subprocesses, on both adapters: a store of a few thousand accounts, some
// holding legacy keys.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Account } from '@lending/accounts';
import { KeySet, scanDirectory } from './key-scan';
import { accountsRelationFiles } from './pg-files';
import {
  backends,
  postgresDump,
  postgresTarget,
  readAllAccounts,
  runPurge,
  seedStore,
  sqliteFileHashes,
  startTool,
  withPg,
  withoutKeys,
} from './purge-helpers';
import type { TestDatabase } from './purge-helpers';

const ACCOUNTS = 3000;
const WITH_KEYS = 30;
const EXPECTED_WITH_KEYS = 900;

interface Summary {
  dryRun: boolean;
  scanned: number;
  withKeys: number;
  purged: number;
  errors: number;
  complete: boolean;
  interrupted: boolean;
  failed: unknown[];
  elapsedMs: number;
  rate: number;
  usernamesWithKeys?: string[];
}

function keyHolders(accounts: Map<string, Account>): Account[] {
  return [...accounts.values()].filter((account) => account.s3Keys !== undefined);
}

function keysOf(accounts: Map<string, Account>): KeySet {
  const keys = new KeySet();
  for (const account of keyHolders(accounts)) {
    keys.add(account.s3Keys!.access);
    keys.add(account.s3Keys!.secret);
  }
  return keys;
}

/** The keys found in the database's files: every file of a SQLite directory, or the accounts relation's. */
async function keysOnDisk(db: TestDatabase, keys: KeySet): Promise<string[]> {
  if (db.file) {
    return scanDirectory(dirname(db.file), keys).flatMap((file) =>
      file.found.map((key) => `${file.file}: ${key}`),
    );
  }
  const files = await withPg(db.url, (client) => accountsRelationFiles(client, postgresTarget(db.url).table));
  return files.flatMap((file) => [...keys.findIn(file.bytes)].map((key) => `${file.relation}: ${key}`));
}

const databases: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(databases.splice(0).map((db) => db.dispose()));
});

describe.each(await backends())('pnpm purge on $name', (backend) => {
  async function seeded(): Promise<{ db: TestDatabase; before: Map<string, Account> }> {
    const db = await backend.create();
    databases.push(db);
    await seedStore(db.url, ACCOUNTS, WITH_KEYS);
    const before = await readAllAccounts(db.url);
    expect(before.size).toBe(ACCOUNTS);
    expect(keyHolders(before)).toHaveLength(EXPECTED_WITH_KEYS);
    return { db, before };
  }

  it(
    'dry run lists who holds keys, never the keys, and writes nothing at all',
    { timeout: 120_000 },
    async () => {
      const { db, before } = await seeded();
      const fingerprint = async (): Promise<unknown> =>
        db.file ? sqliteFileHashes(db.file) : await postgresDump(db.url);
      const untouched = await fingerprint();

      const listed = await runPurge(['--dry-run', '--batch-size', '250', '--database-url', db.url]);
      expect(listed.code, listed.stderr).toBe(0);
      const holders = keyHolders(before).map((account) => account.username);
      expect(listed.stdout.trim().split('\n').sort()).toEqual([...holders].sort());
      expect(listed.stderr).toContain('Dry run: nothing was written.');
      for (const account of keyHolders(before).slice(0, 50)) {
        expect(listed.stdout + listed.stderr).not.toContain(account.s3Keys?.secret);
        expect(listed.stdout + listed.stderr).not.toContain(account.s3Keys?.access);
      }

      const json = await runPurge(['--dry-run', '--json', '--database-url', db.url]);
      expect(json.code, json.stderr).toBe(0);
      const summary = JSON.parse(json.stdout) as Summary;
      expect(summary).toMatchObject({
        dryRun: true,
        scanned: ACCOUNTS,
        withKeys: EXPECTED_WITH_KEYS,
        purged: 0,
      });
      expect(summary.usernamesWithKeys?.sort()).toEqual([...holders].sort());

      expect(await fingerprint()).toEqual(untouched);
    },
  );

  it(
    'a real run removes every key and changes no other field of any record',
    { timeout: 120_000 },
    async () => {
      const { db, before } = await seeded();
      const result = await runPurge(['--yes', '--json', '--batch-size', '400', '--database-url', db.url]);
      expect(result.code, result.stderr).toBe(0);
      const summary = JSON.parse(result.stdout) as Summary;
      expect(summary).toMatchObject({
        dryRun: false,
        scanned: ACCOUNTS,
        withKeys: EXPECTED_WITH_KEYS,
        purged: EXPECTED_WITH_KEYS,
        errors: 0,
        complete: true,
        interrupted: false,
        failed: [],
      });
      expect(summary.rate).toBeGreaterThan(0);
      expect(result.stderr).toMatch(/Scanned\s+3,000 accounts/);
      expect(result.stderr).toMatch(/Purged\s+900/);

      const after = await readAllAccounts(db.url);
      expect(after.size).toBe(ACCOUNTS);
      for (const [username, old] of before) {
        const now = after.get(username);
        expect(now?.s3Keys).toBeUndefined();
        expect(now && withoutKeys(now)).toEqual(withoutKeys(old));
        // Only records that held keys were written.
        expect(now?.revision).toBe(old.s3Keys ? old.revision + 1 : old.revision);
      }

      // No trace of any removed key in the database's files (the property test does this on random stores).
      expect(await keysOnDisk(db, keysOf(before))).toEqual([]);
      if (db.file) {
        // No record holds the field any more (the schema may name it, e.g. in a partial index's WHERE).
        expect(readFileSync(db.file).includes('"s3Keys"')).toBe(false);
      }

      const again = await runPurge(['--yes', '--json', '--database-url', db.url]);
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ scanned: ACCOUNTS, withKeys: 0, purged: 0 });
    },
  );

  it(
    'loses no write of a second process updating the same accounts meanwhile, compaction included, and leaves no key',
    { timeout: 180_000 },
    async () => {
      const { db, before } = await seeded();
      const dir = db.file ? join(db.file, '..') : (await import('node:os')).tmpdir();
      const stopFile = join(dir, `stop-${process.pid}-${Date.now()}`);
      const usernamesFile = join(dir, `writer-${process.pid}-${Date.now()}.json`);
      // Every fifth account, key holders and others alike, spread over the whole key range.
      const targets = [...before.keys()].filter((_, i) => i % 5 === 0);
      writeFileSync(usernamesFile, JSON.stringify(targets));

      const writer = startTool('test/purge-writer.ts', [db.url, usernamesFile, stopFile]);
      await writer.waitForStderr(/writer: first round done/, 60_000);
      const purge = await runPurge(['--yes', '--json', '--batch-size', '20', '--database-url', db.url]);
      writeFileSync(stopFile, '');
      const written = await writer.done;
      expect(purge.code, purge.stderr).toBe(0);
      expect(written.code, written.stderr).toBe(0);
      const report = JSON.parse(written.stdout) as {
        updates: number;
        last: Record<string, { lastLogin: string; loginCount: number }>;
        timings: [number, number][];
      };
      expect(report.updates).toBeGreaterThan(targets.length);
      const summary = JSON.parse(purge.stdout) as Summary & {
        compaction: { startedAt: string; finishedAt: string; error: string | null };
      };
      expect(summary).toMatchObject({ scanned: ACCOUNTS, purged: EXPECTED_WITH_KEYS, errors: 0 });
      expect(summary.compaction.error).toBeNull();
      // Some of the writer's updates raced the rewrite itself (attempted before it ended, committed after it began).
      const [from, to] = [
        Date.parse(summary.compaction.startedAt),
        Date.parse(summary.compaction.finishedAt),
      ];
      expect(
        report.timings.filter(([attempted, committed]) => attempted <= to && committed >= from).length,
      ).toBeGreaterThan(0);
      expect(await keysOnDisk(db, keysOf(before))).toEqual([]);

      const after = await readAllAccounts(db.url);
      for (const [username, old] of before) {
        const now = after.get(username);
        expect(now?.s3Keys, username).toBeUndefined();
        const mine = report.last[username];
        if (mine) {
          // The writer's last update is there, and the keys did not come back with it.
          expect(now?.lastLogin).toBe(mine.lastLogin);
          expect(now?.loginCount).toBe(mine.loginCount);
          const { lastLogin: _a, loginCount: _b, ...rest } = withoutKeys(now as Account);
          const { lastLogin: _c, ...was } = withoutKeys(old);
          expect(rest).toEqual(was);
        } else {
          expect(now && withoutKeys(now)).toEqual(withoutKeys(old));
        }
      }
    },
  );

  it(
    'stops after the current batch on SIGINT with exit 130, and a rerun finishes',
    { timeout: 120_000 },
    async () => {
      const { db, before } = await seeded();
      const first = startTool('src/purge/main.ts', [
        '--yes',
        '--json',
        '--batch-size',
        '3',
        '--database-url',
        db.url,
      ]);
      // The first progress line comes after the first batch: the walk is under way.
      await first.waitForStderr(/^purge: .* accounts scanned/m);
      first.child.kill('SIGINT');
      const stopped = await first.done;
      expect(stopped.code, stopped.stderr).toBe(130);
      expect(stopped.stderr).toContain('SIGINT: stopping after the current batch');
      expect(stopped.stderr).toContain('run the command again to finish');
      const partial = JSON.parse(stopped.stdout) as Summary;
      expect(partial).toMatchObject({ interrupted: true, complete: false, errors: 0 });
      expect(partial.scanned).toBeGreaterThan(0);
      expect(partial.scanned).toBeLessThan(ACCOUNTS);

      const midway = await readAllAccounts(db.url);
      const left = keyHolders(midway).length;
      expect(left).toBe(EXPECTED_WITH_KEYS - partial.purged);
      expect(left).toBeGreaterThan(0);

      const rerun = await runPurge(['--yes', '--json', '--database-url', db.url]);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(JSON.parse(rerun.stdout)).toMatchObject({ complete: true, purged: left, scanned: ACCOUNTS });
      const after = await readAllAccounts(db.url);
      expect(keyHolders(after)).toHaveLength(0);
      for (const [username, old] of before)
        expect(withoutKeys(after.get(username) as Account)).toEqual(withoutKeys(old));
    },
  );
});
