// @lending/accounts/admin on both adapters: bulk insert equals create, the count, and the compaction after a
// purge (SQLite rebuilt in place; PostgreSQL rewritten by pg_repack or VACUUM FULL). The end-to-end property tests
// of the purge (random stores, raw bytes of every file) live in apps/tools.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openAccountsAdmin } from '../src/admin/index';
import { libpqEnvironment } from '../src/admin/pg-repack';
import { AccountExistsError } from '../src/errors';
import { openAccountStore } from '../src/store/index';
import type { NewAccount } from '../src/types';
import { pgProblem, pgUrl, requirePostgres } from './audit-helpers';

function newAccount(i: number, extra: Partial<NewAccount> = {}): NewAccount {
  return {
    username: `patron-${String(i).padStart(4, '0')}`,
    email: `Patron-${i}@Example.org`,
    displayName: `Patron ${i}`,
    status: 'active',
    itemname: i % 3 === 0 ? null : `@patron${i}`,
    createdOn: '2020-01-01T00:00:00.000Z',
    preferences: { lang: 'fr' },
    ...extra,
  };
}

const keysOf = (i: number) => ({ access: `ACCESSKEY${i}zzzzzz`, secret: `SECRETKEY${i}qqqqqq` });

interface Target {
  url: string;
  dir: string | null;
  dispose(): Promise<void>;
}

const tempRoot = mkdtempSync(join(tmpdir(), 'lending-admin-'));
afterAll(() => rmSync(tempRoot, { recursive: true, force: true }));

const usePostgres = pgProblem === null || requirePostgres;
/**
 * A database of this file's own: the compaction waits for every older transaction in its database, so other
 * tests' work in the shared test database must not be in it.
 */
const ownDatabase = `lending_admin_${randomBytes(6).toString('hex')}`;
const ownUrl = (() => {
  const url = new URL(pgUrl);
  url.pathname = `/${ownDatabase}`;
  return url.toString();
})();
if (usePostgres) {
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${ownDatabase}`);
  await admin.end();
}
afterAll(async () => {
  if (!usePostgres) return;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${ownDatabase} WITH (FORCE)`);
  await admin.end();
});

