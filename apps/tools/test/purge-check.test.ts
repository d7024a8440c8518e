// `pnpm purge --check` against real server instances (apps/server's createApp on port 0, each in its own process,
// all on one store), driven by real requests: a session with its s3 cookie, one whose cookie was tampered with,
// one without a cookie (it predates the change), a restart, an instance that does not answer.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArchive } from '@lending/archive';
import type { RunningArchive } from '@lending/archive';
import { openAccountStore } from '@lending/accounts';
import { runPurgeCli } from '../src/purge/cli';
import type { CheckReport } from '../src/purge/check';
import { demoPatron } from './lending-stack';
import { runPurge, toolsDir } from './purge-helpers';

const APP_SECRET = 'purge-check-test-secret-0123456789abcdef';
/** Short, so that the test can wait it out; the rules are the same for an hour. */
const WINDOW = 4;

interface Instance {
  url: string;
  metrics: string;
  child: ChildProcessWithoutNullStreams;
  stop(): Promise<void>;
}

let archive: RunningArchive;
let dir: string;
let databaseUrl: string;
const instances: Instance[] = [];

function startInstance(env: Record<string, string> = {}): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/server-instance.ts'], {
    cwd: toolsDir,
    env: { ...process.env, APP_SECRET, DATABASE_URL: databaseUrl, ARCHIVE_URL: archive.url, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server instance exited (${code}): ${stderr}`)));
    child.stdout.once('data', (chunk: Buffer) => {
      const url = chunk.toString().trim();
      const instance: Instance = {
        url,
        metrics: `${url}/metrics`,
        child,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('close', () => done());
            child.kill('SIGTERM');
          }),
      };
      instances.push(instance);
      resolve(instance);
    });
  });
}

/** A port nothing listens on: one the system just gave out and took back. */
function closedPort(): Promise<number> {
  const server = createServer();
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    }),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until every given instance has been up longer than the window, by its own metrics. */
async function outlastWindow(...targets: Instance[]): Promise<void> {
  for (const instance of targets) {
    const text = await (await fetch(instance.metrics)).text();
    const started = Number(/^process_start_time_seconds (\S+)/m.exec(text)?.[1]);
    const wait = (started + WINDOW + 1.5) * 1000 - Date.now();
    if (wait > 0) await sleep(wait);
  }
}

function cookieHeader(cookies: Record<string, string>): string {
  return Object.entries(cookies)
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
}

/** Logs a demo patron in with S3 keys; the session and s3 cookies it got. */
async function logIn(instance: Instance): Promise<{ cookies: Record<string, string>; username: string }> {
  const patron = demoPatron(0);
  const response = await fetch(`${instance.url}/trpc/auth.loginWithKeys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ access: patron.access, secret: patron.secret }),
  });
  expect(response.status).toBe(200);
  const cookies: Record<string, string> = {};
  for (const header of response.headers.getSetCookie()) {
    const [pair = ''] = header.split(';');
    const eq = pair.indexOf('=');
    cookies[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const body = (await response.json()) as { result: { data: { username: string } } };
  return { cookies, username: body.result.data.username };
}

/** `account.me` with these cookies: the request needs the patron's keys and says where they came from. */
async function me(instance: Instance, cookies: Record<string, string>): Promise<string> {
  const response = await fetch(`${instance.url}/trpc/account.me`, {
    headers: { cookie: cookieHeader(cookies) },
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { result: { data: { keysSource: string } } };
  return body.result.data.keysSource;
}

/** `pnpm purge --check --json` in this process (fast, so the short window holds); its exit code and report. */
async function check(
  targets: string[],
  window = WINDOW,
  metricsToken?: string,
): Promise<{ code: number; report: CheckReport; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await runPurgeCli(
    ['--check', '--json', '--window', `${window}s`, ...targets.flatMap((url) => ['--metrics-url', url])],
    {
      io: { stdout, stderr, stdin: new PassThrough() },
      defaultDatabaseUrl: databaseUrl,
      signals: new EventEmitter(),
      metricsToken,
    },
  );
  return { code, report: JSON.parse(out) as CheckReport, stderr: err };
}

beforeAll(async () => {
  archive = await startArchive({ port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'lending-purge-check-'));
  databaseUrl = `sqlite:${join(dir, 'lending.db')}`;
  await (await openAccountStore(databaseUrl)).close();
}, 60_000);

afterAll(async () => {
  await Promise.all(instances.map((instance) => instance.stop()));
  await archive?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('pnpm purge --check across server instances', () => {
  it(
    'is safe only when no session without an s3 cookie needed the store in the window, on every instance',
    { timeout: 120_000 },
    async () => {
      const [a, b] = await Promise.all([startInstance(), startInstance()]);
      const session = await logIn(a);
      // The patron's record also holds legacy keys, as records written before the change do.
      const store = await openAccountStore(databaseUrl);
      await store.saveS3Keys(session.username, {
        access: demoPatron(0).access,
        secret: demoPatron(0).secret,
      });
      await store.close();

      // Both servers started less than a minute ago: they cannot vouch for a one-minute window.
      const fresh = await check([a.metrics, b.metrics], 60);
      expect(fresh.code).toBe(1);
      expect(fresh.report.verdict).toBe('not_yet');
      expect(fresh.report.instances.map((i) => i.finding)).toEqual(['restarted', 'restarted']);
      expect(fresh.stderr).toMatch(/NOT YET: a server started within the 60 s window/);

      await outlastWindow(a, b);
      // No request needed keys in the window yet: no evidence.
      expect((await check([a.metrics, b.metrics])).report).toMatchObject({ verdict: 'not_yet' });
      expect((await check([a.metrics, b.metrics])).stderr).toContain('no evidence either way');

      // A with the s3 cookie; B with a tampered one: B falls back to the store, but only because the cookie
      // was rejected, which the purge does not change.
      expect(await me(a, session.cookies)).toBe('cookie');
      const s3 = session.cookies.s3!;
      const tampered = {
        ...session.cookies,
        s3: `${s3.slice(0, 40)}${s3[40] === 'A' ? 'B' : 'A'}${s3.slice(41)}`,
      };
      expect(await me(b, tampered)).toBe('store');
      const safe = await check([a.metrics, b.metrics]);
      expect(safe.code, safe.stderr).toBe(0);
      expect(safe.report.verdict).toBe('safe');
      expect(safe.report.instances[1]).toMatchObject({
        finding: 'clear',
        sinceStart: { cookie_rejected: 1, no_cookie: 0 },
      });
      expect(safe.stderr).toMatch(
        /a rejected s3 cookie fell back to the store .* ago, which the purge does not change/,
      );

      // A session from before the change (no s3 cookie) on B: not yet.
      const { s3: _dropped, ...withoutS3 } = session.cookies;
      expect(await me(b, withoutS3)).toBe('store');
      const needed = await check([a.metrics, b.metrics]);
      expect(needed.code).toBe(1);
      expect(needed.report.instances.map((i) => i.finding)).toEqual(['clear', 'store_needed']);
      expect(needed.stderr).toMatch(/NOT YET: in the last 4 s a session without an s3 cookie took its keys/);

      // Once that fallback is older than the window (and traffic goes on with cookies), it is safe again: one
      // fallback long ago does not hold the purge back for ever.
      await sleep((WINDOW + 1.5) * 1000);
      expect(await me(a, session.cookies)).toBe('cookie');
      expect((await check([a.metrics, b.metrics])).code).toBe(0);

      // B restarts: its new process cannot vouch for the window, whatever its counters say.
      await b.stop();
      const b2 = await startInstance();
      const restarted = await check([a.metrics, b2.metrics]);
      expect(restarted.code).toBe(1);
      expect(restarted.report.instances.map((i) => i.finding)).toEqual(['clear', 'restarted']);

      // An instance that does not answer, or a URL that is not a server's metrics: no verdict (exit 2).
      const closed = `http://127.0.0.1:${await closedPort()}/metrics`;
      const down = await check([a.metrics, closed]);
      expect(down.code).toBe(2);
      expect(down.report.verdict).toBe('unknown');
      expect(down.stderr).toMatch(/^UNKNOWN: the metrics of some instance could not be read/);
      expect(down.stderr).toContain(`${closed}: could not be read (connect ECONNREFUSED`);
      const foreign = await check([`${a.url}/healthz`]);
      expect(foreign.code).toBe(2);
      expect(foreign.stderr).toContain('has no lending_s3_keys_source_total metric');

      // The command as operators run it: the same verdicts and exit codes from the process.
      await outlastWindow(b2);
      expect(await me(a, session.cookies)).toBe('cookie');
      const fromProcess = await runPurge([
        '--check',
        '--window',
        `${WINDOW + 60}s`,
        '--metrics-url',
        `${a.metrics},${b2.metrics}`,
      ]);
      expect(fromProcess.code).toBe(1);
      expect(fromProcess.stderr).toContain('NOT YET: a server started within the 64 s window');
    },
  );

  it('reads /metrics guarded by METRICS_TOKEN with the same token, and never prints it', async () => {
    const token = 'metrics-token-for-the-purge-check-0123';
    const guarded = await startInstance({ METRICS_TOKEN: token });
    const without = await check([guarded.metrics], 60);
    expect(without.code).toBe(2);
    expect(without.stderr).toContain('answered HTTP 401');
    const withToken = await check([guarded.metrics], 60, token);
    expect(withToken.code).toBe(1); // read: the server is younger than the window
    expect(withToken.report.instances[0]).toMatchObject({ finding: 'restarted', error: null });
    const fromProcess = await runPurge(['--check', '--window', '60s', '--metrics-url', guarded.metrics], {
      METRICS_TOKEN: token,
    });
    expect(fromProcess.code).toBe(1);
    expect(fromProcess.stderr + fromProcess.stdout).not.toContain(token);
  }, 60_000);
});
