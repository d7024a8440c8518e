// The yes/no question before a real run on a terminal.
import { createInterface } from 'node:readline';
import type { CliIo } from '../cli-common';

/** Asks on stderr; "y" or "yes" confirms, anything else (or end of input) declines, Ctrl-C interrupts. */
export async function confirm(io: CliIo, question: string): Promise<'yes' | 'no' | 'interrupted'> {
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
