// `pnpm --filter @lending/server bench`: an authenticated account.me through the whole stack (both cookies
// opened, store read, request log serialised) against a bare Koa JSON endpoint, in one run on one machine.
// autocannon runs in a child process. Target: at least half the bare endpoint's throughput.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startArchive } from '@lending/archive';
import Koa from 'koa';
import { createApp, loadEnv } from '../src/app';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const DURATION = Number(process.env.BENCH_DURATION ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP = 2;
const TARGET = 0.5;

interface Load {
  requests: number;
  total: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

const run = promisify(execFile);

async function load(url: string, headers: Record<string, string>, duration: number): Promise<Load> {
  const script = path.join(import.meta.dirname, 'load.mjs');
  const { stdout } = await run(process.execPath, [
    script,
    JSON.stringify({ url, headers, connections: CONNECTIONS, duration }),
  ]);
  return JSON.parse(stdout) as Load;
}

async function bareKoa(): Promise<{ url: string; close(): Promise<void> }> {
  const app = new Koa();
  app.use((ctx) => {
    ctx.body = { result: { data: { ok: true } } };
  });
  const handle = app.callback();
  const server = http.createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const dir = mkdtempSync(path.join(tmpdir(), 'lending-bench-'));
const archive = await startArchive({ port: 0 });
const config = await loadEnv({
  NODE_ENV: 'production',
  APP_SECRET: 'benchmark-secret-benchmark-secret-0123456789',
  ARCHIVE_SERVICE_ACCESS: 'lending-dev-service',
  ARCHIVE_SERVICE_SECRET: 'YN6VB694CP692DPKU5TIFAFH',
  TRUST_PROXY: 'true',
  DATABASE_URL: `sqlite:${path.join(dir, 'lending.db')}`,
  ARCHIVE_URL: archive.url,
  LOG_LEVEL: 'info',
});
// Log lines are serialised as in production, then dropped instead of flooding the terminal.
const server = createApp(config, { logStream: { write: () => undefined } });
const listening = await server.listen(0, '127.0.0.1');
const bare = await bareKoa();

try {
  // Production behind a TLS proxy: the proxy's X-Forwarded-Proto makes the request secure.
  const forwarded = { 'x-forwarded-proto': 'https' };
  const login = await fetch(`${listening.url}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...forwarded },
    body: JSON.stringify({ email: 'patron@example.org', password: 'lending-demo-2026' }),
  });
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  if (login.status !== 200 || !cookie.includes('session=') || !cookie.includes('s3=')) {
    throw new Error(`login failed: ${login.status}`);
  }
  const meUrl = `${listening.url}/trpc/account.me`;
  const headers = { cookie, ...forwarded };
  const me = (await (await fetch(meUrl, { headers })).json()) as {
    result?: { data?: { keysSource?: string } };
  };
  if (me.result?.data?.keysSource !== 'cookie') throw new Error('account.me did not see both cookies');

  console.log(
    `autocannon in a child process: ${CONNECTIONS} connections; ${ROUNDS} alternating rounds of ${DURATION} s per target after a ${WARMUP} s warm-up each`,
  );
  await load(bare.url, {}, WARMUP);
  await load(meUrl, headers, WARMUP);
  // Alternating rounds, so a load spike from elsewhere on the machine hits both targets alike.
  const bareRuns: Load[] = [];
  const meRuns: Load[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    bareRuns.push(await load(bare.url, {}, DURATION));
    meRuns.push(await load(meUrl, headers, DURATION));
  }
  const median = (runs: Load[]) =>
    [...runs].sort((a, b) => a.requests - b.requests)[Math.floor(runs.length / 2)]!;
  const row = (name: string, r: Load) =>
    `${name.padEnd(34)} ${r.requests.toFixed(0).padStart(8)} req/s   p50 ${String(r.p50).padStart(3)} ms   p99 ${String(r.p99).padStart(3)} ms`;
  for (let round = 0; round < ROUNDS; round++) {
    const ratio = meRuns[round]!.requests / bareRuns[round]!.requests;
    console.log(
      `round ${round + 1}: bare ${bareRuns[round]!.requests.toFixed(0)} req/s, account.me ${meRuns[round]!.requests.toFixed(0)} req/s, ratio ${ratio.toFixed(2)}x`,
    );
  }
  const bareResult = median(bareRuns);
  const meResult = median(meRuns);
  console.log('median round:');
  console.log(row('bare Koa JSON endpoint', bareResult));
  console.log(row('account.me (both cookies, store)', meResult));
  const failures = meRuns.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0);
  const ratio = meResult.requests / bareResult.requests;
  const ok = ratio >= TARGET && failures === 0;
  console.log(
    `ratio ${ratio.toFixed(2)}x (target >= ${TARGET}x), failed requests ${failures}: ${ok ? 'PASS' : 'FAIL'}`,
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  await bare.close();
  await server.close();
  await archive.close();
  rmSync(dir, { recursive: true, force: true });
}
