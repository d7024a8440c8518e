import { describe, expect, it } from 'vitest';
import type { Logger } from 'pino';
import { createLogger } from './logger';
import { LogBudget } from './work-bounds';

describe('LogBudget', () => {
  it('writes at most `max` lines of a request, then one line counting the rest', () => {
    const lines: string[] = [];
    const log: Logger = createLogger(
      { logLevel: 'info' },
      { write: (line: string) => void lines.push(line) },
    );
    const budget = new LogBudget(() => log, 3);
    for (let n = 0; n < 500; n++) budget.warn({ n }, 'procedure failed');
    budget.write('error', { n: 'x' }, 'procedure failed');
    budget.flush();
    const written = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(written).toHaveLength(4);
    expect(written.slice(0, 3).map((line) => line.n)).toEqual([0, 1, 2]);
    expect(written[3]).toMatchObject({ msg: 'log lines of this request dropped', dropped: 498, max: 3 });
    budget.flush(); // nothing more to say
    expect(lines).toHaveLength(4);
  });
});
