// Issue 12 §6, with real parts: three production servers (dist/server.mjs, plain node) on one PostgreSQL
// database (a schema of this run) and one Redis (a prefix of this run, through a TCP proxy the test can stop),
// the archive.org stand-in, behind HAProxy running deploy/haproxy/haproxy.cfg (rendered for these ports).
// It shows: a session served by every instance; login limits holding for the sum of the instances; a SIGTERM
// under load losing no request, a SIGKILL losing at most the requests in flight on that instance, and the
// balancer routing away from it; a rolling restart onto a new APP_SECRET logging nobody out; Redis unreachable
// then back. Figures are printed. Needs PostgreSQL (DATABASE_URL_TEST), Redis (REDIS_URL_TEST) and haproxy;
// skips with a line when one is absent, unless REQUIRE_POSTGRES / REQUIRE_REDIS / REQUIRE_HAPROXY say 1.
// About 1.5 minutes (30 s of load).
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEMO_ACCESS_SECRET, DEMO_LOAN_API_TOKEN, DEMO_SERVICE_KEYS, startArchive } from '@lending/archive';
import type { RunningArchive } from '@lending/archive';
import autocannon from 'autocannon';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHaproxyConfig } from '../src/haproxy';
import { startProgram } from './programs';
import type { Program } from './programs';

const deployPackage = path.resolve(import.meta.dirname, '..');
const HAPROXY = process.env.HAPROXY_PATH || '/usr/sbin/haproxy';
const BASE_URL = process.env.DATABASE_URL_TEST ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = new URL(process.env.REDIS_URL_TEST ?? 'redis://127.0.0.1:6379');
const DEMO = { email: 'patron@example.org', password: 'lending-demo-2026' };
const CHECK_MS = 500; // haproxy's check interval here (fastinter: half), fall 2
const SHUTDOWN_DELAY_MS = 2 * CHECK_MS * 2; // /readyz 503 this long before the listener closes
const LOAD_SECONDS = 30;
const CONNECTIONS = 50;
const SECRET_A = `scaleout-secret-a-${randomBytes(16).toString('hex')}`;
const SECRET_B = `scaleout-secret-b-${randomBytes(16).toString('hex')}`;

async function reachable(what: string, required: string, probe: () => unknown): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch (error) {
    if (process.env[required] === '1') throw error;
    console.log(
      `scaleout.test.ts: skipped, ${what} (${(error as Error).message}); ${required}=1 makes it fail`,
    );
    return false;
  }
}

/** Sends RESP commands to Redis at `url` over a plain socket; resolves with the raw reply. */
function redisCommand(url: URL, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port || 6379), url.hostname);
    socket.setTimeout(2000, () => socket.destroy(new Error('Redis did not answer')));
    let reply = '';
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      if (reply.endsWith('\r\n')) socket.end();
    });
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

const available =
  (await reachable(`no haproxy at ${HAPROXY}`, 'REQUIRE_HAPROXY', () => {
    if (!existsSync(HAPROXY)) throw new Error('missing');
  })) &&
  (await reachable('no PostgreSQL at DATABASE_URL_TEST', 'REQUIRE_POSTGRES', async () => {
    const client = new pg.Client({ connectionString: BASE_URL, connectionTimeoutMillis: 2000 });
    await client.connect();
    await client.end();
  })) &&
  (await reachable('no Redis at REDIS_URL_TEST', 'REQUIRE_REDIS', async () => {
    if (!(await redisCommand(REDIS_URL, 'PING')).includes('PONG')) throw new Error('no PONG');
  }));

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A TCP proxy in front of Redis: stop() makes Redis unreachable (the port refuses), start() brings it back. */
class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}
  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => this.sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

interface Answer {
  status: number;
  body: string;
  setCookies: string[];
}

/**
 * One request from `localAddress` (any 127.x.y.z: HAProxy appends it to X-Forwarded-For, so each step can be a
 * client network of its own): https to the balancer, which terminates TLS as in production (a self-signed
 * certificate of this run), http to an instance directly. Every request also claims `X-Forwarded-Proto: https`:
 * HAProxy must overwrite it with what the connection really was (the servers trust it from loopback).
 */
