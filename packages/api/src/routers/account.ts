import { lookUpS3Keys } from '../session';
import { publicProcedure, router } from '../trpc';
import type { Me } from '../types';

export const accountRouter = router({
  /** The patron, or null when logged out; `keysSource` says where this request found the keys. */
  me: publicProcedure.query(async ({ ctx }): Promise<Me | null> => {
    const session = await ctx.getSession();
    if (!session) return null;
    const { source } = await lookUpS3Keys(ctx, session);
    const { account } = session;
    return {
      username: account.username,
      displayName: account.displayName,
      email: account.email,
      itemname: account.itemname,
      keysSource: source,
    };
  }),
});
