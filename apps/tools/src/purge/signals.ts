// Ctrl-C and SIGTERM during a purge: the first asks to stop after the current batch, a second stops at once.
import type { EventEmitter } from 'node:events';
import { EXIT_INTERRUPTED } from './exit-codes';

export interface StopRequest {
  /** True once a first signal arrived. */
  readonly requested: boolean;
  /** From now on the walk is over and the compaction runs: a first signal lets it finish. */
  compacting(): void;
  /** Stops listening. */
  dispose(): void;
}

export function listenForStop(
  signals: EventEmitter,
  say: (line: string) => void,
  exit: (code: number) => void,
): StopRequest {
  let count = 0;
  let phase: 'walk' | 'compaction' = 'walk';
  const onSignal = (signal: NodeJS.Signals): void => {
    count += 1;
    if (count > 1) {
      say(`\n${signal} again: stopping now. Run the command again to finish the job.`);
      exit(EXIT_INTERRUPTED);
      return;
    }
    say(
      phase === 'walk'
        ? `\n${signal}: stopping after the current batch (again to stop at once)...`
        : `\n${signal}: letting the compaction finish (again to stop at once; the database stays whole, and a rerun compacts it)...`,
    );
  };
  signals.on('SIGINT', onSignal);
  signals.on('SIGTERM', onSignal);
  return {
    get requested() {
      return count > 0;
    },
    compacting() {
      phase = 'compaction';
    },
    dispose() {
      signals.off('SIGINT', onSignal);
      signals.off('SIGTERM', onSignal);
    },
  };
}
