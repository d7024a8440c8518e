// `pnpm purge`'s command line: defaults and the rules that make an invocation valid.
import { parseArgs } from 'node:util';
import type { DatabaseTarget } from '@lending/accounts';
import type { CompactionChoice } from '@lending/accounts/admin';
import {
  UsageError,
  asUsageError,
  checkDatabaseUrl,
  parseDurationFlag,
  parseIntegerFlag,
} from '../cli-common';

/**
 * Tuned with bench/purge.bench.ts: large enough that per-batch costs vanish, small enough to stop quickly and
 * to hold locks briefly. SQLite's whole database is locked by a batch (~80 ms for 10000 accounts at 1M), and
 * there 2000 spent about half of the walk at 100k in per-batch costs. PostgreSQL locks only the batch's rows
 * (~3000 for ~0.1 s at 10000), but its heap is in insertion order, unrelated to key order: each batch reaches
 * pages all over the table, and a page holding several key holders is read and written once per batch that
 * reaches it. At 1M accounts (shared_buffers 128 MB) 2000 per batch cost about 1.5x one UPDATE, 10000 about 1.35x.
 */
export const DEFAULT_BATCH_SIZE = { sqlite: 10_000, postgres: 10_000 } as const;
export const MAX_BATCH_SIZE = 100_000;
export const DEFAULT_METRICS_URL = 'http://127.0.0.1:3000/metrics';
/** --check's default window: an hour of traffic without a session that needed the store's keys. */
export const DEFAULT_WINDOW_SECONDS = 3600;
/** How long PostgreSQL's compaction waits for the accounts table's lock before it gives up. */
export const DEFAULT_LOCK_TIMEOUT_SECONDS = 5;
const COMPACTION_CHOICES: readonly CompactionChoice[] = ['auto', 'pg_repack', 'vacuum_full'];

export type PurgeArgs =
  | { mode: 'help' }
  | {
      mode: 'check';
      json: boolean;
      metricsUrls: string[];
      windowSeconds: number;
    }
  | {
      mode: 'purge';
      dryRun: boolean;
      batchSize: number;
      databaseUrl: string;
      target: DatabaseTarget;
      yes: boolean;
      json: boolean;
      compaction: CompactionChoice;
      lockTimeoutSeconds: number;
    };

const PURGE_ONLY = ['dry-run', 'batch-size', 'database-url', 'yes', 'compaction', 'lock-timeout'] as const;
const CHECK_ONLY = ['metrics-url', 'window'] as const;

export function parsePurgeArgs(argv: readonly string[], defaultDatabaseUrl: string): PurgeArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        'dry-run': { type: 'boolean' },
        'batch-size': { type: 'string' },
        'database-url': { type: 'string' },
        yes: { type: 'boolean', short: 'y' },
        json: { type: 'boolean' },
        compaction: { type: 'string' },
        'lock-timeout': { type: 'string' },
        check: { type: 'boolean' },
        'metrics-url': { type: 'string', multiple: true },
        window: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw asUsageError(error);
  }
  if (values.help) return { mode: 'help' };
  const json = values.json ?? false;

  if (values.check) {
    const stray = PURGE_ONLY.filter((name) => values[name] !== undefined);
    if (stray.length > 0) {
      throw new UsageError(
        `--check only reads the servers' metrics; it takes --metrics-url, --window and --json, not ${stray.map((n) => `--${n}`).join(', ')}`,
      );
    }
    const metricsUrls = (values['metrics-url'] ?? [DEFAULT_METRICS_URL]).flatMap((value) =>
      value
        .split(',')
        .map((url) => url.trim())
        .filter(Boolean),
    );
    for (const url of metricsUrls) {
      if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) {
        throw new UsageError('--metrics-url must be an http:// or https:// URL');
      }
    }
    if (metricsUrls.length === 0) throw new UsageError('--metrics-url must not be empty');
    const windowSeconds = parseDurationFlag('window', values.window) ?? DEFAULT_WINDOW_SECONDS;
    return { mode: 'check', json, metricsUrls: [...new Set(metricsUrls)], windowSeconds };
  }

  const stray = CHECK_ONLY.filter((name) => values[name] !== undefined);
  if (stray.length > 0) throw new UsageError(`${stray.map((n) => `--${n}`).join(', ')} only go with --check`);
  if (values['database-url'] !== undefined && values['database-url'].trim() === '') {
    throw new UsageError('--database-url must not be empty');
  }
  const databaseUrl = values['database-url'] ?? defaultDatabaseUrl;
  const target = checkDatabaseUrl(databaseUrl);
  const compaction = (values.compaction ?? 'auto') as CompactionChoice;
  if (!COMPACTION_CHOICES.includes(compaction)) {
    throw new UsageError(
      `--compaction must be one of ${COMPACTION_CHOICES.join(', ')}, got "${values.compaction}"`,
    );
  }
  if (compaction !== 'auto' && target.kind === 'sqlite') {
    throw new UsageError(
      `--compaction ${compaction} is for PostgreSQL; SQLite is always rebuilt with VACUUM`,
    );
  }
  return {
    mode: 'purge',
    dryRun: values['dry-run'] ?? false,
    yes: values.yes ?? false,
    json,
    batchSize:
      parseIntegerFlag('batch-size', values['batch-size'], 1, MAX_BATCH_SIZE) ??
      DEFAULT_BATCH_SIZE[target.kind],
    databaseUrl,
    target,
    compaction,
    lockTimeoutSeconds:
      parseDurationFlag('lock-timeout', values['lock-timeout']) ?? DEFAULT_LOCK_TIMEOUT_SECONDS,
  };
}
