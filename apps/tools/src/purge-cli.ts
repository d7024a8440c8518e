// `pnpm purge`: argument parsing, confirmation, progress, summary and exit codes around the purge walk.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { EventEmitter } from 'node:events';
import { SingleBar } from 'cli-progress';
import { openAccountStore } from '@lending/accounts';
import type { AccountStore } from '@lending/accounts';
import {
  UsageError,
  asUsageError,
  assertSqliteFileExists,
  checkDatabaseUrl,
  displayDatabaseUrl,
  formatCount,
  formatDuration,
  parseIntegerFlag,
} from './cli-common';
import type { CliIo } from './cli-common';
import { MetricsUnavailableError, checkPurgeSafety } from './purge-check';
import { purgeS3Keys } from './purge';
import type { PurgeSummary, PurgeTotals } from './purge';
import { countAccounts, isPostgresUrl } from './store-direct';

/**
 * Tuned with bench/purge.bench.ts: large enough that per-batch costs vanish, small enough to stop quickly and
 * to hold the write lock briefly. SQLite's whole database is locked by a batch (~80 ms for 10000 accounts at
 * 1M), and there 2000 spent about half of the walk at 100k in per-batch costs; PostgreSQL locks only the batch's
 * rows and met its target at 2000.
 */
export const DEFAULT_BATCH_SIZE = { sqlite: 10_000, postgres: 2000 } as const;

export function defaultBatchSize(databaseUrl: string): number {
  return isPostgresUrl(databaseUrl) ? DEFAULT_BATCH_SIZE.postgres : DEFAULT_BATCH_SIZE.sqlite;
}
export const MAX_BATCH_SIZE = 100_000;
export const DEFAULT_METRICS_URL = 'http://127.0.0.1:3000/metrics';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

export const PURGE_USAGE = `Usage: pnpm purge [options]

Removes the legacy plaintext S3 keys (s3Keys) from every account in the store, in username order,
in batches. Safe while the server runs: each record is changed atomically and no concurrent write is lost.
Run \`pnpm purge --check\` first: purging while sessions still read keys from the store logs those patrons out.

Options:
  --dry-run             list the usernames that still hold keys (never the keys); write nothing
  --batch-size N        accounts per batch, 1..${MAX_BATCH_SIZE} (default ${DEFAULT_BATCH_SIZE.sqlite} on SQLite,
                        ${DEFAULT_BATCH_SIZE.postgres} on PostgreSQL)
  --database-url URL    sqlite:<path> or postgres://... (default: DATABASE_URL, else sqlite:./data/lending.db)
  --yes                 do not ask for confirmation (required for a real run without a terminal)
  --json                print the summary as one JSON object on stdout, and nothing else on stdout
  --check               read the server's /metrics and say whether purging now is safe; touches no database
  --metrics-url URL     with --check (default ${DEFAULT_METRICS_URL})
  -h, --help            show this help

Output: usernames (--dry-run) and the --json summary go to stdout; progress, the summary and errors to stderr.
Ctrl-C or SIGTERM stops after the current batch; run the command again to finish the job.
After a real run the database is compacted (SQLite: secure_delete + WAL checkpoint; PostgreSQL: VACUUM FULL)
so that no removed key remains in its files. On PostgreSQL, VACUUM FULL locks the accounts table while it
rewrites it (about 20 s per million accounts here): requests touching accounts wait meanwhile.

Exit status:
  0    done (--check: safe to purge, no request fell back to the store)
  1    some records failed (listed by username), the run failed, or the confirmation was declined
       (--check: not yet, requests still took keys from the store or there was no traffic to judge by)
  2    bad usage (--check: the metrics could not be read)
  130  interrupted; a rerun finishes the job
`;

