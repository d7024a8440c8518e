// In-process tests of the purge CLI: the terminal path (confirmation prompt, progress bar) that a subprocess
// without a terminal cannot reach.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { openAccountStore } from '@lending/accounts';
import { runPurgeCli } from './cli';

describe('runPurgeCli on a terminal', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  async function storeWithKeys(): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'lending-purge-cli-unit-'));
    dirs.push(dir);
    const url = `sqlite:${join(dir, 'lending.db')}`;
    const store = await openAccountStore(url);
    for (let i = 0; i < 40; i++) {
      const username = `patron${String(i).padStart(2, '0')}`;
      await store.create({
        username,
        email: `${username}@example.org`,
        displayName: `Patron ${i}`,
        status: 'active',
        itemname: `@${username}`,
        createdOn: '2020-01-01T00:00:00.000Z',
      });
      if (i % 4 === 0)
        await store.saveS3Keys(username, { access: `ACCESS${i}xxxxxxxxx`, secret: `SECRET${i}yyyyyyyyy` });
    }
    await store.close();
    return url;
  }

  async function keysLeft(url: string): Promise<number> {
    const store = await openAccountStore(url);
    try {
      return (await store.scan({ limit: 1000 })).filter((account) => account.s3Keys).length;
    } finally {
      await store.close();
    }
  }

  function terminal(answer: string) {
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 100 });
    const stdout = new PassThrough();
    let err = '';
    let out = '';
    stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      // Answer once the question is on screen.
      if (err.includes('[y/N]') && answer) {
        stdin.write(`${answer}\n`);
        answer = '';
      }
    });
    stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    return { io: { stdin, stderr, stdout }, output: () => ({ err, out }) };
  }

  it('asks first; anything but yes changes nothing (exit 1)', async () => {
    const url = await storeWithKeys();
    const { io, output } = terminal('n');
    const code = await runPurgeCli(['--database-url', url], {
      io,
      defaultDatabaseUrl: url,
      signals: new EventEmitter(),
    });
    expect(code).toBe(1);
    expect(output().err).toMatch(/Remove the legacy S3 keys of all 40 accounts in sqlite:.*\? .*\[y\/N\]/);
    expect(output().err).toContain('Not confirmed: nothing was changed.');
    expect(await keysLeft(url)).toBe(10);
  });

  it('purges after "y", with a progress bar on stderr and nothing on stdout', async () => {
    const url = await storeWithKeys();
    const { io, output } = terminal('y');
    const code = await runPurgeCli(['--database-url', url, '--batch-size', '7'], {
      io,
      defaultDatabaseUrl: url,
      signals: new EventEmitter(),
    });
    expect(code).toBe(0);
    expect(output().err).toMatch(/\[[#-]+\] \d+% \| \d+\/40 accounts \| \d+ purged/);
    expect(output().err).toMatch(/Purged\s+10/);
    expect(output().out).toBe('');
    expect(output().err).not.toContain('SECRET');
    expect(await keysLeft(url)).toBe(0);
  });
});
