// `pnpm purge`: reads the command line, then runs --check, or the walk (confirmation, progress, Ctrl-C) followed by
// the compaction, the summary and the exit status.
import type { EventEmitter } from 'node:events';
import { openAccountStore, redactDatabaseUrl } from '@lending/accounts';
import type { AccountStore } from '@lending/accounts';
import { openAccountsAdmin } from '@lending/accounts/admin';
import type { AccountsAdmin } from '@lending/accounts/admin';
import { UsageError, assertSqliteFileExists, formatCount } from '../cli-common';
import type { CliIo } from '../cli-common';
import { checkPurgeSafety } from './check';
import { compactDatabase } from './compaction';
import type { CompactionOutcome } from './compaction';
import { confirm } from './confirm';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE } from './exit-codes';
import { parsePurgeArgs } from './options';
import type { PurgeArgs } from './options';
import { createProgress } from './progress';
import { listenForStop } from './signals';
import { printSummary, summaryDocument } from './summary';
import { PURGE_USAGE } from './usage';
import { purgeS3Keys } from './walk';
import type { PurgeSummary } from './walk';

export interface PurgeCliDeps {
  io: CliIo;
  /** The DATABASE_URL default, from src/env.ts. */
  defaultDatabaseUrl: string;
  /** Where SIGINT/SIGTERM arrive (process in production). */
  signals: EventEmitter;
  /** PG_REPACK, from src/env.ts. */
  pgRepackPath?: string | undefined;
  /** The environment pg_repack starts from, from src/env.ts. */
  childEnvironment?: Readonly<Record<string, string | undefined>>;
  openStore?: (databaseUrl: string) => Promise<AccountStore>;
  /** METRICS_TOKEN, from src/env.ts: `--check` sends it as a bearer token to every /metrics URL. */
  metricsToken?: string | undefined;
  /** Ends the process at once on a second Ctrl-C. */
  exit?: (code: number) => void;
}

type PurgeRun = Extract<PurgeArgs, { mode: 'purge' }>;

function say(io: CliIo, line: string): void {
  io.stderr.write(`${line}\n`);
}

async function runCheck(
  args: Extract<PurgeArgs, { mode: 'check' }>,
  io: CliIo,
  metricsToken: string | undefined,
): Promise<number> {
  const report = await checkPurgeSafety(args.metricsUrls, args.windowSeconds, { token: metricsToken });
  if (args.json) io.stdout.write(JSON.stringify(report) + '\n');
  say(io, report.message);
  if (report.verdict === 'safe') return EXIT_OK;
  return report.verdict === 'unknown' ? EXIT_USAGE : EXIT_FAILED;
}

export async function runPurgeCli(argv: readonly string[], deps: PurgeCliDeps): Promise<number> {
  const { io } = deps;
  let args: PurgeArgs;
  try {
    args = parsePurgeArgs(argv, deps.defaultDatabaseUrl);
    if (args.mode === 'purge') {
      assertSqliteFileExists(args.target);
      const terminal = Boolean(io.stdin.isTTY && io.stderr.isTTY);
      if (!args.dryRun && !args.yes && !terminal) {
        throw new UsageError('a real run without a terminal needs --yes (try --dry-run first)');
      }
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`purge: ${error.message}\n\n${PURGE_USAGE}`);
    return EXIT_USAGE;
  }
  if (args.mode === 'help') {
    io.stdout.write(PURGE_USAGE);
    return EXIT_OK;
  }
  if (args.mode === 'check') return runCheck(args, io, deps.metricsToken);
  return runPurge(args, deps);
}

async function runPurge(args: PurgeRun, deps: PurgeCliDeps): Promise<number> {
  const { io } = deps;
  const shownUrl = redactDatabaseUrl(args.databaseUrl);
  const stop = listenForStop(
    deps.signals,
    (line) => say(io, line),
    deps.exit ?? ((code) => process.exit(code)),
  );
  let store: AccountStore | null = null;
  let admin: AccountsAdmin | null = null;
  try {
    try {
      store = await (deps.openStore ?? openAccountStore)(args.databaseUrl);
      admin = await openAccountsAdmin(args.databaseUrl);
    } catch (error) {
      say(
        io,
        `purge: cannot open the store at ${shownUrl}: ${error instanceof Error ? error.message : String(error)}`,
      );
      return EXIT_FAILED;
    }
    const total = await admin.estimateAccountCount().catch(() => null);

    if (!args.dryRun && !args.yes) {
      const answer = await confirm(
        io,
        `Remove the legacy S3 keys of all ${total === null ? '' : `${formatCount(total)} `}accounts in ${shownUrl}? ` +
          `Patrons whose sessions still read keys from the store will have to log in again. [y/N] `,
      );
      if (answer === 'interrupted') {
        say(io, 'Interrupted: nothing was changed.');
        return EXIT_INTERRUPTED;
      }
      if (answer === 'no') {
        say(io, 'Not confirmed: nothing was changed.');
        return EXIT_FAILED;
      }
    }
    if (stop.requested) {
      say(io, 'Interrupted before the first batch: nothing was changed.');
      return EXIT_INTERRUPTED;
    }

    say(
      io,
      `${args.dryRun ? 'Dry run over' : 'Purging'} ${total === null ? 'all' : `about ${formatCount(total)}`} accounts in ${shownUrl}, ${formatCount(args.batchSize)} per batch`,
    );
    const listUsernames = args.dryRun && !args.json;
    const collected: string[] = [];
    const useBar = Boolean(io.stderr.isTTY) && !(listUsernames && (io.stdout as { isTTY?: boolean }).isTTY);
    const progress = createProgress(io.stderr, total, useBar, args.dryRun);
    let summary: PurgeSummary | undefined;
    try {
      summary = await purgeS3Keys(store, {
        batchSize: args.batchSize,
        dryRun: args.dryRun,
        shouldStop: () => stop.requested,
        onBatch: (batch, totals) => {
          if (listUsernames && batch.withKeys.length > 0) io.stdout.write(batch.withKeys.join('\n') + '\n');
          else if (args.dryRun) collected.push(...batch.withKeys);
          progress.update(totals);
        },
      });
    } finally {
      progress.stop(summary?.complete ?? false);
    }

    // Also after an interrupted run: the keys removed so far must not stay readable in the files.
    let compaction: CompactionOutcome | null = null;
    if (!args.dryRun) {
      stop.compacting();
      compaction = await compactDatabase(
        admin,
        {
          method: args.compaction,
          lockTimeoutSeconds: args.lockTimeoutSeconds,
          pgRepackPath: deps.pgRepackPath,
          environment: deps.childEnvironment ?? {},
        },
        (line) => say(io, line),
      );
    }

    printSummary(io.stderr, summary, compaction, args.target.kind);
    if (args.json) {
      const document = summaryDocument(
        shownUrl,
        summary,
        compaction,
        args.target.kind,
        args.dryRun ? collected : null,
      );
      io.stdout.write(JSON.stringify(document) + '\n');
    }
    if (summary.interrupted) return EXIT_INTERRUPTED;
    const failed = summary.errors > 0 || summary.fatal !== null || (compaction?.error ?? null) !== null;
    return failed ? EXIT_FAILED : EXIT_OK;
  } finally {
    stop.dispose();
    await store?.close();
    await admin?.close();
  }
}