interface PurgeArgs {
  mode: 'purge' | 'check' | 'help';
  dryRun: boolean;
  batchSize: number;
  databaseUrl: string;
  yes: boolean;
  json: boolean;
  metricsUrl: string;
}

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
        check: { type: 'boolean' },
        'metrics-url': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw asUsageError(error);
  }
  const databaseUrl = values['database-url'] ?? defaultDatabaseUrl;
  const base = {
    dryRun: values['dry-run'] ?? false,
    yes: values.yes ?? false,
    json: values.json ?? false,
    batchSize:
      parseIntegerFlag('batch-size', values['batch-size'], 1, MAX_BATCH_SIZE) ??
      defaultBatchSize(databaseUrl),
    databaseUrl,
    metricsUrl: values['metrics-url'] ?? DEFAULT_METRICS_URL,
  };
  if (values.help) return { mode: 'help', ...base };
  if (values.check) {
    const stray = (['dry-run', 'batch-size', 'database-url', 'yes'] as const).filter(
      (name) => values[name] !== undefined,
    );
    if (stray.length > 0) {
      throw new UsageError(
        `--check only reads the server's metrics; it takes --metrics-url and --json, not ${stray.map((n) => `--${n}`).join(', ')}`,
      );
    }
    if (!/^https?:\/\//i.test(base.metricsUrl)) {
      throw new UsageError(`--metrics-url must be an http:// or https:// URL`);
    }
    return { mode: 'check', ...base };
  }
  if (values['metrics-url'] !== undefined) throw new UsageError('--metrics-url only goes with --check');
  if (values['database-url'] !== undefined && values['database-url'].trim() === '') {
    throw new UsageError('--database-url must not be empty');
  }
  checkDatabaseUrl(base.databaseUrl);
  return { mode: 'purge', ...base };
}

export interface PurgeCliDeps {
  io: CliIo;
  /** The DATABASE_URL default, from src/env.ts. */
  defaultDatabaseUrl: string;
  /** Where SIGINT/SIGTERM arrive (process in production). */
  signals: EventEmitter;
  openStore?: (databaseUrl: string) => Promise<AccountStore>;
  /** Ends the process at once on a second Ctrl-C. */
  exit?: (code: number) => void;
}

function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text);
}

async function confirm(io: CliIo, question: string): Promise<'yes' | 'no' | 'interrupted'> {
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: 'yes' | 'no' | 'interrupted'): void => {
      if (settled) return;
      settled = true;
      rl.close();
      resolve(answer);
    };
    rl.on('SIGINT', () => finish('interrupted'));
    rl.on('close', () => finish('no'));
    rl.question(question, (answer) => finish(/^(y|yes)$/i.test(answer.trim()) ? 'yes' : 'no'));
  });
}

/** Progress: a cli-progress bar on a terminal, otherwise a plain line every two seconds. */
interface Progress {
  update(totals: Readonly<PurgeTotals>): void;
  /** `complete`: the walk reached the end, so the (estimated) total becomes the exact count. */
  stop(complete: boolean): void;
}

function createProgress(io: CliIo, total: number | null, useBar: boolean, dryRun: boolean): Progress {
  const verb = dryRun ? 'holding keys' : 'purged';
  if (useBar) {
    const bar = new SingleBar({
      stream: io.stderr,
      format:
        total === null
          ? `{value} accounts | {found} ${verb} | {errors} errors | {duration_formatted}`
          : `[{bar}] {percentage}% | {value}/{total} accounts | {found} ${verb} | {errors} errors | ETA {eta_formatted}`,
      barCompleteChar: '#',
      barIncompleteChar: '-',
      hideCursor: true,
      gracefulExit: false,
      etaBuffer: 50,
      fps: 5,
    });
    let barTotal = total ?? 0;
    let value = 0;
    bar.start(barTotal, 0, { found: 0, errors: 0 });
    return {
      update(totals) {
        // The total is an estimate on PostgreSQL; never let the bar run past it.
        if (total !== null && totals.scanned > barTotal) {
          barTotal = totals.scanned;
          bar.setTotal(barTotal);
        }
        value = totals.scanned;
        bar.update(value, { found: dryRun ? totals.withKeys : totals.purged, errors: totals.errors });
      },
      stop(complete) {
        if (complete && total !== null && value !== barTotal) {
          bar.setTotal(value);
          bar.update(value);
        }
        bar.stop();
      },
    };
  }
  const started = performance.now();
  let lastLine: number | null = null;
  return {
    update(totals) {
      // A line after the first batch (the walk has started), then one every two seconds.
      const now = performance.now();
      if (lastLine !== null && now - lastLine < 2000) return;
      lastLine = now;
      const share = total ? ` (${Math.min(100, Math.floor((totals.scanned * 100) / total))}%)` : '';
      const rate = Math.round((totals.scanned * 1000) / (now - started));
      write(
        io.stderr,
        `purge: ${formatCount(totals.scanned)} accounts scanned${share}, ${formatCount(dryRun ? totals.withKeys : totals.purged)} ${verb}, ` +
          `${formatCount(totals.errors)} errors, ${formatCount(rate)}/s\n`,
      );
    },
    stop() {},
  };
}

