// Shared by the purge and seed tests: run the real commands as subprocesses, make throwaway stores on both
// adapters, and read a store back in full.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openAccountStore, parseDatabaseUrl } from '@lending/accounts';
import type { Account } from '@lending/accounts';
import { readEnv } from '../src/env';

export const toolsDir = fileURLToPath(new URL('..', import.meta.url));
const env = readEnv();

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningTool {
  child: ChildProcessWithoutNullStreams;
  output(): { stdout: string; stderr: string };
  /** Resolves once stderr matches. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<ToolResult>;
}

/** Starts `node --import tsx src/<script>.ts args…` in apps/tools, as `pnpm purge` / `seed` would. */
export function startTool(
  script: string,
  args: readonly string[],
  extraEnv: NodeJS.ProcessEnv = {},
): RunningTool {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extraEnv };
  if (!('DATABASE_URL' in extraEnv)) delete childEnv.DATABASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: toolsDir,
    env: childEnv,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  const watchers: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const watcher of [...watchers]) {
      if (watcher.pattern.test(stderr)) {
        watchers.splice(watchers.indexOf(watcher), 1);
        watcher.resolve();
      }
    }
  });
  const done = new Promise<ToolResult>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return {
    child,
    output: () => ({ stdout, stderr }),
    done,
    waitForStderr(pattern, timeoutMs = 30_000) {
      if (pattern.test(stderr)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`stderr never matched ${String(pattern)}:\n${stderr}`)),
          timeoutMs,
        );
        watchers.push({
          pattern,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        void done.then(() => {
          clearTimeout(timer);
          if (!pattern.test(stderr))
            reject(new Error(`exited before stderr matched ${String(pattern)}:\n${stderr}`));
        });
      });
    },
  };
}

export function runTool(
  script: string,
  args: readonly string[],
  extraEnv?: NodeJS.ProcessEnv,
): Promise<ToolResult> {
  return startTool(script, args, extraEnv).done;
}

export const runPurge = (args: readonly string[], extraEnv?: NodeJS.ProcessEnv): Promise<ToolResult> =>
  runTool('src/purge/main.ts', args, extraEnv);

export async function seedStore(
  databaseUrl: string,
  accounts: number,
  withKeys: number,
  seed = 7,
): Promise<void> {
  const result = await runTool('src/seed-main.ts', [
    '--accounts',
    String(accounts),
    '--with-keys',
    String(withKeys),
    '--seed',
    String(seed),
    '--database-url',
    databaseUrl,
  ]);
  if (result.code !== 0) throw new Error(`seed failed (${result.code}): ${result.stderr}`);
}

/** A throwaway store: a SQLite file in a temp dir, or a random PostgreSQL schema. */
export interface TestDatabase {
  url: string;
  /** SQLite only: the database file (its WAL is `${file}-wal`). */
  file: string | null;
  dispose(): Promise<void>;
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  create(): Promise<TestDatabase>;
}

export const sqliteBackend: Backend = {
  name: 'sqlite',
  create() {
    const dir = mkdtempSync(join(tmpdir(), 'lending-purge-test-'));
    const file = join(dir, 'lending.db');
    return Promise.resolve({
      url: `sqlite:${file}`,
      file,
      dispose: () => {
        rmSync(dir, { recursive: true, force: true });
        return Promise.resolve();
      },
    });
  },
};

export const postgresBackend: Backend = {
  name: 'postgres',
  create() {
    const schema = `purge_test_${randomBytes(6).toString('hex')}`;
    const url = new URL(env.DATABASE_URL_TEST);
    url.searchParams.set('schema', schema);
    return Promise.resolve({
      url: url.toString(),
      file: null,
      dispose: async () => {
        await withPg(url.toString(), (client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
      },
    });
  },
};

/** A PostgreSQL URL's connection string and its accounts table (schema-qualified when the URL names one). */
export function postgresTarget(databaseUrl: string): { connectionString: string; table: string } {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.kind !== 'postgres') throw new Error('not a PostgreSQL URL');
  return {
    connectionString: target.connectionString,
    table: target.schema ? `"${target.schema}".accounts` : 'accounts',
  };
}

export async function withPg<T>(databaseUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresTarget(databaseUrl).connectionString });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

let postgresUp: Promise<boolean> | undefined;

export function postgresReachable(): Promise<boolean> {
  postgresUp ??= (async () => {
    const client = new pg.Client({ connectionString: env.DATABASE_URL_TEST, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return postgresUp;
}

/**
 * Both adapters when PostgreSQL answers; otherwise SQLite only and a printed line, unless REQUIRE_POSTGRES=1,
 * in which case the PostgreSQL backend stays and its tests fail.
 */
export async function backends(): Promise<Backend[]> {
  if (await postgresReachable()) return [sqliteBackend, postgresBackend];
  if (env.REQUIRE_POSTGRES) return [sqliteBackend, postgresBackend];
  console.log(`PostgreSQL unreachable at DATABASE_URL_TEST: purge tests on PostgreSQL skipped`);
  return [sqliteBackend];
}

/** Every account, in key order, read through the store interface. */
export async function readAllAccounts(databaseUrl: string): Promise<Map<string, Account>> {
  const store = await openAccountStore(databaseUrl);
  try {
    const all = new Map<string, Account>();
    let after: string | null = null;
    for (;;) {
      const page = await store.scan({ after, limit: 1000 });
      if (page.length === 0) return all;
      for (const account of page) all.set(account.username, account);
      after = page.at(-1)?.username ?? null;
    }
  } finally {
    await store.close();
  }
}

/** SQLite: the hash (or absence) of the database file and its WAL. */
export function sqliteFileHashes(file: string): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const path of [file, `${file}-wal`]) {
    hashes[path] = existsSync(path)
      ? createHash('sha256').update(readFileSync(path)).digest('hex')
      : 'absent';
  }
  return hashes;
}

/** PostgreSQL: every row with its physical version (xmin, ctid): any write, even of equal values, changes it. */
export async function postgresDump(databaseUrl: string): Promise<string> {
  const { table } = postgresTarget(databaseUrl);
  return withPg(databaseUrl, async (client) => {
    const { rows } = await client.query<{ line: string }>(
      `SELECT concat_ws('|', username, email_lower, itemname, revision, xmin::text, ctid::text, data::text) AS line
       FROM ${table} ORDER BY username`,
    );
    return rows.map((row) => row.line).join('\n');
  });
}

/** A record without the fields a purge may change. */
export function withoutKeys(account: Account): Record<string, unknown> {
  const { s3Keys: _keys, revision: _revision, ...rest } = account;
  return rest;
}
