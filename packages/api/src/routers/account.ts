import type { Account } from '@lending/accounts';
import type { KeysSource, Me } from '../outputs';
import { lookUpS3Keys } from '../s3-keys';
import { publicProcedure, router } from '../trpc';

/** The patron as procedures return them; `keysSource` says where this request found the keys. */
export function toMe(account: Account, keysSource: KeysSource, printDisabled = false): Me {
  return {
    username: account.username,
    displayName: account.displayName,
    email: account.email,
    itemname: account.itemname,
    keysSource,
    printDisabled,
  };
}

export const accountRouter = router({
  /** The patron, or null when logged out; `keysSource` says where this request found the keys. */
  me: publicProcedure.query(async ({ ctx }): Promise<Me | null> => {
    const session = await ctx.getSession();
    if (!session) return null;
    const { source } = await lookUpS3Keys(ctx, session);
    return toMe(session.account, source, session.printDisabled);
  }),
});