function printSummary(io: CliIo, summary: PurgeSummary, compactMs: number | null): void {
  const rows: [string, string][] = [
    ['Scanned', `${formatCount(summary.scanned)} accounts`],
    ['With keys', formatCount(summary.withKeys)],
    ['Purged', formatCount(summary.purged)],
    ['Errors', formatCount(summary.errors)],
    ['Elapsed', formatDuration(summary.elapsedMs)],
    ['Rate', `${formatCount(summary.rate)} accounts/s`],
  ];
  if (compactMs !== null) rows.push(['Compaction', formatDuration(compactMs)]);
  const lines = [
    summary.dryRun ? 'Dry run: nothing was written.' : 'Purge of legacy S3 keys:',
    ...rows.map(([label, value]) => `  ${label.padEnd(11)} ${value}`),
  ];
  if (summary.failed.length > 0) {
    lines.push(`Failed records (${summary.failed.length}):`);
    for (const { username, error } of summary.failed) lines.push(`  ${username}: ${error}`);
  }
  if (summary.fatal !== null) {
    lines.push(
      `The purge stopped early: ${summary.fatal}`,
      'Fix the cause and run the command again to finish.',
    );
  } else if (summary.interrupted) {
    lines.push('Interrupted after the current batch: run the command again to finish the job.');
  } else if (summary.dryRun) {
    lines.push(
      summary.withKeys === 0
        ? 'No account holds legacy keys.'
        : `${formatCount(summary.withKeys)} accounts still hold legacy keys; run without --dry-run to remove them.`,
    );
  } else if (summary.errors === 0) {
    lines.push('Done: no account holds legacy S3 keys any more.');
  } else {
    lines.push('Some records could not be purged; fix them and run the command again.');
  }
  write(io.stderr, lines.join('\n') + '\n');
}

async function runCheck(args: PurgeArgs, io: CliIo): Promise<number> {
  try {
    const report = await checkPurgeSafety(args.metricsUrl);
    if (args.json) write(io.stdout, JSON.stringify(report) + '\n');
    else write(io.stderr, `${report.message}\n`);
    return report.verdict === 'safe' ? EXIT_OK : EXIT_FAILED;
  } catch (error) {
    if (!(error instanceof MetricsUnavailableError)) throw error;
    if (args.json) write(io.stdout, JSON.stringify({ verdict: 'unknown', error: error.message }) + '\n');
    write(io.stderr, `purge --check: ${error.message}\n`);
    return EXIT_USAGE;
  }
}

