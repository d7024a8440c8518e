// PostgreSQL that stops answering, or answers slowly (issue 13 §5): with a TCP proxy in front of the database
// that stops forwarding, every request answers 503 within the configured bounds and SIGTERM still ends the
// process within its bound; a table lock makes requests fail fast with `database_busy`, and /healthz tells that
// full pool from a dead database. Skips (with a line) when no PostgreSQL answers, unless REQUIRE_POSTGRES=1.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startArchive } from '@lending/archive';
import type { RunningArchive } from '@lending/archive';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp, loadEnv } from '../src/app';
import { REPO_ROOT } from '../src/env';
import type { LendingApp } from '../src/app';
import { Client, TEST_SECRET, errorOf } from './helpers';
import { stallingProxy, throughProxy } from './pg-proxy';
import type { StallingProxy } from './pg-proxy';
import { POSTGRES_BASE_URL, freshSchema, postgresAnswers } from './postgres-support';

const { schema, databaseUrl } = freshSchema('lending_timeouts');

const available = await postgresAnswers('postgres-timeouts.test.ts');

/** The timeouts these tests configure, in ms. */
const TIMEOUTS = {
  DATABASE_QUERY_TIMEOUT_MS: '1000',
  DATABASE_CONNECT_TIMEOUT_MS: '1000',
  DATABASE_STATEMENT_TIMEOUT_MS: '5000',
  DATABASE_LOCK_TIMEOUT_MS: '1500',
};
/**
 * The longest a request may take with those: a query's timeout (or a connection's), the probe that tells busy
 * from down (1 s), the store guard's ping (2 s), and slack for a loaded machine. Without timeouts such a request
 * hangs for good (more than 40 s were seen).
 */
const REQUEST_BOUND_MS = 1000 + 1000 + 2000 + 4000;

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

