// `pnpm purge`'s exit status, as --help documents it.
export const EXIT_OK = 0;
/** Records failed, the run or the compaction failed, the confirmation was declined; --check: not yet. */
export const EXIT_FAILED = 1;
/** Bad usage; --check: the metrics of some instance could not be read. */
export const EXIT_USAGE = 2;
/** Interrupted after a batch; a rerun finishes the job. */
export const EXIT_INTERRUPTED = 130;
