// The stand-in as `pnpm start` runs it: src/main.ts in its own process, configured by its environment.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_SERVICE_KEYS, demoPatrons } from '../src/app';

const appDir = fileURLToPath(new URL('..', import.meta.url));
const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
const demo = demoPatrons()[0]!;

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

const running: ChildProcess[] = [];
afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
});

function start(env: Record<string, string>): Promise<Started> {
  const child = spawn(tsx, ['src/main.ts'], {
    cwd: appDir,
    env: { PATH: process.env.PATH, ARCHIVE_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 20 s:\n${output}`)), 20_000);
    child.stdout.on('data', () => {
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ child, url, output: () => output });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${output}`));
    });
  });
}

const issueOtp = (url: string) =>
  fetch(`${url}/services/xauthn/?op=issue_otp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-originating-ip': '198.51.100.7' },
    body: JSON.stringify({ email: demo.email, service: 'ol', ...DEMO_SERVICE_KEYS }),
  });

/** Stops the process; once it has exited, everything it wrote has arrived (pipes are synchronous on Linux). */
async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

describe('main.ts', () => {
  it('in development: the outbox endpoint and a log line carry the code; env sets the catalogue and strictness', async () => {
    const { child, url, output } = await start({ NODE_ENV: 'development', ARCHIVE_STRICT: '1' });
    expect((await issueOtp(url)).status).toBe(200);
    const outbox = (await (await fetch(`${url}/_dev/outbox?email=${demo.email}`)).json()) as {
      messages: { code: string }[];
    };
    const code = outbox.messages[0]?.code;
    expect(code).toMatch(/^\d{6}$/);

    const search = await fetch(`${url}/advancedsearch.php?q=collection:inlibrary&rows=0&output=json`);
    expect(((await search.json()) as { response: { numFound: number } }).response.numFound).toBe(155);
    const invented = await fetch(`${url}/services/loans/loan/?action=user_loans`, {
      method: 'POST',
      body: new URLSearchParams({ access: demo.access, secret: demo.secret }),
    });
    expect(invented.status).toBe(400);
    await invented.text();

    await stop(child);
    expect(output()).toContain(`[outbox] one-time login code for ${demo.email}: ${code}`);
  }, 30_000);

  it('in production: no /_dev/ endpoints and no code in the log, the real endpoints unchanged', async () => {
    const { child, url, output } = await start({ NODE_ENV: 'production', ARCHIVE_CATALOGUE: 'classic' });
    const issued = await issueOtp(url);
    expect(issued.status).toBe(200);
    expect(await issued.json()).toEqual({ success: true, version: 1 });
    for (const path of ['/_dev/outbox', `/_dev/outbox?email=${demo.email}`, '/_dev/calls']) {
      const response = await fetch(`${url}${path}`);
      expect(response.status, path).toBe(404);
      expect(await response.json()).toEqual({ error: 'not_found' });
    }
    const reset = await fetch(`${url}/_dev/calls`, { method: 'DELETE' });
    expect(reset.status).toBe(404);
    await reset.text();
    const search = await fetch(`${url}/advancedsearch.php?q=collection:inlibrary&rows=0&output=json`);
    expect(((await search.json()) as { response: { numFound: number } }).response.numFound).toBe(30);

    await stop(child);
    expect(output()).toMatch(/listening on/);
    expect(output()).not.toMatch(/outbox|\b\d{6}\b/);
  }, 30_000);

  it('stops with a message naming a bad variable', async () => {
    await expect(start({ ARCHIVE_LATENCY_MS: 'slow' })).rejects.toThrow(
      /exited with 1:[^]*could not start: Invalid archive stand-in configuration[^]*ARCHIVE_LATENCY_MS/,
    );
  }, 30_000);
});
