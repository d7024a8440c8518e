// `pnpm purge --help`.
import { DEFAULT_DATABASE_URL } from '@lending/accounts';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_LOCK_TIMEOUT_SECONDS,
  DEFAULT_METRICS_URL,
  MAX_BATCH_SIZE,
} from './options';

export const PURGE_USAGE = `Usage: pnpm purge [options]
       pnpm purge --check [--metrics-url URL ...] [--window DURATION] [--json]

Removes the legacy plaintext S3 keys (s3Keys) from every account in the store, in username order, in
batches, then rewrites the database so that no removed key stays readable in its files. Safe while the
servers run: each record is changed atomically and no concurrent write is lost.
Run \`pnpm purge --check\` first: purging while sessions still read keys from the store logs those patrons out.

Options:
  --dry-run             list the usernames that still hold keys (never the keys); write nothing
  --batch-size N        accounts per batch, 1..${MAX_BATCH_SIZE} (default ${DEFAULT_BATCH_SIZE.sqlite} on SQLite,
                        ${DEFAULT_BATCH_SIZE.postgres} on PostgreSQL)
  --database-url URL    sqlite:<path> or postgres://... (default: DATABASE_URL, else ${DEFAULT_DATABASE_URL})
  --yes                 do not ask for confirmation (required for a real run without a terminal)
  --json                print one JSON document on stdout (the summary, or --check's verdict), nothing else
  --compaction HOW      PostgreSQL only: auto (default), pg_repack, or vacuum_full
  --lock-timeout D      PostgreSQL: how long the compaction waits for the accounts table's lock (default ${DEFAULT_LOCK_TIMEOUT_SECONDS}s)
  -h, --help            show this help

  --check               ask every server whether any session needed the store's keys during the last
                        --window; touches no database
  --metrics-url URL     a server's /metrics; repeat it (or separate URLs with commas) to name every
                        instance (default ${DEFAULT_METRICS_URL}); with the servers' METRICS_TOKEN
                        in the environment, it is sent as a bearer token
  --window D            how far back to look: 90s, 10m, 24h, 7d (default 1h). A server that started
                        within the window cannot vouch for it: the verdict waits until it has been up
                        that long. Only sessions without an s3 cookie count; a rejected cookie
                        (tampered, expired) does not, since the purge changes nothing for it.

Compaction, after every real run (also an interrupted one):
  SQLite       VACUUM rebuilds the file in place from the live rows, then the WAL is emptied. Servers keep
               reading meanwhile; their writes wait for it (5 to 7 s for a million accounts on the
               benchmark machine; a write that waits past the store's 5 s busy timeout fails, unwritten):
               run it when few patrons log in.
  PostgreSQL   pg_repack rewrites the accounts table and its indexes online, locking it only for moments.
               It needs the pg_repack extension in the database (CREATE EXTENSION pg_repack, from the
               postgresql-NN-repack package) and the pg_repack program of the same version on this machine
               (on PATH, in /usr/lib/postgresql/NN/bin, or named by PG_REPACK). Without them the purge falls
               back to VACUUM FULL and says so: VACUUM FULL locks the accounts table for every server while
               it rewrites it (7 s for a million accounts on the benchmark machine), so logins wait; it
               gives up if it cannot take the lock within --lock-timeout.

What no purge can reach (the summary repeats it):
  SQLite       copies of the database made before the purge: backups, file-system or VM snapshots.
  PostgreSQL   old row images in WAL segments (pg_wal) until PostgreSQL recycles them, in WAL archives,
               on replicas and in base backups taken before the purge.

Output: usernames (--dry-run) and the --json document go to stdout; progress, the summary and errors to stderr.
Ctrl-C or SIGTERM stops after the current batch; run the command again to finish the job.

Exit status:
  0    done (--check: safe to purge, no session needed the store's keys in the window)
  1    some records failed (listed by username), the run or the compaction failed, or the confirmation
       was declined (--check: not yet: a session needed the store's keys, a server restarted within
       the window, or there was no traffic to judge by)
  2    bad usage (--check: the metrics of some instance could not be read)
  130  interrupted; a rerun finishes the job
`;
