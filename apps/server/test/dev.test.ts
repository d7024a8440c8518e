// `pnpm dev` as a developer runs it: turbo starts the stand-in, the server (tsx watch) and Vite. The environment
// must reach the server (turbo 2 drops unlisted variables in its strict mode: DATABASE_URL=postgres://… once
// silently ran on SQLite), and Vite's /trpc proxy must follow PORT. Needs PostgreSQL, like postgres.test.ts.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/env';
import { TEST_SECRET } from './helpers';

const BASE_URL = process.env.DATABASE_URL_TEST ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `lending_dev_${randomBytes(6).toString('hex')}`;

async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: BASE_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch (error) {
    if (process.env.REQUIRE_POSTGRES === '1') throw error;
    console.log(`dev.test.ts: skipped, no PostgreSQL at DATABASE_URL_TEST (${(error as Error).message})`);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, deadline: number): Promise<Response> {
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.status < 500) return response;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer in time`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

const available = await postgresAnswers();

describe.skipIf(!available)('pnpm dev', () => {
  const pg_ = new pg.Client({ connectionString: BASE_URL });
  afterAll(async () => {
    await pg_.connect();
    await pg_.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pg_.end();
  });

  it('passes DATABASE_URL and PORT through to the server, and Vite proxies /trpc to that PORT', async () => {
    const [port, archivePort, webPort] = [await freePort(), await freePort(), await freePort()];
    const child = spawn('pnpm', ['dev'], {
      cwd: REPO_ROOT,
      detached: true, // its own process group: turbo, tsx watch and Vite all stop together below
      env: {
        ...process.env,
        NODE_ENV: 'development',
        APP_SECRET: TEST_SECRET,
        PORT: String(port),
        ARCHIVE_PORT: String(archivePort),
        ARCHIVE_URL: `http://127.0.0.1:${archivePort}`,
        WEB_PORT: String(webPort),
        DATABASE_URL: `${BASE_URL}${BASE_URL.includes('?') ? '&' : '?'}schema=${schema}`,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const deadline = Date.now() + 90_000;
      const health = await waitFor(`http://127.0.0.1:${port}/healthz`, deadline);
      expect(health.status, output).toBe(200);

      // The server opened (and migrated) the PostgreSQL schema it was given, not ./data/lending.db.
      const client = new pg.Client({ connectionString: BASE_URL });
      await client.connect();
      const table = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [
        `${schema}.accounts`,
      ]);
      await client.end();
      expect(table.rows[0]?.t, output).toBe(`${schema}.accounts`);

      // Through Vite's proxy: the answer comes from the server on PORT (its request id header says so).
      const viaVite = await waitFor(`http://localhost:${webPort}/trpc/account.me`, deadline);
      expect(viaVite.status, output).toBe(200);
      expect(viaVite.headers.get('x-request-id')).toBeTruthy();
      expect(await viaVite.json()).toEqual({ result: { data: null } });
    } finally {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }, 120_000);
});