export async function runPurgeCli(argv: readonly string[], deps: PurgeCliDeps): Promise<number> {
  const { io } = deps;
  let args: PurgeArgs;
  try {
    args = parsePurgeArgs(argv, deps.defaultDatabaseUrl);
    if (args.mode === 'purge') {
      assertSqliteFileExists(args.databaseUrl);
      const terminal = Boolean(io.stdin.isTTY && io.stderr.isTTY);
      if (!args.dryRun && !args.yes && !terminal) {
        throw new UsageError('a real run without a terminal needs --yes (try --dry-run first)');
      }
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    write(io.stderr, `purge: ${error.message}\n\n${PURGE_USAGE}`);
    return EXIT_USAGE;
  }
  if (args.mode === 'help') {
    write(io.stdout, PURGE_USAGE);
    return EXIT_OK;
  }
  if (args.mode === 'check') return runCheck(args, io);

  const shownUrl = displayDatabaseUrl(args.databaseUrl);
  let stopRequested = false;
  let signalCount = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signalCount += 1;
    if (signalCount > 1) {
      write(io.stderr, `\n${signal} again: stopping now. Run the command again to finish the job.\n`);
      (deps.exit ?? process.exit)(EXIT_INTERRUPTED);
      return;
    }
    stopRequested = true;
    write(io.stderr, `\n${signal}: stopping after the current batch (again to stop at once)...\n`);
  };
  deps.signals.on('SIGINT', onSignal);
  deps.signals.on('SIGTERM', onSignal);

  let store: AccountStore | null = null;
  try {
    try {
      store = await (deps.openStore ?? openAccountStore)(args.databaseUrl);
    } catch (error) {
      write(
        io.stderr,
        `purge: cannot open the store at ${shownUrl}: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      return EXIT_FAILED;
    }
    const total = await countAccounts(args.databaseUrl).catch(() => null);

    if (!args.dryRun && !args.yes) {
      const answer = await confirm(
        io,
        `Remove the legacy S3 keys of all ${total === null ? '' : `${formatCount(total)} `}accounts in ${shownUrl}? ` +
          `Patrons whose sessions still read keys from the store will have to log in again. [y/N] `,
      );
      if (answer === 'interrupted') {
        write(io.stderr, 'Interrupted: nothing was changed.\n');
        return EXIT_INTERRUPTED;
      }
      if (answer === 'no') {
        write(io.stderr, 'Not confirmed: nothing was changed.\n');
        return EXIT_FAILED;
      }
    }
    if (stopRequested) {
      write(io.stderr, 'Interrupted before the first batch: nothing was changed.\n');
      return EXIT_INTERRUPTED;
    }

    write(
      io.stderr,
      `${args.dryRun ? 'Dry run over' : 'Purging'} ${total === null ? 'all' : `about ${formatCount(total)}`} accounts in ${shownUrl}, ${formatCount(args.batchSize)} per batch\n`,
    );
    const listUsernames = args.dryRun && !args.json;
    const collected: string[] = [];
    const useBar = Boolean(io.stderr.isTTY) && !(listUsernames && (io.stdout as { isTTY?: boolean }).isTTY);
    const progress = createProgress(io, total, useBar, args.dryRun);
    let summary: PurgeSummary | undefined;
    try {
      summary = await purgeS3Keys(store, {
        batchSize: args.batchSize,
        dryRun: args.dryRun,
        shouldStop: () => stopRequested,
        onBatch: (batch, totals) => {
          if (listUsernames && batch.withKeys.length > 0) write(io.stdout, batch.withKeys.join('\n') + '\n');
          else if (args.dryRun) collected.push(...batch.withKeys);
          progress.update(totals);
        },
      });
    } finally {
      progress.stop(summary?.complete ?? false);
    }

    let compactMs: number | null = null;
    if (!args.dryRun) {
      // Also after an interrupted run: the keys removed so far must not stay readable in the files.
      write(
        io.stderr,
        'Compacting the database so that removed keys cannot be recovered from its files...\n',
      );
      const started = performance.now();
      try {
        await store.compact();
        compactMs = performance.now() - started;
      } catch (error) {
        write(
          io.stderr,
          `purge: compaction failed: ${error instanceof Error ? error.message : String(error)}\n`,
        );
        summary.fatal ??= 'compaction failed; run the command again';
      }
    }

    printSummary(io, summary, compactMs);
    if (args.json) {
      write(
        io.stdout,
        JSON.stringify({
          database: shownUrl,
          ...summary,
          elapsedMs: Math.round(summary.elapsedMs),
          compactMs: compactMs === null ? null : Math.round(compactMs),
          ...(args.dryRun ? { usernamesWithKeys: collected } : {}),
        }) + '\n',
      );
    }
    if (summary.interrupted) return EXIT_INTERRUPTED;
    return summary.errors > 0 || summary.fatal !== null ? EXIT_FAILED : EXIT_OK;
  } finally {
    deps.signals.off('SIGINT', onSignal);
    deps.signals.off('SIGTERM', onSignal);
    await store?.close();
  }
}
