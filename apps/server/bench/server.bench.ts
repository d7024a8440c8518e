// `pnpm --filter @lending/server bench`: an authenticated account.me through the whole stack (both cookies
// opened, store read, request log serialised) against a bare Koa JSON endpoint, in one run on one machine.
// autocannon runs in a child process. Target: at least half the bare endpoint's throughput.
// Two reference targets show where the gap comes from:
// - floor: the work account.me cannot skip (both cookies opened, the account read from the same store) done
//   in a bare Koa handler, with no tRPC, logging, metrics, guards or headers: the best any host could do;
// - a trivial tRPC query through tRPC's own node-http handler (no cookies, no store): that adapter's cost.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DEMO_SERVICE_KEYS, startArchive } from '@lending/archive';
import { initTRPC } from '@trpc/server';
import { nodeHTTPRequestHandler } from '@trpc/server/adapters/node-http';
import Koa from 'koa';
import type { AccountStore } from '@lending/accounts';
import { cookieKeys, openCookie } from '@lending/crypto';
import type { CookieKeys } from '@lending/crypto';
import { createApp, loadEnv } from '../src/app';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const DURATION = Number(process.env.BENCH_DURATION ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP = 1;
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

/** One autocannon run in a child process; `cpuPerRequest` is this process's CPU time (µs) per request. */
async function load(
  url: string,
  headers: Record<string, string>,
  duration: number,
): Promise<Load & { cpuPerRequest: number }> {
  const script = path.join(import.meta.dirname, 'load.mjs');
  const before = process.cpuUsage();
  const { stdout } = await run(process.execPath, [
    script,
    JSON.stringify({ url, headers, connections: CONNECTIONS, duration }),
  ]);
  const cpu = process.cpuUsage(before);
  const result = JSON.parse(stdout) as Load;
  return { ...result, cpuPerRequest: (cpu.user + cpu.system) / Math.max(1, result.total) };
}

async function serve(app: Koa): Promise<{ url: string; close(): Promise<void> }> {
  const handle = app.callback();
  const server = http.createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function bareKoa(): Koa {
  const app = new Koa();
  app.use((ctx) => {
    ctx.body = { result: { data: { ok: true } } };
  });
  return app;
}

/** account.me's unavoidable work and nothing else: open `session`, read the account, open `s3`. */
function floorKoa(store: AccountStore, keys: CookieKeys, ttl: number): Koa {
  const app = new Koa();
  app.use(async (ctx) => {
    const now = Math.floor(Date.now() / 1000);
    const session = openCookie(keys, ctx.cookies.get('session'), { pur: 'session', ttl, now });
    const account = session.ok ? await store.getByUsername(session.payload.sub) : null;
    if (!session.ok || !account) {
      ctx.status = 401;
      return;
    }
    const s3 = openCookie(keys, ctx.cookies.get('s3'), { pur: 's3', sub: account.username, ttl, now });
    const { username, displayName, email, itemname } = account;
    ctx.body = {
      result: { data: { username, displayName, email, itemname, keysSource: s3.ok ? 'cookie' : 'none' } },
    };
  });
  return app;
}

function trivialTrpc(): Koa {
  const t = initTRPC.create();
  const router = t.router({ ping: t.procedure.query(() => ({ ok: true })) });
  const app = new Koa();
  app.use(async (ctx) => {
    ctx.respond = false;
    ctx.res.statusCode = 200;
    await nodeHTTPRequestHandler({
      router,
      req: ctx.req,
      res: ctx.res,
      path: ctx.path.slice('/trpc/'.length),
    });
  });
  return app;
}

const dir = mkdtempSync(path.join(tmpdir(), 'lending-bench-'));
const archive = await startArchive({ port: 0 });
const config = await loadEnv({
  NODE_ENV: 'production',
  APP_SECRET: 'benchmark-secret-benchmark-secret-0123456789',
  ARCHIVE_SERVICE_ACCESS: DEMO_SERVICE_KEYS.access,
  ARCHIVE_SERVICE_SECRET: DEMO_SERVICE_KEYS.secret,
  TRUST_PROXY: 'true',
  DATABASE_URL: `sqlite:${path.join(dir, 'lending.db')}`,
  ARCHIVE_URL: archive.url,
  LOG_LEVEL: 'info',
});
// Log lines are serialised as in production, then dropped instead of flooding the terminal.
const server = createApp(config, { logStream: { write: () => undefined } });
const listening = await server.listen(0, '127.0.0.1');
const bare = await serve(bareKoa());
const floor = await serve(floorKoa(await server.store(), cookieKeys(config.appSecret), config.sessionTtl));
const trpc = await serve(trivialTrpc());

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
  const targets: { name: string; url: string; headers: Record<string, string> }[] = [
    { name: 'bare Koa JSON endpoint', url: `${bare.url}/`, headers: {} },
    {
      name: 'account.me (both cookies, store)',
      url: `${listening.url}/trpc/account.me`,
      headers: { cookie, ...forwarded },
    },
    { name: 'floor: cookies + store, bare Koa', url: `${floor.url}/`, headers: { cookie } },
    { name: 'reference: trivial tRPC query', url: `${trpc.url}/trpc/ping`, headers: {} },
  ];
  const me = (await (await fetch(targets[1]!.url, { headers: targets[1]!.headers })).json()) as {
    result?: { data?: { keysSource?: string } };
  };
  if (me.result?.data?.keysSource !== 'cookie') throw new Error('account.me did not see both cookies');
  const floored = (await (
    await fetch(targets[2]!.url, { headers: targets[2]!.headers })
  ).json()) as typeof me;
  if (JSON.stringify(floored) !== JSON.stringify(me))
    throw new Error('the floor target does not answer as account.me');

  console.log(
    `autocannon in a child process: ${CONNECTIONS} connections; ${ROUNDS} alternating rounds of ${DURATION} s per target, after a ${WARMUP} s warm-up each`,
  );
  for (const target of targets) await load(target.url, target.headers, WARMUP);
  // Alternating rounds, so a load spike from elsewhere on the machine hits every target alike.
  const runs: (Load & { cpuPerRequest: number })[][] = targets.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    const results: string[] = [];
    for (const [i, target] of targets.entries()) {
      const result = await load(target.url, target.headers, DURATION);
      runs[i]!.push(result);
      results.push(`${result.requests.toFixed(0)} req/s`);
    }
    const ratio = runs[1]![round]!.requests / runs[0]![round]!.requests;
    console.log(`round ${round + 1}: ${results.join(' | ')}   account.me/bare ${ratio.toFixed(2)}x`);
  }
  const median = <T extends Load>(list: T[]): T =>
    [...list].sort((a, b) => a.requests - b.requests)[Math.floor(list.length / 2)]!;
  console.log('median round per target:');
  for (const [i, target] of targets.entries()) {
    const r = median(runs[i]!);
    console.log(
      `  ${target.name.padEnd(34)} ${r.requests.toFixed(0).padStart(7)} req/s   p50 ${String(r.p50).padStart(4)} ms   p99 ${String(r.p99).padStart(4)} ms   server CPU ${r.cpuPerRequest.toFixed(0).padStart(5)} µs/req`,
    );
  }
  const failures = runs[1]!.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0);
  // Each round pairs measurements taken seconds apart, so every ratio is the median of the per-round ratios.
  const ratioTo = (i: number, base: number) =>
    runs[i]!.map((r, round) => r.requests / runs[base]![round]!.requests).sort((a, b) => a - b)[
      Math.floor(ROUNDS / 2)
    ]!;
  const ratio = ratioTo(1, 0);
  const floorRatio = ratioTo(2, 0);
  console.log(
    `floor / bare: ${floorRatio.toFixed(2)}x (the cookies opened and the store read in a bare Koa handler, nothing else: the most a host doing this work could reach here)`,
  );
  console.log(
    `account.me / floor: ${ratioTo(1, 2).toFixed(2)}x (what tRPC, logging, metrics, guards and headers leave of that)`,
  );
  console.log(
    `trivial tRPC query / bare: ${ratioTo(3, 0).toFixed(2)}x (tRPC's node-http handler alone, which account.me's fast path avoids)`,
  );
  if (floorRatio < TARGET) {
    console.log(
      `the floor itself is under the ${TARGET}x target: on this machine the two cookie opens and the store read alone cost more than a whole bare request`,
    );
  }
  const ok = ratio >= TARGET && failures === 0;
  console.log(
    `account.me / bare, median of the rounds: ${ratio.toFixed(2)}x (target >= ${TARGET}x), failed requests ${failures}: ${ok ? 'PASS' : 'FAIL'}`,
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  await bare.close();
  await floor.close();
  await trpc.close();
  await server.close();
  await archive.close();
  rmSync(dir, { recursive: true, force: true });
}
