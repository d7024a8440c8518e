// The purge's promise, checked as an outsider would: random stores from the project's own seed code, the real
// `pnpm purge` as a process, then every seeded access key and secret looked for in the raw bytes of the database's
// files. SQLite: every file in the database's directory. PostgreSQL: every file of the accounts relation (heap,
// TOAST, indexes), with a transaction from before the purge still open when the rewrite starts. Zero hits, and
// every account still there with everything but its keys unchanged.
//
// Seeds are random and printed; replay a failure with PURGE_PROPERTY_SEEDS=<seed,seed,…> (and
// PURGE_PROPERTY_SIZES=<n,n,…> to pick the store sizes; default 3000, 20000 and 50000 accounts).
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { AccountRecord } from '@lending/accounts';
import { readEnv } from '../src/env';
import { runSeedCli } from '../src/seed-cli';
import { countWithKeys, generateAccounts } from '../src/seed';
import { KeySet, scanDirectory } from './key-scan';
import { accountsRelationFiles } from './pg-files';
import {
  backends,
  postgresTarget,
  readAllAccounts,
  runPurge,
  startTool,
  withPg,
  withoutKeys,
} from './purge-helpers';
import type { TestDatabase, ToolResult } from './purge-helpers';

function numbers(raw: string | undefined): number[] | null {
  if (!raw?.trim()) return null;
  const values = raw.split(',').map((value) => Number(value.trim()));
  if (values.some((value) => !Number.isSafeInteger(value) || value < 0)) {
    throw new Error(`not a list of whole numbers: ${raw}`);
  }
  return values;
}

const env = readEnv();
const SEEDS = numbers(env.PURGE_PROPERTY_SEEDS) ?? Array.from({ length: 5 }, () => randomInt(2 ** 31));
const SIZES = numbers(env.PURGE_PROPERTY_SIZES) ?? [3000, 20000, 50000];
console.log(
  `purge property test: seeds ${SEEDS.join(',')} x sizes ${SIZES.join(',')} ` +
    `(replay with PURGE_PROPERTY_SEEDS=${SEEDS.join(',')} PURGE_PROPERTY_SIZES=${SIZES.join(',')})`,
);

/** The share of key holders, from the seed: 10 to 90 percent. */
const withKeysOf = (seed: number): number => 10 + (seed % 81);

const sink = (): PassThrough => new PassThrough().resume();

interface Expected {
  records: Map<string, AccountRecord>;
  keys: KeySet;
  holders: number;
}

/** Seeds the store through the seed command and returns what it wrote: the generator is deterministic. */
async function seed(db: TestDatabase, accounts: number, seedValue: number): Promise<Expected> {
  const withKeysPercent = withKeysOf(seedValue);
  const code = await runSeedCli(
    [
      '--accounts',
      String(accounts),
      '--with-keys',
      String(withKeysPercent),
      '--seed',
      String(seedValue),
      '--database-url',
      db.url,
    ],
    { io: { stdout: sink(), stderr: sink(), stdin: process.stdin }, defaultDatabaseUrl: db.url },
  );
  if (code !== 0) throw new Error(`seeding failed (exit ${code})`);
  const options = { accounts, withKeysPercent, seed: seedValue, tag: seedValue.toString(36) };
  const records = new Map<string, AccountRecord>();
  const keys = new KeySet();
  for (const chunk of generateAccounts(options, 5000)) {
    for (const record of chunk) {
      records.set(record.username, record);
      if (record.s3Keys) {
        keys.add(record.s3Keys.access);
        keys.add(record.s3Keys.secret);
      }
    }
  }
  return { records, keys, holders: countWithKeys(options) };
}

/**
 * The real `pnpm purge --yes --json`. On PostgreSQL a transaction opened before the purge (a report, a backup) is
 * still open when the compaction starts, and ends two seconds later, as such transactions do: it can still see
 * the old row versions, keys included, and a rewrite must not copy them.
 */
async function purgeWithOldTransaction(db: TestDatabase): Promise<ToolResult> {
  const args = ['--yes', '--json', '--database-url', db.url];
  if (db.file) return runPurge(args);
  const holder = new pg.Client({ connectionString: postgresTarget(db.url).connectionString });
  await holder.connect();
  try {
    await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await holder.query('SELECT count(*) FROM pg_class');
    const purge = startTool('src/purge/main.ts', args);
    await purge.waitForStderr(/Compacting/, 120_000).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await holder.query('COMMIT');
    return await purge.done;
  } finally {
    await holder.end();
  }
}

let repackInstalled: Promise<boolean> | undefined;

/** Whether the test database has the pg_repack extension (CI creates it; it must then be used). */
function pgRepackInstalled(): Promise<boolean> {
  repackInstalled ??= withPg(env.DATABASE_URL_TEST, async (client) => {
    const { rowCount } = await client.query(`SELECT 1 FROM pg_extension WHERE extname = 'pg_repack'`);
    if (rowCount === 0 && env.REQUIRE_POSTGRES) {
      throw new Error('CI creates the pg_repack extension in the test database (see .ci/run): it is missing');
    }
    return rowCount !== 0;
  });
  return repackInstalled;
}

const databases: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(databases.splice(0).map((db) => db.dispose()));
});

/** Per file of the accounts relation (heap, TOAST, indexes), how many keys it holds; only files with some. */
async function keysInRelationFiles(databaseUrl: string, keys: KeySet): Promise<string[]> {
  const files = await withPg(databaseUrl, (client) =>
    accountsRelationFiles(client, postgresTarget(databaseUrl).table),
  );
  expect(files.length).toBeGreaterThan(0);
  return files
    .map((f) => ({ relation: f.relation, found: keys.findIn(f.bytes).size }))
    .filter((f) => f.found > 0)
    .map((f) => `${f.relation}: ${f.found} keys`);
}

