// `pnpm purge` as operators type it: usage errors and help as real subprocesses, and the documented
// `pnpm purge --json` command, whose stdout must be exactly one JSON document.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runPurge, seedStore } from './purge-helpers';
import type { ToolResult } from './purge-helpers';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

describe('pnpm purge usage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lending-purge-cli-'));
  const missing = `sqlite:${join(dir, 'nothing-here.db')}`;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // The argument rules themselves are unit-tested in src/purge/options.test.ts; these check the process's behaviour.
  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--batch-size', 'abc'], /--batch-size must be a whole number, got "abc"/],
    [
      ['--check', '--dry-run'],
      /--check only reads the servers' metrics; it takes --metrics-url, --window and --json, not --dry-run/,
    ],
    [['--yes', '--database-url', missing], /no SQLite database at .*nothing-here\.db/],
  ])('%j: exit 2, a clear message and the usage on stderr', { timeout: 30_000 }, async (args, message) => {
    const result = await runPurge(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('Usage: pnpm purge');
    expect(result.stdout).toBe('');
  });

  it('a real run without a terminal needs --yes', { timeout: 30_000 }, async () => {
    const file = join(dir, 'empty.db');
    writeFileSync(file, '');
    const result = await runPurge(['--database-url', `sqlite:${file}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('a real run without a terminal needs --yes');
  });

  it(
    'reads DATABASE_URL when no --database-url is given, and never prints a password',
    { timeout: 30_000 },
    async () => {
      const result = await runPurge(['--dry-run'], { DATABASE_URL: 'mysql://admin:hunter2@db.example/x' });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('--database-url: Database URL scheme "mysql:" is not supported');
      expect(result.stderr).not.toContain('hunter2');
      const pgResult = await runPurge(['--dry-run', '--json'], {
        DATABASE_URL: 'postgres://admin:hunter2@127.0.0.1:1/x',
      });
      expect(pgResult.code).toBe(1);
      expect(pgResult.stderr).toContain('cannot open the store at postgres://admin:***@127.0.0.1:1/x');
      expect(pgResult.stderr + pgResult.stdout).not.toContain('hunter2');
    },
  );

  it('--help prints the usage with the exit codes on stdout', { timeout: 30_000 }, async () => {
    const result = await runPurge(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: pnpm purge');
    expect(result.stdout).toMatch(/--check\s+ask every server whether any session needed the store's keys/);
    expect(result.stdout).toMatch(/falls\s+back to VACUUM FULL and says so/);
    expect(result.stdout).toMatch(/What no purge can reach/);
    expect(result.stdout).toMatch(/130\s+interrupted/);
  });
});

/** Runs `pnpm <args>` from the repository's root, as an operator would. */
function pnpm(args: readonly string[]): Promise<ToolResult> {
  // Under `pnpm test`, npm_execpath is pnpm itself; otherwise pnpm is on PATH.
  const execPath = process.env.npm_execpath;
  const [command, prefix] =
    execPath && /pnpm/.test(execPath) && execPath.endsWith('.cjs')
      ? [process.execPath, [execPath]]
      : ['pnpm', []];
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env.DATABASE_URL;
    const child = spawn(command, [...prefix, ...args], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('the documented command, `pnpm purge --json`', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lending-pnpm-purge-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints exactly one JSON document on stdout, dry run and real run', { timeout: 120_000 }, async () => {
    const url = `sqlite:${join(dir, 'lending.db')}`;
    await seedStore(url, 500, 20);

    const dry = await pnpm(['purge', '--dry-run', '--json', '--database-url', url]);
    expect(dry.code, dry.stderr).toBe(0);
    // The whole of stdout parses: no banner before it, nothing after it.
    const listed = JSON.parse(dry.stdout) as {
      dryRun: boolean;
      withKeys: number;
      usernamesWithKeys: string[];
    };
    expect(listed).toMatchObject({ dryRun: true, withKeys: 100 });
    expect(listed.usernamesWithKeys).toHaveLength(100);

    const real = await pnpm(['purge', '--yes', '--json', '--database-url', url]);
    expect(real.code, real.stderr).toBe(0);
    const summary = JSON.parse(real.stdout) as {
      purged: number;
      compaction: { method: string; error: string | null };
      notReached: string[];
    };
    expect(summary).toMatchObject({ purged: 100, compaction: { method: 'sqlite_vacuum', error: null } });
    expect(summary.notReached.join(' ')).toMatch(/backups, file-system or VM snapshots/);
    expect(real.stderr).toContain("Out of the purge's reach:");
  });
});
