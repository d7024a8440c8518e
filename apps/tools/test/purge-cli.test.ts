// `pnpm purge` usage errors, help and --check, as real subprocesses (no database needed).
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPurge } from './purge-helpers';

describe('pnpm purge usage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lending-purge-cli-'));
  const missing = `sqlite:${join(dir, 'nothing-here.db')}`;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // The argument rules themselves are unit-tested in src/purge-cli.test.ts; these check the process's behaviour.
  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--batch-size', 'abc'], /--batch-size must be a whole number, got "abc"/],
    [
      ['--check', '--dry-run'],
      /--check only reads the server's metrics; it takes --metrics-url and --json, not --dry-run/,
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
    const result = await runPurge(['--database-url', 'sqlite::memory:']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('a real run without a terminal needs --yes');
  });

  it(
    'reads DATABASE_URL when no --database-url is given, and never prints a password',
    { timeout: 30_000 },
    async () => {
      const result = await runPurge(['--dry-run'], { DATABASE_URL: 'mysql://admin:hunter2@db.example/x' });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('--database-url must start with sqlite: or postgres://');
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
    expect(result.stdout).toMatch(/--check\s+read the server's \/metrics/);
    expect(result.stdout).toMatch(/130\s+interrupted/);
  });
});

describe('pnpm purge --check', () => {
  let metrics = '';
  let status = 200;
  let server: Server;
  let url = '';

  beforeAll(async () => {
    server = createServer((request, response) => {
      response.writeHead(request.url === '/metrics' ? status : 404, {
        'content-type': 'text/plain; version=0.0.4',
      });
      response.end(request.url === '/metrics' ? metrics : 'not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const exposition = (cookie: number, store: number, none: number): string =>
    [
      '# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.',
      '# TYPE process_start_time_seconds gauge',
      `process_start_time_seconds ${Math.round(Date.now() / 1000) - 7200}`,
      '# HELP lending_s3_keys_source_total Where the S3 keys of a request came from',
      '# TYPE lending_s3_keys_source_total counter',
      `lending_s3_keys_source_total{source="cookie"} ${cookie}`,
      `lending_s3_keys_source_total{source="store"} ${store}`,
      `lending_s3_keys_source_total{source="none"} ${none}`,
      '',
    ].join('\n');

  it('not yet (exit 1) while requests still take keys from the store', { timeout: 30_000 }, async () => {
    metrics = exposition(120, 3, 4);
    status = 200;
    const result = await runPurge(['--check', '--metrics-url', url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('NOT YET: 3 of 127 requests');
    expect(result.stderr).toContain('would force those patrons to log in again');
    expect(result.stderr).toContain('2.0 h since the server started');
  });

  it(
    'safe (exit 0) when no request fell back to the store; --json gives one object',
    { timeout: 30_000 },
    async () => {
      metrics = exposition(120, 0, 4);
      status = 200;
      const result = await runPurge(['--check', '--json', '--metrics-url', url]);
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout) as { verdict: string; counts: Record<string, number> };
      expect(report.verdict).toBe('safe');
      expect(report.counts).toEqual({ cookie: 120, store: 0, none: 4 });
    },
  );

  it('not yet when there was no traffic to judge by', { timeout: 30_000 }, async () => {
    metrics = exposition(0, 0, 0);
    status = 200;
    const result = await runPurge(['--check', '--metrics-url', url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no evidence either way');
  });

  it(
    'exit 2 when the metrics cannot be read or are not the Lending server',
    { timeout: 30_000 },
    async () => {
      status = 503;
      const failed = await runPurge(['--check', '--metrics-url', url]);
      expect(failed.code).toBe(2);
      expect(failed.stderr).toContain('answered HTTP 503');

      status = 200;
      metrics = '# TYPE up gauge\nup 1\n';
      const foreign = await runPurge(['--check', '--metrics-url', url]);
      expect(foreign.code).toBe(2);
      expect(foreign.stderr).toContain('has no lending_s3_keys_source_total metric');

      const closed = await runPurge(['--check', '--metrics-url', 'http://127.0.0.1:1/metrics']);
      expect(closed.code).toBe(2);
      expect(closed.stderr).toContain('cannot read http://127.0.0.1:1/metrics');
    },
  );
});
