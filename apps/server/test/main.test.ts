// main.ts as a process: a bad variable stops it with a message naming the variable (never its value);
// SIGTERM lets an in-flight request finish, then the process exits 0.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startArchive } from '@lending/archive';
import type { RunningArchive } from '@lending/archive';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/env';
import { TEST_SECRET } from './helpers';

const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const main = path.join(REPO_ROOT, 'apps', 'server', 'src', 'main.ts');

function launch(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(tsx, [main], {
    cwd: mkdtempSync(path.join(tmpdir(), 'lending-main-')),
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', APP_SECRET: TEST_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

describe('main.ts', () => {
  it('stops on a bad variable, naming it and hiding secrets', async () => {
    const run = launch({ PORT: 'not-a-port', APP_SECRET: 'too-short-secret-value' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('PORT');
    expect(run.output()).toContain('APP_SECRET');
    expect(run.output()).not.toContain('too-short-secret-value');
    expect(run.output()).not.toMatch(/\n\s+at /); // no stack
  }, 30_000);

  describe('running', () => {
    let archive: RunningArchive;
    beforeAll(async () => {
      archive = await startArchive({ port: 0 });
    });
    afterAll(async () => {
      await archive.close();
    });

    it('drains an in-flight request on SIGTERM, then exits 0', async () => {
      const run = launch({
        PORT: '0',
        DATABASE_URL: 'sqlite:./data/lending.db',
        ARCHIVE_URL: archive.url,
        ARCHIVE_TIMEOUT_MS: '5000',
      });
      const deadline = Date.now() + 20_000;
      let url: string | undefined;
      while (!url && Date.now() < deadline) {
        url = /listening on (http:\/\/[\d.:]+)/.exec(run.output())?.[1];
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(url).toBeDefined();
      // A slow archive.org call keeps a request in flight while the signal arrives.
      archive.state.fault = { kind: 'hang' };
      const inFlight = fetch(`${url}/trpc/auth.login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'patron@example.org', password: 'lending-demo-2026' }),
      });
      await new Promise((r) => setTimeout(r, 300));
      run.child.kill('SIGTERM');
      const reply = await inFlight;
      expect(reply.status).toBe(503); // answered (archive timeout), not cut off
      expect(await run.exited).toBe(0);
      expect(run.output()).toContain('draining');
      archive.state.fault = null;
    }, 40_000);
  });
});