async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ownUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const targets: { name: string; make: () => Target }[] = [
  {
    name: 'SQLite',
    make: () => {
      const dir = mkdtempSync(join(tempRoot, 'db-'));
      return {
        url: `sqlite:${join(dir, 'accounts.db')}`,
        dir,
        dispose: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
      };
    },
  },
];
if (usePostgres) {
  targets.push({
    name: 'PostgreSQL',
    make: () => {
      const schema = `lending_admin_${randomBytes(6).toString('hex')}`;
      const url = new URL(ownUrl);
      url.searchParams.set('schema', schema);
      return {
        url: url.toString(),
        dir: null,
        dispose: () =>
          withClient((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).then(() => undefined),
      };
    },
  });
} else {
  console.log(`PostgreSQL unreachable (${pgProblem}): admin tests on PostgreSQL skipped`);
}

describe.each(targets)('accounts admin on $name', ({ make }) => {
  it('inserts accounts exactly as create() stores them, all or none', async () => {
    const target = make();
    try {
      const admin = await openAccountsAdmin(target.url);
      const store = await openAccountStore(target.url);
      try {
        await admin.insertAccounts([newAccount(1), newAccount(2, { s3Keys: keysOf(2) })]);
        const reference = await store.create(newAccount(3));
        expect(await store.getByUsername('patron-0001')).toEqual({
          ...newAccount(1),
          lastLogin: null,
          revision: 1,
        });
        expect(await store.getByUsername('patron-0002')).toMatchObject({ s3Keys: keysOf(2), revision: 1 });
        expect(reference).toEqual({ ...newAccount(3), lastLogin: null, revision: 1 });

        // A taken email fails the whole call: patron-0004 is not written either.
        const error = await admin
          .insertAccounts([newAccount(4), newAccount(5, { email: 'patron-1@example.org' })])
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(Error);
        expect(error).not.toBeInstanceOf(AccountExistsError);
        expect(await store.getByUsername('patron-0004')).toBeNull();
        expect(await admin.estimateAccountCount()).toBe(3);
      } finally {
        await store.close();
        await admin.close();
      }
    } finally {
      await target.dispose();
    }
  });
});

describe('SQLite compaction', () => {
  it(
    'rebuilds the file in place: no removed key in any file, an empty WAL, nothing else left in the directory',
    { timeout: 60_000 },
    async () => {
      const target = targets[0]!.make();
      try {
        const admin = await openAccountsAdmin(target.url);
        const store = await openAccountStore(target.url);
        try {
          const accounts = Array.from({ length: 400 }, (_, i) => newAccount(i, { s3Keys: keysOf(i) }));
          await admin.insertAccounts(accounts);
          for (let after: string | null = null; ;) {
            const batch = await store.purgeS3KeysBatch({ after, limit: 50, dryRun: false });
            if (batch.scanned === 0) break;
            after = batch.last;
          }
          // The store's connection stays open meanwhile, as a running server's would.
          const report = await admin.compact();
          expect(report).toMatchObject({ method: 'sqlite_vacuum', warnings: [] });
          expect(report.bytesAfter).toBeLessThanOrEqual(report.bytesBefore);
          const dir = target.dir!;
          expect(readdirSync(dir).sort()).toEqual(['accounts.db', 'accounts.db-shm', 'accounts.db-wal']);
          expect(readFileSync(join(dir, 'accounts.db-wal')).length).toBe(0);
          const bytes = Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
          for (let i = 0; i < 400; i++) {
            expect(bytes.includes(keysOf(i).access)).toBe(false);
            expect(bytes.includes(keysOf(i).secret)).toBe(false);
          }
          expect((await store.getByUsername('patron-0007'))?.preferences).toEqual({ lang: 'fr' });
          await expect(admin.compact({ method: 'pg_repack' })).rejects.toThrow(/PostgreSQL/);
        } finally {
          await store.close();
          await admin.close();
        }
        expect(existsSync(join(target.dir!, 'accounts.db-wal'))).toBe(false);
      } finally {
        await target.dispose();
      }
    },
  );
});

describe('SQLite compaction, larger than its page cache', () => {
  it(
    "keeps VACUUM's temporary copy in the database's own directory, where it is unlinked at once",
    { timeout: 60_000 },
    async () => {
      const target = targets[0]!.make();
      try {
        const admin = await openAccountsAdmin(target.url);
        try {
          // About 4 MB of accounts: more than the rebuild's 2 MB page cache, so its copy goes through a file.
          const filler = 'x'.repeat(300);
          for (let start = 0; start < 12_000; start += 2000) {
            await admin.insertAccounts(
              Array.from({ length: 2000 }, (_, i) => newAccount(start + i, { note: filler })),
            );
          }
          const seen: string[] = [];
          const watcher = watch(target.dir!, (_event, name) => {
            if (name) seen.push(name);
          });
          try {
            await admin.compact();
            await new Promise((resolve) => setTimeout(resolve, 100));
          } finally {
            watcher.close();
          }
          expect(seen.some((name) => name.startsWith('etilqs_'))).toBe(true);
          expect(readdirSync(target.dir!).filter((name) => name.startsWith('etilqs_'))).toEqual([]);
        } finally {
          await admin.close();
        }
      } finally {
        await target.dispose();
      }
    },
  );
});

describe('libpqEnvironment', () => {
  it('carries the URL to libpq variables, decoded, and refuses parameters libpq has none for', () => {
    expect(
      libpqEnvironment(
        'postgres://app%40ops:p%2Fss@db.example:5433/lend%20ing?sslmode=verify-full&connect_timeout=5',
      ),
    ).toEqual({
      PGAPPNAME: 'lending-purge',
      PGHOST: 'db.example',
      PGPORT: '5433',
      PGUSER: 'app@ops',
      PGPASSWORD: 'p/ss',
      PGDATABASE: 'lend ing',
      PGSSLMODE: 'verify-full',
      PGCONNECT_TIMEOUT: '5',
    });
    expect(libpqEnvironment('postgresql://[::1]/x?host=/var/run/postgresql')).toMatchObject({
      PGHOST: '/var/run/postgresql',
      PGDATABASE: 'x',
    });
    expect(() => libpqEnvironment('postgres://u:hunter2@h/x?ssl=true')).toThrow(
      /"ssl" has no libpq equivalent/,
    );
  });
});

/** True when the pg_repack extension is (or could be made) present in the test database. */
async function ensurePgRepack(): Promise<boolean> {
  return withClient(async (client) => {
    const { rows } = await client.query<{ installed: boolean; available: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_repack') AS installed,
              EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_repack') AS available`,
    );
    if (rows[0]?.installed) return true;
    if (!rows[0]?.available) return false;
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_repack');
    return true;
  });
}

describe.runIf(usePostgres)('PostgreSQL compaction', () => {
  async function purged(): Promise<{ target: Target; admin: Awaited<ReturnType<typeof openAccountsAdmin>> }> {
    const target = targets[1]!.make();
    const admin = await openAccountsAdmin(target.url);
    await admin.insertAccounts(Array.from({ length: 300 }, (_, i) => newAccount(i, { s3Keys: keysOf(i) })));
    const store = await openAccountStore(target.url);
    for (let after: string | null = null; ;) {
      const batch = await store.purgeS3KeysBatch({ after, limit: 100, dryRun: false });
      if (batch.scanned === 0) break;
      after = batch.last;
    }
    await store.close();
    return { target, admin };
  }

  it('uses pg_repack when the extension and the program are there', { timeout: 60_000 }, async () => {
    const available = await ensurePgRepack();
    if (!available && requirePostgres) throw new Error('CI must install postgresql-15-repack (see .ci/run)');
    if (!available) return console.log('pg_repack is not installed here: its path is not tested');
    const { target, admin } = await purged();
    try {
      const started: string[] = [];
      const report = await admin.compact({ onStart: (method) => started.push(method) });
      expect(started).toEqual(['pg_repack']);
      expect(report).toMatchObject({ method: 'pg_repack', warnings: [] });
      expect(report.bytesAfter).toBeLessThan(report.bytesBefore);
      // A program that is not pg_repack: asked for explicitly, it is an error, never a silent VACUUM FULL.
      await expect(admin.compact({ method: 'pg_repack', pgRepackPath: '/bin/true' })).rejects.toThrow(
        /\/bin\/true is not a pg_repack program/,
      );
    } finally {
      await admin.close();
      await target.dispose();
    }
  });

  it('falls back to VACUUM FULL, saying why and what it locks', { timeout: 60_000 }, async () => {
    const { target, admin } = await purged();
    try {
      const report = await admin.compact({ pgRepackPath: '/nonexistent/pg_repack' });
      expect(report.method).toBe('vacuum_full');
      expect(report.warnings.join(' ')).toMatch(/pg_repack is not available: /);
      expect(report.warnings.join(' ')).toMatch(/VACUUM FULL locks the accounts table/);
      const forced = await admin.compact({ method: 'vacuum_full' });
      expect(forced.method).toBe('vacuum_full');
      expect(forced.warnings).toHaveLength(1);
    } finally {
      await admin.close();
      await target.dispose();
    }
  });

  it(
    'VACUUM FULL waits for transactions older than the purge, and gives up naming them',
    { timeout: 60_000 },
    async () => {
      const holder = new pg.Client({ connectionString: ownUrl, application_name: 'nightly-report' });
      await holder.connect();
      await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await holder.query('SELECT count(*) FROM pg_class');
      const { target, admin } = await purged();
      try {
        const said: string[] = [];
        const error = await admin
          .compact({
            method: 'vacuum_full',
            oldTransactionsTimeoutMs: 1000,
            onOutput: (line) => said.push(line),
          })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).toMatch(
          /transactions open since before the purge can still see the removed keys.*nightly-report/,
        );
        expect(said.join('\n')).toMatch(
          /waiting for transactions older than the purge to end: pid \d+ \(nightly-report/,
        );
        // Once it has ended in time, the rewrite goes ahead.
        setTimeout(() => void holder.query('COMMIT'), 500);
        expect((await admin.compact({ method: 'vacuum_full' })).method).toBe('vacuum_full');
      } finally {
        await holder.end();
        await admin.close();
        await target.dispose();
      }
    },
  );
});