const cases = SEEDS.flatMap((seedValue) => SIZES.map((accounts) => ({ seed: seedValue, accounts })));

describe.each(await backends())('the purge leaves no key on disk: $name', (backend) => {
  it.each(cases)(
    'seed $seed, $accounts accounts',
    { timeout: 300_000 },
    async ({ seed: seedValue, accounts }) => {
      const replay = `replay: PURGE_PROPERTY_SEEDS=${seedValue} PURGE_PROPERTY_SIZES=${accounts}`;
      const db = await backend.create();
      databases.push(db);
      const expected = await seed(db, accounts, seedValue);

      const result = await purgeWithOldTransaction(db);
      expect(result.code, `${replay}\n${result.stderr}`).toBe(0);
      const summary = JSON.parse(result.stdout) as {
        scanned: number;
        purged: number;
        compaction: { method: string; error: string | null };
      };
      expect(summary, replay).toMatchObject({ scanned: accounts, purged: expected.holders });
      expect(summary.compaction.error, replay).toBeNull();

      // Every account is there, with everything but its keys as seeded; only key holders were written.
      const stored = await readAllAccounts(db.url);
      expect(stored.size, replay).toBe(accounts);
      const wrong: string[] = [];
      for (const [username, record] of expected.records) {
        const account = stored.get(username);
        const { s3Keys: _keys, ...rest } = record;
        if (
          account === undefined ||
          account.s3Keys !== undefined ||
          account.revision !== (record.s3Keys ? 2 : 1) ||
          !isDeepStrictEqual(withoutKeys(account), rest)
        ) {
          wrong.push(username);
        }
      }
      expect(wrong, replay).toEqual([]);

      if (db.file) {
        expect(summary.compaction.method).toBe('sqlite_vacuum');
        const dir = dirname(db.file);
        const scanned = scanDirectory(dir, expected.keys);
        // The database, and at most its (empty) WAL and shared memory: no file of the rebuild left behind.
        expect(
          scanned
            .map((f) => f.file)
            .filter((f) => !['lending.db', 'lending.db-wal', 'lending.db-shm'].includes(f)),
          replay,
        ).toEqual([]);
        expect(scanned.find((f) => f.file === 'lending.db-wal')?.bytes ?? 0, replay).toBe(0);
        const hits = scanned
          .filter((f) => f.found.length > 0)
          .map((f) => `${f.file}: ${f.found.length} keys`);
        expect(hits, replay).toEqual([]);
        expect(readdirSync(dir).length).toBeGreaterThan(0);
      } else {
        expect(summary.compaction.method).toBe((await pgRepackInstalled()) ? 'pg_repack' : 'vacuum_full');
        expect(await keysInRelationFiles(db.url, expected.keys), replay).toEqual([]);
      }
    },
  );
});

const postgres = (await backends()).some((backend) => backend.name === 'postgres');

describe.runIf(postgres)('a PostgreSQL database without the pg_repack extension', () => {
  it(
    'falls back to VACUUM FULL, says why and what it locks, and leaves no key',
    { timeout: 300_000 },
    async () => {
      const name = `lending_purge_${randomBytes(6).toString('hex')}`;
      await withPg(env.DATABASE_URL_TEST, (client) => client.query(`CREATE DATABASE ${name}`));
      const url = new URL(env.DATABASE_URL_TEST);
      url.pathname = `/${name}`;
      const db: TestDatabase = { url: url.toString(), file: null, dispose: () => Promise.resolve() };
      try {
        const seedValue = SEEDS[0] ?? 1;
        const replay = `replay: PURGE_PROPERTY_SEEDS=${seedValue}`;
        const expected = await seed(db, 5000, seedValue);
        const result = await purgeWithOldTransaction(db);
        expect(result.code, `${replay}\n${result.stderr}`).toBe(0);
        const summary = JSON.parse(result.stdout) as {
          purged: number;
          compaction: { method: string; warnings: string[] };
        };
        expect(summary).toMatchObject({ purged: expected.holders, compaction: { method: 'vacuum_full' } });
        expect(result.stderr).toMatch(
          /purge: warning: pg_repack is not available: the pg_repack extension is not installed in this database/,
        );
        expect(result.stderr).toMatch(
          /VACUUM FULL locks the accounts table for every server while it rewrites it/,
        );
        expect(result.stderr).toMatch(/waiting for transactions older than the purge to end: pid \d+/);
        expect(await keysInRelationFiles(db.url, expected.keys), replay).toEqual([]);
      } finally {
        await withPg(env.DATABASE_URL_TEST, (client) =>
          client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
        );
      }
    },
  );
});

describe('the key scanner', () => {
  it('finds a key on its own, inside a longer run of letters and digits, and across nothing else', () => {
    const keys = new KeySet();
    keys.add('ABCDEFGHIJKLMNOP');
    keys.add('qrstuvwxyz012345');
    const find = (text: string) => [...keys.findIn(Buffer.from(text, 'latin1'))].sort();
    expect(find('{"access":"ABCDEFGHIJKLMNOP"}')).toEqual(['ABCDEFGHIJKLMNOP']);
    // jsonb stores strings back to back: keys, then values.
    expect(find('\u0000accesssecretABCDEFGHIJKLMNOPqrstuvwxyz012345\u0001')).toEqual([
      'ABCDEFGHIJKLMNOP',
      'qrstuvwxyz012345',
    ]);
    expect(find('ABCDEFGH-IJKLMNOP ABCDEFGHIJKLMNO')).toEqual([]);
    expect(keys.findIn(readFileSync(new URL(import.meta.url))).size).toBe(2);
  });
});