function request(
  base: string,
  pathname: string,
  options: { body?: unknown; cookie?: string; localAddress?: string } = {},
): Promise<Answer> {
  const url = new URL(pathname, base);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const tls = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (tls ? https : http).request(
      {
        ...(tls ? { rejectUnauthorized: false } : {}),
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: body === undefined ? 'GET' : 'POST',
        localAddress: options.localAddress,
        agent: false,
        headers: {
          'x-forwarded-proto': 'https',
          ...(body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          ...(options.cookie ? { cookie: options.cookie } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () => {
          const raw = res.headers['set-cookie'] ?? [];
          resolve({ status: res.statusCode ?? 0, body: text, setCookies: raw });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const login = (base: string, email: string, password: string, localAddress?: string) =>
  request(base, '/trpc/auth.login', { body: { email, password }, localAddress });

/** The Cookie header carrying every cookie a response set. */
const cookieHeader = (answer: Answer): string =>
  answer.setCookies.map((line) => line.split(';')[0]).join('; ');

/** Whether account.me answered with a patron (not null: logged out). */
function loggedIn(answer: Answer): boolean {
  if (answer.status !== 200) return false;
  const data = (JSON.parse(answer.body) as { result?: { data?: unknown } }).result?.data;
  return data !== null && data !== undefined;
}

interface Instance {
  name: string;
  port: number;
  metricsPort: number;
  env: Record<string, string>;
  program: Program | null;
}

interface LogLine {
  /** When this test read the line (ms epoch): later than HAProxy wrote it whenever the test is busy. */
  at: number;
  text: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * When HAProxy accepted the request of an access-log line (`[01/Dec/2026:10:48:23.605]`, its local time, which is
 * this process's: same machine, same environment), in ms epoch; undefined for other lines (server states).
 */
function acceptedAt(text: string): number | undefined {
  const date = /\[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})\.(\d{3})\]/.exec(text);
  if (!date) return undefined;
  const [, day, month, year, hours, minutes, seconds, ms] = date;
  return new Date(+year!, MONTHS.indexOf(month!), +day!, +hours!, +minutes!, +seconds!, +ms!).getTime();
}

describe.skipIf(!available)('three instances behind HAProxy (slow)', () => {
  let folder: string;
  let archive: RunningArchive;
  let redisProxy: TcpProxy;
  let haproxy: ChildProcess;
  let balancer: string;
  let plainBalancerPort: number;
  const haproxyLog: LogLine[] = [];
  const schema = `lending_scaleout_${randomBytes(6).toString('hex')}`;
  const prefix = `lending-scaleout:${randomBytes(6).toString('hex')}:`;
  const instances: Instance[] = [];
  let cookie = '';

  /** The HAProxy access-log lines for requests whose path contains `marker`: the server that answered each. */
  const servedBy = (marker: string): string[] =>
    haproxyLog
      .filter((l) => l.text.includes(marker))
      .map((l) => / lending_servers\/(lending\d) /.exec(l.text)?.[1] ?? '?');

  async function startInstance(instance: Instance): Promise<void> {
    instance.program = await startProgram(process.execPath, 'dist/server.mjs', deployPackage, instance.env);
  }

  /** The haproxy state line "lending_servers/<name> is UP|DOWN" seen after `since` (ms epoch). */
  const stateSince = (name: string, state: 'UP' | 'DOWN', since: number): LogLine | undefined =>
    haproxyLog.find((l) => l.at >= since && l.text.includes(`lending_servers/${name} is ${state}`));

  /** SIGTERM, the exit, then the same instance again (same port) with `env` changes; waits until HAProxy has it. */
  async function restart(instance: Instance, env: Record<string, string> = {}): Promise<void> {
    const code = await instance.program!.stop();
    expect(code, instance.program!.output().slice(-2000)).toBe(0);
    Object.assign(instance.env, env);
    const started = Date.now();
    await startInstance(instance);
    await until(`${instance.name} UP`, () => stateSince(instance.name, 'UP', started) !== undefined);
  }

  async function metricsOf(instance: Instance): Promise<string> {
    return (await fetch(`http://127.0.0.1:${instance.metricsPort}/metrics`)).text();
  }

  function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
        sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }

  beforeAll(async () => {
    folder = mkdtempSync(path.join(tmpdir(), 'lending-scaleout-'));
    execFileSync(process.execPath, ['build.mjs'], { cwd: deployPackage, stdio: 'pipe' });
    archive = await startArchive({ port: 0 });
    redisProxy = new TcpProxy({ host: REDIS_URL.hostname, port: Number(REDIS_URL.port || 6379) });
    await redisProxy.start();
    const redisThrough = new URL(REDIS_URL);
    redisThrough.hostname = '127.0.0.1';
    redisThrough.port = String(redisProxy.port);
    const databaseUrl = `${BASE_URL}${BASE_URL.includes('?') ? '&' : '?'}schema=${schema}`;

    for (let i = 1; i <= 3; i++) {
      const port = await freePort();
      const metricsPort = await freePort();
      instances.push({
        name: `lending${i}`,
        port,
        metricsPort,
        program: null,
        env: {
          NODE_ENV: 'production',
          HOST: '127.0.0.1',
          PORT: String(port),
          METRICS_PORT: String(metricsPort),
          APP_SECRET: SECRET_A,
          DATABASE_URL: databaseUrl,
          REDIS_URL: redisThrough.toString(),
          REDIS_PREFIX: prefix,
          TRUST_PROXY: 'true',
          SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
          SHUTDOWN_TIMEOUT_MS: '15000',
          ARCHIVE_URL: archive.url,
          ARCHIVE_SERVICE_ACCESS: DEMO_SERVICE_KEYS.access,
          ARCHIVE_SERVICE_SECRET: DEMO_SERVICE_KEYS.secret,
          ARCHIVE_LOAN_API_TOKEN: DEMO_LOAN_API_TOKEN,
          ARCHIVE_ACCESS_SECRET: DEMO_ACCESS_SECRET,
        },
      });
    }
    // The first creates the schema; the others then start together.
    await startInstance(instances[0]!);
    await Promise.all(instances.slice(1).map(startInstance));

    const port = await freePort();
    balancer = `https://127.0.0.1:${port}`;
    plainBalancerPort = await freePort();
    const certificate = path.join(folder, 'balancer.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        certificate,
        '-out',
        certificate,
      ],
      { stdio: 'ignore' },
    );
    const config = path.join(folder, 'haproxy.cfg');
    writeFileSync(
      config,
      renderHaproxyConfig({
        bind: `127.0.0.1:${port}`,
        tlsCertificate: certificate,
        servers: instances.map((i) => `127.0.0.1:${i.port}`),
        checkIntervalMs: CHECK_MS,
      }),
    );
    haproxy = spawn(HAPROXY, ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    const onData = (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      const at = Date.now();
      for (const text of lines) haproxyLog.push({ at, text });
    };
    haproxy.stdout!.on('data', onData);
    haproxy.stderr!.on('data', onData);
    // Every server is checked (and UP) before the first request.
    await until('haproxy answers', async () => {
      try {
        return (await request(balancer, '/livez')).status === 200;
      } catch {
        return false;
      }
    });
  }, 180_000);

  afterAll(async () => {
    if (haproxy && haproxy.exitCode === null) {
      const exited = new Promise((resolve) => haproxy.once('exit', resolve));
      haproxy.kill('SIGTERM');
      await exited;
    }
    await Promise.all(instances.flatMap((i) => (i.program ? [i.program.stop()] : [])));
    await redisProxy?.stop();
    await archive?.close();
    const client = new pg.Client({ connectionString: BASE_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
    // Every key of this run (the "known network" ones would otherwise live 30 days).
    await redisCommand(
      REDIS_URL,
      'EVAL',
      "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0",
      '0',
      `${prefix}*`,
    );
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('0. a client on plain http cannot claim https through the balancer: production refuses to sign in', async () => {
    const plain = path.join(folder, 'haproxy-plain.cfg');
    writeFileSync(
      plain,
      renderHaproxyConfig({
        bind: `127.0.0.1:${plainBalancerPort}`,
        servers: instances.map((i) => `127.0.0.1:${i.port}`),
        checkIntervalMs: CHECK_MS,
      }),
    );
    const second = spawn(HAPROXY, ['-db', '-f', plain], { stdio: 'ignore' });
    try {
      let answer: Answer | null = null;
      for (let tries = 0; tries < 50 && answer?.status !== 400; tries++) {
        answer = await login(`http://127.0.0.1:${plainBalancerPort}`, DEMO.email, DEMO.password).catch(
          () => null,
        );
        if (answer?.status !== 400) await new Promise((r) => setTimeout(r, 100));
      }
      // The client's X-Forwarded-Proto: https was replaced by http: "Sign-in needs HTTPS", no session.
      expect(answer?.status).toBe(400);
      expect(answer?.body).toMatch(/HTTPS/);
      expect(answer?.setCookies).toEqual([]);
    } finally {
      second.kill('SIGTERM');
    }
  });

  it('1. a patron logs in through the balancer; the following requests land on every instance and succeed', async () => {
    const answer = await login(balancer, DEMO.email, DEMO.password);
    expect(answer.status, answer.body).toBe(200);
    cookie = cookieHeader(answer);
    expect(cookie).toMatch(/session/);
    for (let i = 0; i < 6; i++) {
      const me = await request(balancer, `/trpc/account.me?step1=${i}`, { cookie });
      expect(loggedIn(me), me.body).toBe(true);
    }
    await until('six log lines', () => servedBy('step1=').length === 6);
    const servers = servedBy('step1=');
    console.log(`scaleout 1: account.me answered by ${servers.join(', ')}`);
    expect(new Set(servers).size).toBe(3);
  });

  it('2. wrong passwords for one email, spread over the instances, are limited as one sum', async () => {
    const from = '127.0.0.2';
    const statuses: number[] = [];
    // pairFreeFailures is 3: the fourth failure of a (email, network) pair makes the next attempt wait.
    for (let i = 0; i < 5; i++) {
      statuses.push(
        (await login(balancer, DEMO.email, `wrong-${i}-${randomBytes(3).toString('hex')}`, from)).status,
      );
    }
    await until('five log lines', () => servedBy('auth.login').length >= 6);
    const servers = servedBy('auth.login').slice(1);
    console.log(`scaleout 2: wrong passwords answered ${statuses.join(', ')} by ${servers.join(', ')}`);
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    // No instance saw more than two of the failures: alone, none would have refused.
    for (const name of ['lending1', 'lending2', 'lending3']) {
      expect(servers.slice(0, 4).filter((s) => s === name).length).toBeLessThanOrEqual(2);
    }
  });

  it('3. under load, SIGTERM loses no request; SIGKILL loses at most those in flight, and routing stops', async () => {
    const target = `/trpc/account.me`;
    const headers = { cookie, 'x-forwarded-proto': 'https' };
    // Baselines, 5 s each: one instance direct with its share of the connections (with all 50 it would shed what
    // its database pool cannot hold: 503 database_busy), then the balancer, both quiet.
    const direct = await autocannon({
      url: `http://127.0.0.1:${instances[0]!.port}${target}`,
      connections: Math.ceil(CONNECTIONS / 3),
      duration: 5,
      headers,
    });
    const quiet = await autocannon({
      url: balancer + target,
      connections: CONNECTIONS,
      duration: 5,
      headers,
    });

    const failures: { at: number; what: string }[] = [];
    const started = Date.now();
    let finish: (result: autocannon.Result) => void = () => undefined;
    const finished = new Promise<autocannon.Result>((resolve) => (finish = resolve));
    const load = autocannon(
      { url: balancer + target, connections: CONNECTIONS, duration: LOAD_SECONDS, headers },
      (_error, result) => finish(result),
    );
    load.on('response', (_client, status) => {
      if (status !== 200) failures.push({ at: Date.now(), what: String(status) });
    });
    load.on('reqError', (error: Error) => failures.push({ at: Date.now(), what: error.message }));

    // SIGTERM lending1 after 4 s; it drains and exits; it comes back (same port) and HAProxy takes it again.
    await sleep(4000);
    const termAt = Date.now();
    await restart(instances[0]!);
    const backAt = Date.now();
    const failuresAroundTerm = failures.filter((f) => f.at >= started && f.at <= backAt).length;

    // SIGKILL lending2 at 15 s at the earliest.
    await sleep(Math.max(0, started + 15_000 - Date.now()));
    const killed = instances[1]!;
    const linesBeforeKill = haproxyLog.length;
    const killAt = Date.now();
    killed.program!.child.kill('SIGKILL');
    await until('lending2 DOWN', () => stateSince('lending2', 'DOWN', killAt) !== undefined);
    const downAt = stateSince('lending2', 'DOWN', killAt)!.at;
    const result = await finished;
    // Requests HAProxy accepted after it marked lending2 DOWN (by HAProxy's own clock: the test may read a line
    // written before DOWN only after it, while its own load keeps it busy) and still sent to lending2.
    const afterDownLines = haproxyLog
      .slice(linesBeforeKill)
      .filter(
        (l) => l.text.includes(' lending_servers/lending2 ') && (acceptedAt(l.text) ?? 0) > downAt + 100,
      )
      .map((l) => l.text);
    const afterDown = afterDownLines.length;
    // That clock is read right: the last request lending2 answered before the kill was accepted just before it.
    const lastBeforeKill = haproxyLog
      .slice(0, linesBeforeKill)
      .findLast((l) => l.text.includes(' lending_servers/lending2 ') && / 200 /.test(l.text));
    const lastAccepted = acceptedAt(lastBeforeKill?.text ?? '');
    const afterKill = failures.filter((f) => f.at >= killAt);
    const routedToKilled = haproxyLog
      .slice(linesBeforeKill)
      .filter((l) => l.text.includes(' lending_servers/lending2 ') && / 5\d\d /.test(l.text)).length;

    const figures = (name: string, r: autocannon.Result) =>
      `${name}: ${r.requests.total} requests, ${r.non2xx + r.errors} failures, ` +
      `${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`;
    console.log(
      [
        `scaleout 3: ${CONNECTIONS} connections, loopback`,
        `  ${figures(`one instance direct, ${Math.ceil(CONNECTIONS / 3)} connections, 5 s`, direct)}`,
        `  ${figures('balancer, quiet, 5 s', quiet)}`,
        `  ${figures(`balancer, ${LOAD_SECONDS} s with SIGTERM + SIGKILL`, result)}`,
        `  SIGTERM at +${termAt - started} ms, back in rotation at +${backAt - started} ms: ${failuresAroundTerm} failures`,
        `  SIGKILL at +${killAt - started} ms, haproxy marked it DOWN ${downAt - killAt} ms later ` +
          `(check every ${CHECK_MS} ms, fastinter ${CHECK_MS / 2} ms, fall 2): ${afterKill.length} failures ` +
          `(${[...new Set(afterKill.map((f) => f.what))].join(', ') || 'none'}), ${routedToKilled} 5xx logged for lending2, ` +
          `${afterDown} requests routed to it after DOWN`,
      ].join('\n'),
    );
    expect(direct.non2xx + direct.errors).toBe(0);
    expect(quiet.non2xx + quiet.errors).toBe(0);
    expect(failuresAroundTerm).toBe(0);
    // At most the requests in flight on the killed instance: each of the 50 connections has one at a time.
    expect(afterKill.length).toBeLessThanOrEqual(CONNECTIONS);
    expect(result.non2xx + result.errors).toBe(afterKill.length);
    expect(afterDownLines).toEqual([]);
    expect(lastAccepted, lastBeforeKill?.text).toBeGreaterThan(killAt - 2000);
    expect(lastAccepted, lastBeforeKill?.text).toBeLessThanOrEqual(killAt + 50);
    // Health checks, not luck: DOWN within the check interval plus the fall checks (and scheduling slack).
    expect(downAt - killAt).toBeLessThanOrEqual(CHECK_MS + 2 * (CHECK_MS / 2) + 2000);
    // It comes back for the next steps.
    const again = Date.now();
    await startInstance(killed);
    await until('lending2 UP', () => stateSince('lending2', 'UP', again) !== undefined);
  }, 120_000);

  it('4. a rolling restart onto a new APP_SECRET (the old one in APP_SECRET_PREVIOUS) logs nobody out', async () => {
    let checked = 0;
    for (const instance of instances) {
      await restart(instance, { APP_SECRET: SECRET_B, APP_SECRET_PREVIOUS: SECRET_A });
      for (let i = 0; i < 3; i++) {
        const me = await request(balancer, `/trpc/account.me?step4=${checked++}`, { cookie });
        expect(loggedIn(me), me.body).toBe(true);
      }
    }
    await until('log lines', () => servedBy('step4=').length === checked);
    console.log(`scaleout 4: after each restart, account.me answered by ${servedBy('step4=').join(', ')}`);
    expect(new Set(servedBy('step4=')).size).toBe(3);
    // A new login is sealed with the new secret and served by all.
    const fresh = await login(balancer, DEMO.email, DEMO.password);
    expect(fresh.status).toBe(200);
  }, 60_000);

  it('5. Redis unreachable: logins keep working, the warning and the metric appear; shared again once back', async () => {
    await redisProxy.stop();
    for (let i = 0; i < 3; i++) {
      expect((await login(balancer, DEMO.email, DEMO.password, '127.0.0.3')).status).toBe(200);
    }
    const warned = instances.filter((i) =>
      i.program!.output().includes('login limits: the redis store failed'),
    );
    const degraded: string[] = [];
    for (const instance of instances) {
      const text = await metricsOf(instance);
      if (metricValue(text, 'lending_limiter_store_degraded', { store: 'redis' }) === 1)
        degraded.push(instance.name);
    }
    console.log(
      `scaleout 5: Redis unreachable: warning from ${warned.map((i) => i.name).join(', ')}; degraded: ${degraded.join(', ')}`,
    );
    expect(warned.length).toBe(3);
    expect(degraded.length).toBe(3);
    // Never a fail-open: each instance's own limiter still counts, so the pair limit now holds per instance (the
    // first refusal comes after each of the three has seen its four failures, not after four in all).
    const down: number[] = [];
    while (down.length < 18 && !down.includes(429)) {
      down.push((await login(balancer, DEMO.email, `down-${down.length}-nope`, '127.0.0.6')).status);
    }
    console.log(`scaleout 5: wrong passwords while Redis is unreachable: ${down.join(', ')}`);
    expect(down.at(-1)).toBe(429);
    expect(down.slice(0, 12).every((status) => status === 401)).toBe(true);

    await redisProxy.start();
    const backAt = Date.now();
    await until('limits shared again', async () => {
      await login(balancer, DEMO.email, DEMO.password, '127.0.0.4');
      const texts = await Promise.all(instances.map(metricsOf));
      return texts.every((t) => metricValue(t, 'lending_limiter_store_degraded', { store: 'redis' }) === 0);
    });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await login(balancer, DEMO.email, `back-${i}-nope`, '127.0.0.5')).status);
    }
    console.log(
      `scaleout 5: Redis back, shared again after ${Date.now() - backAt} ms; wrong passwords: ${statuses.join(', ')}`,
    );
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
  }, 60_000);
});
