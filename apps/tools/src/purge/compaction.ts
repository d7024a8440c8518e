// The compaction after a real run: rewrite the database so that no removed key stays readable in its files.
import type { AccountsAdmin, CompactionChoice, CompactionMethod } from '@lending/accounts/admin';
import { formatDuration } from '../cli-common';

export interface CompactionOutcome {
  method: CompactionMethod | null;
  /** ISO 8601 times around the rewrite itself. */
  startedAt: string | null;
  finishedAt: string | null;
  ms: number | null;
  bytesBefore: number | null;
  bytesAfter: number | null;
  warnings: string[];
  /** Why it failed; null when it succeeded. Never a secret. */
  error: string | null;
}

const DESCRIBED: Record<CompactionMethod, string> = {
  sqlite_vacuum: 'rebuilding the SQLite file in place (VACUUM); writes wait meanwhile',
  pg_repack: 'rewriting the accounts table online with pg_repack',
  vacuum_full: 'rewriting the accounts table with VACUUM FULL, which locks it meanwhile',
};

export async function compactDatabase(
  admin: AccountsAdmin,
  options: {
    method: CompactionChoice;
    lockTimeoutSeconds: number;
    pgRepackPath: string | undefined;
    environment: Readonly<Record<string, string | undefined>>;
  },
  say: (line: string) => void,
): Promise<CompactionOutcome> {
  const outcome: CompactionOutcome = {
    method: null,
    startedAt: null,
    finishedAt: null,
    ms: null,
    bytesBefore: null,
    bytesAfter: null,
    warnings: [],
    error: null,
  };
  try {
    const report = await admin.compact({
      method: options.method,
      lockTimeoutMs: options.lockTimeoutSeconds * 1000,
      ...(options.pgRepackPath === undefined ? {} : { pgRepackPath: options.pgRepackPath }),
      environment: options.environment,
      onOutput: (line) => say(`  ${line}`),
      onStart: (method, warnings) => {
        for (const warning of warnings) say(`purge: warning: ${warning}`);
        say(
          `Compacting so that removed keys cannot be read back from the database's files: ${DESCRIBED[method]}...`,
        );
        outcome.method = method;
        outcome.startedAt = new Date().toISOString();
      },
    });
    outcome.finishedAt = new Date().toISOString();
    Object.assign(outcome, {
      method: report.method,
      ms: Math.round(report.ms),
      bytesBefore: report.bytesBefore,
      bytesAfter: report.bytesAfter,
      warnings: report.warnings,
    });
    say(`Compaction done in ${formatDuration(report.ms)}.`);
  } catch (error) {
    outcome.error = error instanceof Error ? error.message : String(error);
    say(`purge: compaction failed: ${outcome.error}`);
  }
  return outcome;
}