describe.skipIf(!available)('PostgreSQL with timeouts', () => {
  let archive: RunningArchive;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    archive = await startArchive({ port: 0 });
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  afterAll(async () => {
    await archive.close();
    const client = new pg.Client({ connectionString: POSTGRES_BASE_URL });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  });

  async function server(
    url: string,
    env: Record<string, string> = {},
  ): Promise<{ app: LendingApp; url: string }> {
    const config = await loadEnv({
      NODE_ENV: 'test',
      APP_SECRET: TEST_SECRET,
      DATABASE_URL: url,
      ARCHIVE_URL: archive.url,
      LOG_LEVEL: 'silent',
      ...TIMEOUTS,
      ...env,
    });
    const app = createApp(config);
    cleanups.push(() => app.close());
    return { app, url: (await app.listen(0, '127.0.0.1')).url };
  }

  async function proxy(): Promise<StallingProxy> {
    const target = new URL(POSTGRES_BASE_URL);
    const p = await stallingProxy({ host: target.hostname, port: Number(target.port || 5432) });
    cleanups.push(() => p.close());
    return p;
  }

  it('answers every request within the bound when the database stops answering', async () => {
    const p = await proxy();
    const { app, url } = await server(throughProxy(databaseUrl, p), { DATABASE_POOL_MAX: '3' });
    const patrons = [new Client(url), new Client(url)];
    for (const patron of patrons) expect((await patron.login()).status).toBe(200);
    expect((await patrons[0]!.query('account.me')).status).toBe(200);

    p.stall();
    // More requests than the pool has connections, at once; then the probes.
    const calls = Array.from({ length: 12 }, (_, i) => timed(() => patrons[i % 2]!.query('account.me')));
    const replies = await Promise.all(calls);
    for (const { value, ms } of replies) {
      expect(ms).toBeLessThan(REQUEST_BOUND_MS);
      expect(value.status).toBe(503);
      expect(['database_unavailable', 'database_busy']).toContain(errorOf(value).data.appCode);
    }
    console.log(
      `database stalled: ${replies.length} requests answered 503 in at most ${Math.round(
        Math.max(...replies.map(({ ms }) => ms)),
      )} ms (bound ${REQUEST_BOUND_MS} ms)`,
    );
    // The database really is down (not merely busy) for most of them.
    expect(replies.some(({ value }) => errorOf(value).data.appCode === 'database_unavailable')).toBe(true);

    const health = await timed(() => fetch(`${url}/healthz`));
    expect(health.ms).toBeLessThan(REQUEST_BOUND_MS);
    expect(health.value.status).toBe(503);
    expect(await health.value.json()).toMatchObject({ ready: false, database: 'down' });
    const ready = await timed(() => fetch(`${url}/readyz`));
    expect(ready.ms).toBeLessThan(REQUEST_BOUND_MS);
    expect(ready.value.status).toBe(503);
    expect((await fetch(`${url}/livez`)).status).toBe(200);

    // Closing the app ends the pool within its bound although its connections hang.
    const closed = await timed(() => app.close());
    expect(closed.ms).toBeLessThan(5000 + 10_000);
  }, 60_000);

  it('fails fast with database_busy behind a table lock, and /healthz says busy, not down', async () => {
    const { url } = await server(databaseUrl, {
      DATABASE_POOL_MAX: '1',
      DATABASE_LOCK_TIMEOUT_MS: '1500',
      DATABASE_QUERY_TIMEOUT_MS: '6000',
      DATABASE_CONNECT_TIMEOUT_MS: '2000',
    });
    const patron = new Client(url);
    expect((await patron.login()).status).toBe(200);

    // What the purge's VACUUM FULL takes: an exclusive lock on the accounts table, held for longer than any
    // request may wait (lock_timeout 1.5 s: the first request gives up then; those queued for the one
    // connection give up after 2 s; the rest are refused at once).
    const locker = new pg.Client({ connectionString: POSTGRES_BASE_URL });
    await locker.connect();
    cleanups.push(() => locker.end());
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE "${schema}".accounts IN ACCESS EXCLUSIVE MODE`);

    const calls = Array.from({ length: 10 }, () => timed(() => patron.query('account.me')));
    // While they wait: the database answers its probe, the pool is full.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const health = await fetch(`${url}/healthz`);
    const report = (await health.json()) as { database: string; pool: Record<string, number> };
    expect(health.status).toBe(200);
    expect(report).toMatchObject({ ready: true, database: 'busy', pool: { max: 1, total: 1, idle: 0 } });
    expect(report.pool.waiting).toBeGreaterThan(0);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    // The pool's gauges say the same.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('lending_db_pool_connections{state="max"} 1');
    expect(metrics).toContain('lending_db_pool_connections{state="idle"} 0');
    expect(metrics).toMatch(/^lending_db_pool_connections\{state="waiting"\} [1-9]/m);

    const replies = await Promise.all(calls);
    for (const { value, ms } of replies) {
      expect(ms).toBeLessThan(3000 + REQUEST_BOUND_MS);
      expect(value.status).toBe(503);
      expect(errorOf(value).data.appCode).toBe('database_busy');
      expect((errorOf(value).data as { retryAfter?: number }).retryAfter).toBe(1);
    }
    // Those beyond the pool and its queue were refused at once, not after the lock timeout.
    const fastest = Math.min(...replies.map(({ ms }) => ms));
    const slowest = Math.max(...replies.map(({ ms }) => ms));
    expect(fastest).toBeLessThan(slowest / 2);

    await locker.query('ROLLBACK');
    expect((await patron.query('account.me')).status).toBe(200);
    expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ database: 'up' });
  }, 60_000);

  it('exits within SHUTDOWN_TIMEOUT_MS on SIGTERM while the database hangs; /readyz is 503 at once', async () => {
    const p = await proxy();
    // node itself with tsx's loader (not the tsx wrapper), so that the signals reach the server's own process.
    const loader = pathToFileURL(path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
    const main = path.join(REPO_ROOT, 'apps', 'server', 'src', 'main.ts');
    const child = spawn(process.execPath, ['--import', loader, main], {
      cwd: mkdtempSync(path.join(tmpdir(), 'lending-timeouts-')),
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        APP_SECRET: TEST_SECRET,
        PORT: '0',
        DATABASE_URL: throughProxy(databaseUrl, p),
        ARCHIVE_URL: archive.url,
        SHUTDOWN_DELAY_MS: '1000',
        SHUTDOWN_TIMEOUT_MS: '6000',
        // Long enough that only the shutdown bound can end the in-flight requests in time.
        DATABASE_QUERY_TIMEOUT_MS: '60000',
        DATABASE_CONNECT_TIMEOUT_MS: '60000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    cleanups.push(() => Promise.resolve(void child.kill('SIGKILL')));
    let url: string | undefined;
    const deadline = Date.now() + 20_000;
    while (!url && Date.now() < deadline) {
      url = /listening on (http:\/\/[\d.:]+)/.exec(output)?.[1];
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(url).toBeDefined();
    const patron = new Client(url!);
    expect((await patron.login()).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    p.stall();
    const inFlight = patron.query('account.me').catch(() => null); // cut by the shutdown bound
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalled = performance.now();
    child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ ready: false, reason: 'shutting_down' });
    expect((await fetch(`${url}/livez`)).status).toBe(200); // still serving during the delay

    const code = await exited;
    const took = performance.now() - signalled;
    console.log(`SIGTERM with the database stalled: exited (code ${code}) after ${Math.round(took)} ms`);
    expect(took).toBeLessThan(6000 + 3000);
    expect(code).not.toBeNull(); // exited by itself, not killed
    await inFlight;
    expect(output).toContain('shutting down');
  }, 60_000);
});
