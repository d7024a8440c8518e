// The walk's progress on stderr: a cli-progress bar on a terminal, otherwise a plain line every two seconds.
import { SingleBar } from 'cli-progress';
import { formatCount } from '../cli-common';
import type { PurgeTotals } from './walk';

export interface Progress {
  update(totals: Readonly<PurgeTotals>): void;
  /** `complete`: the walk reached the end, so the (estimated) total becomes the exact count. */
  stop(complete: boolean): void;
}

export function createProgress(
  stderr: NodeJS.WritableStream,
  total: number | null,
  useBar: boolean,
  dryRun: boolean,
): Progress {
  const verb = dryRun ? 'holding keys' : 'purged';
  return useBar ? progressBar(stderr, total, verb, dryRun) : progressLines(stderr, total, verb, dryRun);
}

function progressBar(
  stderr: NodeJS.WritableStream,
  total: number | null,
  verb: string,
  dryRun: boolean,
): Progress {
  const bar = new SingleBar({
    stream: stderr,
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

function progressLines(
  stderr: NodeJS.WritableStream,
  total: number | null,
  verb: string,
  dryRun: boolean,
): Progress {
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
      stderr.write(
        `purge: ${formatCount(totals.scanned)} accounts scanned${share}, ${formatCount(dryRun ? totals.withKeys : totals.purged)} ${verb}, ` +
          `${formatCount(totals.errors)} errors, ${formatCount(rate)}/s\n`,
      );
    },
    stop() {},
  };
}
