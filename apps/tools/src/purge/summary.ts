// What a purge reports: the summary on stderr, the --json document on stdout, and what no purge can reach.
import { formatCount, formatDuration } from '../cli-common';
import type { CompactionOutcome } from './compaction';
import type { PurgeSummary } from './walk';

/** Copies of the keys that the purge cannot reach, and what the operator does about each. */
export function notReached(kind: 'sqlite' | 'postgres'): string[] {
  if (kind === 'sqlite') {
    return [
      'Copies of the database made before the purge (backups, file-system or VM snapshots, copies on other ' +
        'machines) still hold the keys: delete them, or guard them like the keys until they expire.',
      "The file system may keep the old file's freed blocks until it reuses them (on an SSD, until the drive " +
        'erases them): only disk encryption covers those.',
    ];
  }
  return [
    'Old row images stay in WAL segment files (pg_wal) until PostgreSQL recycles and overwrites them, after ' +
      'enough new WAL (see max_wal_size, wal_keep_size and replication slots that hold WAL back).',
    'WAL archives and base backups taken before the purge hold the keys until your retention deletes them: ' +
      'take a new base backup, then expire the older backups and archived WAL.',
    'Replicas keep their own copies: streaming replicas in their WAL, logical replicas in their tables (run ' +
      'the purge against those databases too).',
  ];
}

export function printSummary(
  stderr: NodeJS.WritableStream,
  summary: PurgeSummary,
  compaction: CompactionOutcome | null,
  kind: 'sqlite' | 'postgres',
): void {
  const rows: [string, string][] = [
    ['Scanned', `${formatCount(summary.scanned)} accounts`],
    ['With keys', formatCount(summary.withKeys)],
    ['Purged', formatCount(summary.purged)],
    ['Errors', formatCount(summary.errors)],
    ['Elapsed', formatDuration(summary.elapsedMs)],
    ['Rate', `${formatCount(summary.rate)} accounts/s`],
  ];
  if (compaction?.ms !== null && compaction?.ms !== undefined) {
    rows.push(['Compaction', `${formatDuration(compaction.ms)} (${compaction.method ?? ''})`]);
  }
  const lines = [
    summary.dryRun ? 'Dry run: nothing was written.' : 'Purge of legacy S3 keys:',
    ...rows.map(([label, value]) => `  ${label.padEnd(11)} ${value}`),
  ];
  if (summary.failed.length > 0) {
    lines.push(`Failed records (${summary.failed.length}):`);
    for (const { username, error } of summary.failed) lines.push(`  ${username}: ${error}`);
  }
  for (const warning of compaction?.warnings ?? []) lines.push(`Warning: ${warning}`);
  if (summary.fatal !== null) {
    lines.push(
      `The purge stopped early: ${summary.fatal}`,
      'Fix the cause and run the command again to finish.',
    );
  } else if (compaction?.error) {
    lines.push(
      `The keys are gone from the records, but the compaction failed: ${compaction.error}`,
      'Removed keys may still be readable in the database files: run the command again to compact.',
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
    lines.push(
      "Done: no account holds legacy S3 keys any more, and the database's files were rewritten without them.",
    );
  } else {
    lines.push('Some records could not be purged; fix them and run the command again.');
  }
  if (!summary.dryRun) {
    lines.push("Out of the purge's reach:", ...notReached(kind).map((line) => `  - ${line}`));
  }
  stderr.write(lines.join('\n') + '\n');
}

/** The --json document: one object, the same facts as the summary. */
export function summaryDocument(
  database: string,
  summary: PurgeSummary,
  compaction: CompactionOutcome | null,
  kind: 'sqlite' | 'postgres',
  usernamesWithKeys: string[] | null,
): Record<string, unknown> {
  return {
    database,
    ...summary,
    elapsedMs: Math.round(summary.elapsedMs),
    compaction,
    ...(usernamesWithKeys === null ? {} : { usernamesWithKeys }),
    ...(summary.dryRun ? {} : { notReached: notReached(kind) }),
  };
}
