// `pnpm --filter @lending/server bench`: what patrons get from the server, asked as the SPA asks (tRPC's
// httpBatchLink), against the least the same work costs (a floor) and against tRPC's own handler doing it.
// One run, one machine; autocannon in a child process; paired rounds (every target once per round, the order
// reversed every other round); each ratio is the median of its per-round ratios. Exit code 1 when a target is
// missed or a request fails. Where taskset and two cores are there, the servers (this process) run on the first
// core and the load generator on the others, so that neither is moved between cores mid-round: unpinned, on a
// two-core machine, the scheduler keeps moving both, and every target's CPU per request swings by half.
// Targets:
// - account.me as httpBatchLink sends it (GET ?batch=1&input={}, both cookies: opened, and the account read):
//   at least 0.75x its floor and at least 4x tRPC's own handler;
// - auth.logout as httpBatchLink sends it (POST ?batch=1 with body {}, both cookies of a session it revoked the
//   first time, so each later one opens the cookie and reads the account): the same.
// Floors: the procedure's work and nothing else in a bare Koa handler (no tRPC, logs, metrics, guards or
// headers). tRPC's own handler: the same app, built the same way, with /trpc served by nodeHTTPRequestHandler.
// Procedure calls (a reference, no target): the api's procedure through tRPC's `callTRPCProcedure`, with the api's
// own context, in a bare Koa handler: no protocol to read or write, no host layer. It is the least any tRPC adapter
// of this api can cost, so its ratio to the floor bounds the first target of each group from above: what is left
// between the two is all the adapter and every host layer (request log, metrics, headers, guards, limits) may cost.
// Every target of a group must answer the same bytes (status, content type, body, Set-Cookie): checked first.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { openAccountStore } from '@lending/accounts';
import type { AccountStore } from '@lending/accounts';
import { DEMO_ACCESS_SECRET, DEMO_LOAN_API_TOKEN, DEMO_SERVICE_KEYS, startArchive } from '@lending/archive';
import { cookieKeys, openCookie } from '@lending/crypto';
import type { CookieKeys } from '@lending/crypto';
import { appRouter, createContext } from '@lending/api';
import type { ApiDeps } from '@lending/api';
import { callTRPCProcedure } from '@trpc/server';
import Koa from 'koa';
import { apiDeps, createApp, loadEnv } from '../src/app';
import { archiveClientFor } from '../src/archive';
import { clearedCookie } from '../src/cookies';
import { createLoginLimiter } from '../src/limiter';
import { createLogger } from '../src/logger';
import { createMetrics } from '../src/metrics';
import { requestInfo } from '../src/trpc';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const DURATION = Number(process.env.BENCH_DURATION ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WARMUP = 1;

interface Load {
  requests: number;
  total: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** This (the servers') process's CPU time over the load, per request, in µs. */
  cpuPerRequest: number;
}

interface Target {
  key: string;
  name: string;
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

const run = promisify(execFile);

/** This process (every thread) on core 0; true when that worked and another core is left for the load. */
function pinServers(): boolean {
  const cores = availableParallelism();
  if (cores < 2) return false;
  try {
    execFileSync('taskset', ['--all-tasks', '--pid', '--cpu-list', '0', String(process.pid)], {
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false; // no taskset (util-linux), or not allowed: unpinned, and said so
  }
}
// Counted before pinning: once pinned, this process sees one core.
const loadCores = `1-${availableParallelism() - 1}`;
const pinned = pinServers();

/** One autocannon run in a child process, with this process's CPU time (user + system) over it. */
async function load(target: Target, duration: number): Promise<Load> {
  const script = path.join(import.meta.dirname, 'load.mjs');
  const { url, method, headers, body } = target;
  const before = process.cpuUsage();
  const spec = JSON.stringify({ url, method, headers, body, connections: CONNECTIONS, duration });
  const { stdout } = pinned
    ? await run('taskset', ['--cpu-list', loadCores, process.execPath, script, spec])
    : await run(process.execPath, [script, spec]);
  const cpu = process.cpuUsage(before);
  const result = JSON.parse(stdout) as Omit<Load, 'cpuPerRequest'>;
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

/** The session of a request, as the server checks it: opened, its account read, its id among the live ones. */
async function liveSession(store: AccountStore, keys: CookieKeys, ttl: number, token: string | undefined) {
  const now = Math.floor(Date.now() / 1000);
  const session = openCookie(keys, token, { pur: 'session', ttl, now });
  const account = session.ok ? await store.getByUsername(session.payload.sub) : null;
  const live =
    session.ok && account?.sessions?.some((each) => each.id === session.payload.sid && each.expiresAt > now);
  return {
    account: live ? account : null,
    sid: session.ok ? session.payload.sid : undefined,
    printDisabled: session.ok && session.payload.pd === true,
    now,
  };
}

/** account.me's floor: open `session`, read the account (live session), open `s3`; answer as a batch of one. */
function accountFloor(store: AccountStore, keys: CookieKeys, ttl: number): Koa {
  const app = new Koa();
  app.use(async (ctx) => {
    const { account, printDisabled, now } = await liveSession(store, keys, ttl, ctx.cookies.get('session'));
    if (!account) {
      ctx.status = 401;
      return;
    }
    const s3 = openCookie(keys, ctx.cookies.get('s3'), { pur: 's3', sub: account.username, ttl, now });
    const { username, displayName, email, itemname } = account;
    const keysSource = s3.ok ? 'cookie' : 'none';
    const me = { username, displayName, email, itemname, keysSource, printDisabled };
    ctx.set('Content-Type', 'application/json');
    ctx.body = JSON.stringify([{ result: { data: me } }]);
  });
  return app;
}

/**
 * auth.logout's floor: read the JSON body, check the session (opened, its account read: the cookie the bench sends
 * was revoked by the first logout, so there is nothing to remove after that), clear both cookies; answer as a
 * batch of one.
 */
function logoutFloor(store: AccountStore, keys: CookieKeys, ttl: number): Koa {
  const app = new Koa();
  app.use(async (ctx) => {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
    JSON.parse(Buffer.concat(chunks).toString());
    const { account, sid } = await liveSession(store, keys, ttl, ctx.cookies.get('session'));
    if (account && sid !== undefined) await store.removeSession(account.username, sid);
    ctx.set('Set-Cookie', [clearedCookie('session'), clearedCookie('s3')]);
    ctx.set('Content-Type', 'application/json');
    ctx.body = JSON.stringify([{ result: { data: { ok: true } } }]);
  });
  return app;
}

/**
 * A procedure called through tRPC's `callTRPCProcedure` with the api's context (the server's own requestInfo, log
 * lines dropped), answered as a batch of one; a mutation's JSON body is read first, as the floor does.
 */
function procedureCall(deps: ApiDeps, path: string, type: 'query' | 'mutation'): Koa {
  const app = new Koa({ proxy: true }); // X-Forwarded-Proto makes the request secure, as behind the TLS proxy
  const log = createLogger({ logLevel: 'info' }, { write: () => undefined });
  app.use(async (ctx) => {
    if (type === 'mutation') {
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
      JSON.parse(Buffer.concat(chunks).toString());
    }
    const context = createContext(
      deps,
      requestInfo(ctx, true, () => log),
    );
    const data: unknown = await callTRPCProcedure({
      router: appRouter,
      path,
      getRawInput: () => Promise.resolve(undefined),
      ctx: context,
      type,
      signal: undefined,
      batchIndex: 0,
    });
    ctx.set('Content-Type', 'application/json');
    ctx.body = JSON.stringify([{ result: { data } }]);
  });
  return app;
}

/** The parts of an answer every target of a group must share. */
async function answerOf(target: Target): Promise<string> {
  const { method, headers, body } = target;
  const res = await fetch(target.url, { method, headers, body });
  return JSON.stringify({
    status: res.status,
    type: res.headers.get('content-type'),
    cookies: res.headers.getSetCookie(),
    body: await res.text(),
  });
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const dir = mkdtempSync(path.join(tmpdir(), 'lending-bench-'));
const archive = await startArchive({ port: 0 });
const config = await loadEnv({
  NODE_ENV: 'production',
  APP_SECRET: 'benchmark-secret-benchmark-secret-0123456789',
  ARCHIVE_SERVICE_ACCESS: DEMO_SERVICE_KEYS.access,
  ARCHIVE_SERVICE_SECRET: DEMO_SERVICE_KEYS.secret,
  ARCHIVE_ACCESS_SECRET: DEMO_ACCESS_SECRET,
  ARCHIVE_LOAN_API_TOKEN: DEMO_LOAN_API_TOKEN,
  TRUST_PROXY: 'true',
  // The anonymous-traffic limit stays on, as in production: every request the bench sends carries a session, which
  // that limit checks (the api then uses its check) and does not count.
  DATABASE_URL: `sqlite:${path.join(dir, 'lending.db')}`,
  ARCHIVE_URL: archive.url,
  LOG_LEVEL: 'info',
});
// One store for all: the same SQLite file, the same account row.
const store = await openAccountStore(config.databaseUrl);
// Log lines are serialised as in production, then dropped instead of flooding the terminal.
const quiet = { logStream: { write: () => undefined }, store };
const lending = createApp(config, quiet);
const lendingOnTRPC = createApp(config, { ...quiet, trpcAdapter: 'node-http' });
const onKoa = await lending.listen(0, '127.0.0.1');
const onTRPC = await lendingOnTRPC.listen(0, '127.0.0.1');
const bare = await serve(bareKoa());
const meFloor = await serve(accountFloor(store, cookieKeys(config.appSecret), config.sessionTtl));
const outFloor = await serve(logoutFloor(store, cookieKeys(config.appSecret), config.sessionTtl));
const callDeps = apiDeps(config, {
  store,
  archive: archiveClientFor(config, () => undefined),
  metrics: createMetrics(),
  loginLimiter: createLoginLimiter(),
});
const meCall = await serve(procedureCall(callDeps, 'account.me', 'query'));
const outCall = await serve(procedureCall(callDeps, 'auth.logout', 'mutation'));

try {
  // Production behind a TLS proxy: the proxy's X-Forwarded-Proto makes the request secure.
  const forwarded = { 'x-forwarded-proto': 'https' };
  // Two sessions: account.me's stays live; auth.logout's is revoked by its first logout (sessions are revocable).
  const logIn = async () => {
    const login = await fetch(`${onKoa.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...forwarded },
      body: JSON.stringify({ email: 'patron@example.org', password: 'lending-demo-2026' }),
    });
    const cookies = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    if (login.status !== 200 || !cookies.includes('session=') || !cookies.includes('s3=')) {
      throw new Error(`login failed: ${login.status}`);
    }
    return cookies;
  };
  const cookie = await logIn();
  const logoutCookie = await logIn();
  // Exactly what @trpc/client 11's httpBatchLink sends: a query without input is `input={}` (its batch of one
  // undefined input, serialised), a mutation without input a body of `{}` with content-type application/json.
  const me = `/trpc/account.me?batch=1&input=${encodeURIComponent('{}')}`;
  const out = '/trpc/auth.logout?batch=1';
  const withCookies = { cookie, ...forwarded };
  const posting = { cookie: logoutCookie, ...forwarded, 'content-type': 'application/json' };
  const get = (key: string, name: string, url: string): Target => ({
    key,
    name,
    url,
    method: 'GET',
    headers: withCookies,
  });
  const post = (key: string, name: string, url: string): Target => ({
    key,
    name,
    url,
    method: 'POST',
    headers: posting,
    body: '{}',
  });
  const targets: Target[] = [
    {
      key: 'bare',
      name: 'reference: bare Koa JSON endpoint',
      url: `${bare.url}/`,
      method: 'GET',
      headers: {},
    },
    get('me-floor', 'account.me floor (bare Koa)', `${meFloor.url}${me}`),
    get('me-koa', 'account.me, Koa-native adapter', `${onKoa.url}${me}`),
    get('me-trpc', "account.me, tRPC's own handler", `${onTRPC.url}${me}`),
    get('me-call', 'account.me, procedure call alone', `${meCall.url}${me}`),
    post('out-floor', 'auth.logout floor (bare Koa)', `${outFloor.url}${out}`),
    post('out-koa', 'auth.logout, Koa-native adapter', `${onKoa.url}${out}`),
    post('out-trpc', "auth.logout, tRPC's own handler", `${onTRPC.url}${out}`),
    post('out-call', 'auth.logout, procedure call alone', `${outCall.url}${out}`),
  ];
  const byKey = new Map(targets.map((target) => [target.key, target]));
  const goals = [
    { of: 'me-koa', over: 'me-floor', min: 0.75 },
    { of: 'me-koa', over: 'me-trpc', min: 4 },
    { of: 'out-koa', over: 'out-floor', min: 0.75 },
    { of: 'out-koa', over: 'out-trpc', min: 4 },
  ];

  // Honest comparisons only: every target of a group answers the same bytes.
  for (const group of ['me', 'out']) {
    const answers = await Promise.all(targets.filter((t) => t.key.startsWith(group)).map(answerOf));
    if (new Set(answers).size !== 1)
      throw new Error(`the ${group} targets answer differently:\n${answers.join('\n')}`);
    if (group === 'me' && !answers[0]!.includes('\\"keysSource\\":\\"cookie\\"')) {
      throw new Error('account.me did not see both cookies');
    }
  }

  console.log(
    pinned
      ? `servers pinned to core 0, the load generator to cores ${loadCores} (taskset)`
      : 'unpinned (no taskset, or one core): expect wider swings between rounds',
  );
  console.log(
    `autocannon in a child process: ${CONNECTIONS} connections; ${ROUNDS} paired rounds of ${DURATION} s per target (order reversed every other round), after a ${WARMUP} s warm-up each`,
  );
  for (const target of targets) await load(target, WARMUP);
  const runs = new Map<string, Load[]>(targets.map((target) => [target.key, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) runs.get(target.key)!.push(await load(target, DURATION));
    const ratios = goals.map(
      ({ of, over }) =>
        `${of}/${over} ${(runs.get(of)![round]!.requests / runs.get(over)![round]!.requests).toFixed(2)}x`,
    );
    console.log(`round ${round + 1}: ${ratios.join('  ')}`);
  }

  console.log('per target, median of the rounds:');
  for (const target of targets) {
    const loads = runs.get(target.key)!;
    const requests = median(loads.map((l) => l.requests));
    const cpu = median(loads.map((l) => l.cpuPerRequest));
    const p50 = median(loads.map((l) => l.p50));
    const p99 = median(loads.map((l) => l.p99));
    console.log(
      `  ${target.name.padEnd(36)} ${requests.toFixed(0).padStart(7)} req/s   p50 ${String(p50).padStart(3)} ms   p99 ${String(p99).padStart(4)} ms   server CPU ${cpu.toFixed(0).padStart(4)} µs/req`,
    );
  }
  const cpuOf = (key: string) => median(runs.get(key)!.map((l) => l.cpuPerRequest));
  const ratio = (of: string, over: string) =>
    median(runs.get(of)!.map((l, round) => l.requests / runs.get(over)![round]!.requests));
  console.log(
    `floors / bare Koa: account.me ${ratio('me-floor', 'bare').toFixed(2)}x, auth.logout ${ratio('out-floor', 'bare').toFixed(2)}x`,
  );

  let ok = true;
  for (const { of, over, min } of goals) {
    const value = ratio(of, over);
    const met = value >= min;
    ok &&= met;
    console.log(
      `${byKey.get(of)!.name} / ${byKey.get(over)!.name}: ${value.toFixed(2)}x the throughput, ${(cpuOf(of) / cpuOf(over)).toFixed(2)}x the CPU per request (target >= ${min}x): ${met ? 'PASS' : 'FAIL'}`,
    );
  }
  // What the targets leave for the adapter and every host layer together: the procedure call alone is the least any
  // adapter of this api can cost (it answers with no protocol read or written and no host layer), so a target is
  // within reach only while the CPU it allows per request exceeds the call's. The floor against tRPC's handler
  // bounds the second target for an app with no work of its own beyond the floor's.
  for (const group of ['me', 'out']) {
    const call = cpuOf(`${group}-call`);
    const allowed = (over: string, min: number) => cpuOf(over) / min;
    const left = goals
      .filter((goal) => goal.of === `${group}-koa`)
      .map(({ over, min }) => `${(allowed(over, min) - call).toFixed(0)} µs for ${min}x ${over}`)
      .join(', ');
    console.log(
      `${group}: the procedure call alone reaches ${ratio(`${group}-call`, `${group}-floor`).toFixed(2)}x the floor and ${ratio(`${group}-call`, `${group}-trpc`).toFixed(2)}x tRPC's handler (floor/tRPC ${ratio(`${group}-floor`, `${group}-trpc`).toFixed(2)}x); the targets leave the adapter and the host layers ${left}; they cost ${(cpuOf(`${group}-koa`) - call).toFixed(0)} µs`,
    );
  }
  const failed = [...runs.values()].flat().reduce((n, l) => n + l.non2xx + l.errors + l.timeouts, 0);
  if (failed > 0) console.log(`failed requests: ${failed}: FAIL`);
  process.exitCode = ok && failed === 0 ? 0 : 1;
} finally {
  await bare.close();
  await meFloor.close();
  await outFloor.close();
  await meCall.close();
  await outCall.close();
  await lending.close();
  await lendingOnTRPC.close();
  await store.close();
  await archive.close();
  rmSync(dir, { recursive: true, force: true });
}
