// Ctrl-C and SIGTERM during a purge: the first asks to stop after the current batch, a second stops at once.
import type { EventEmitter } from 'node:events';
import { EXIT_INTERRUPTED } from './exit-codes';

export interface StopRequest {
  /** True once a first signal arrived. */
  readonly requested: boolean;
  /** Stops listening. */
  dispose(): void;
}

export function listenForStop(
  signals: EventEmitter,
  say: (line: string) => void,
  exit: (code: number) => void,
): StopRequest {
  let count = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    count += 1;
    if (count > 1) {
      say(`\n${signal} again: stopping now. Run the command again to finish the job.`);
      exit(EXIT_INTERRUPTED);
      return;
    }
    say(`\n${signal}: stopping after the current batch (again to stop at once)...`);
  };
  signals.on('SIGINT', onSignal);
  signals.on('SIGTERM', onSignal);
  return {
    get requested() {
      return count > 0;
    },
    dispose() {
      signals.off('SIGINT', onSignal);
      signals.off('SIGTERM', onSignal);
    },
  };
}
