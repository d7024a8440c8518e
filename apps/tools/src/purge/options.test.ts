import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../cli-common';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_LOCK_TIMEOUT_SECONDS,
  DEFAULT_METRICS_URL,
  DEFAULT_WINDOW_SECONDS,
  parsePurgeArgs,
} from './options';

describe('parsePurgeArgs', () => {
  const parse = (...argv: string[]) => parsePurgeArgs(argv, 'sqlite:./data/lending.db');

  it('has defaults from the environment and the documented values', () => {
    expect(parse()).toEqual({
      mode: 'purge',
      dryRun: false,
      yes: false,
      json: false,
      batchSize: DEFAULT_BATCH_SIZE.sqlite,
      databaseUrl: 'sqlite:./data/lending.db',
      target: { kind: 'sqlite', filename: resolve('data/lending.db') },
      compaction: 'auto',
      lockTimeoutSeconds: DEFAULT_LOCK_TIMEOUT_SECONDS,
    });
    expect(
      parse('--dry-run', '--batch-size', '50', '--database-url', 'postgres://h/db', '-y', '--json'),
    ).toMatchObject({
      mode: 'purge',
      dryRun: true,
      batchSize: 50,
      databaseUrl: 'postgres://h/db',
      yes: true,
      json: true,
    });
    expect(
      parse('--database-url', 'postgres://h/db', '--compaction', 'vacuum_full', '--lock-timeout', '1m'),
    ).toMatchObject({
      compaction: 'vacuum_full',
      lockTimeoutSeconds: 60,
    });
    expect(parse('--help')).toEqual({ mode: 'help' });
    // The default batch size depends on the store: SQLite's batches lock the whole database, PostgreSQL's rows.
    expect(parse('--database-url', 'postgres://h/db')).toMatchObject({
      batchSize: DEFAULT_BATCH_SIZE.postgres,
    });
    expect(parsePurgeArgs([], 'postgresql://h/db')).toMatchObject({ batchSize: DEFAULT_BATCH_SIZE.postgres });
    expect(parse('--database-url', 'sqlite:other.db')).toMatchObject({
      batchSize: DEFAULT_BATCH_SIZE.sqlite,
    });
  });

  it('--check takes several metrics URLs (repeated or comma-separated) and a window', () => {
    expect(parse('--check')).toEqual({
      mode: 'check',
      json: false,
      metricsUrls: [DEFAULT_METRICS_URL],
      windowSeconds: DEFAULT_WINDOW_SECONDS,
    });
    expect(
      parse(
        '--check',
        '--metrics-url',
        'http://a:3000/metrics',
        '--metrics-url',
        'http://b:3000/metrics, http://c:3000/metrics',
        '--window',
        '10m',
        '--json',
      ),
    ).toEqual({
      mode: 'check',
      json: true,
      metricsUrls: ['http://a:3000/metrics', 'http://b:3000/metrics', 'http://c:3000/metrics'],
      windowSeconds: 600,
    });
  });

  it.each([
    [['--nope'], /Unknown option '--nope'/],
    [['--batch-size', '-1'], /--batch-size/],
    [['--batch-size', '100001'], /between 1 and 100000/],
    [['--batch-size', '2.5'], /whole number/],
    [['--dry-run=yes'], /--dry-run/],
    [['--check', '--yes'], /not --yes/],
    [['--check', '--batch-size', '10'], /not --batch-size/],
    [['--check', '--database-url', 'sqlite:x.db'], /not --database-url/],
    [['--check', '--compaction', 'auto'], /not --compaction/],
    [['--check', '--window', 'soon'], /--window must be a duration/],
    [['--check', '--window', '0'], /--window must be a duration/],
    [['--check', '--metrics-url', 'ftp://h/metrics'], /http:\/\/ or https:\/\//],
    [['--window', '10m'], /--window only go with --check/],
    [['--metrics-url', 'http://h/metrics'], /--metrics-url only go with --check/],
    [['--database-url', ''], /must not be empty/],
    [['--database-url', 'x.db'], /--database-url: Database URL has no scheme/],
    [['--database-url', 'mysql://root:hunter2@db/x'], /scheme "mysql:" is not supported/],
    [['--database-url', 'postgres://u:p@ss@[h/db'], /not a valid postgres:\/\/ URL/],
    [['--compaction', 'cluster', '--database-url', 'postgres://h/db'], /--compaction must be one of/],
    [['--compaction', 'pg_repack'], /--compaction pg_repack is for PostgreSQL/],
    [['--lock-timeout', 'forever', '--database-url', 'postgres://h/db'], /--lock-timeout must be a duration/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parse(...argv)).toThrow(UsageError);
    expect(() => parse(...argv)).toThrow(message);
    try {
      parse(...argv);
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});
