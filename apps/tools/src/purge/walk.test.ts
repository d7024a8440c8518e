import { describe, expect, it } from 'vitest';
import type { AccountStore, PurgeBatchOptions, PurgeBatchResult } from '@lending/accounts';
import { purgeS3Keys } from './walk';

function fakeStore(batches: PurgeBatchResult[], seen: PurgeBatchOptions[] = []): AccountStore {
  return {
    purgeS3KeysBatch: (options: PurgeBatchOptions) => {
      seen.push(options);
      return Promise.resolve(
        batches.shift() ?? { scanned: 0, last: null, withKeys: [], purged: [], failed: [] },
      );
    },
  } as unknown as AccountStore;
}

describe('purgeS3Keys', () => {
  it('follows the cursor until a batch scans nothing, and adds up the batches', async () => {
    const seen: PurgeBatchOptions[] = [];
    const store = fakeStore(
      [
        { scanned: 2, last: 'b', withKeys: ['a'], purged: ['a'], failed: [] },
        {
          scanned: 2,
          last: 'd',
          withKeys: ['c', 'd'],
          purged: ['c'],
          failed: [{ username: 'd', error: 'bad' }],
        },
      ],
      seen,
    );
    const summary = await purgeS3Keys(store, { batchSize: 2, dryRun: false });
    expect(seen.map((o) => o.after)).toEqual([null, 'b', 'd']);
    expect(summary).toMatchObject({
      scanned: 4,
      withKeys: 3,
      purged: 2,
      errors: 1,
      batches: 2,
      complete: true,
    });
    expect(summary.failed).toEqual([{ username: 'd', error: 'bad' }]);
  });

  it('stops between batches when asked, and refuses a cursor that does not advance', async () => {
    let calls = 0;
    const stopped = await purgeS3Keys(
      fakeStore([{ scanned: 1, last: 'a', withKeys: [], purged: [], failed: [] }]),
      { batchSize: 1, dryRun: true, shouldStop: () => calls++ > 0 },
    );
    expect(stopped).toMatchObject({ scanned: 1, interrupted: true, complete: false });

    const stuck = await purgeS3Keys(
      fakeStore([
        { scanned: 1, last: 'b', withKeys: [], purged: [], failed: [] },
        { scanned: 1, last: 'a', withKeys: [], purged: [], failed: [] },
      ]),
      { batchSize: 1, dryRun: true },
    );
    expect(stuck.fatal).toMatch(/does not advance/);
    expect(stuck.complete).toBe(false);
  });
});
