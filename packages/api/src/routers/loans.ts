import type { ActiveLoan, ArchiveClient, S3Keys } from '@lending/accounts';
import { isAppError } from '@lending/accounts';
import type { Context } from '../context';
import type { HistoryEntry, Loan } from '../outputs';
import { dropRefusedS3Keys, requireS3Keys } from '../s3-keys';
import { borrowInput, historyInput, identifierInput } from '../schemas';
import type { SessionUser } from '../session';
import { protectedProcedure, router } from '../trpc';
import { readLinkProcedure } from './read-link';

/**
 * The patron's active loans, from the internal lending API (loan.query with the itemname, Lending's token, no
 * patron keys), as Open Library's get_loans_of_user reads them. The itemname is the account's, else the one s3auth
 * names for the keys (a login with keys alone); none: no loans.
 */
async function activeLoans(
  ctx: Context & { session: SessionUser },
  s3Keys: S3Keys,
  options: { fresh?: boolean } = {},
): Promise<ActiveLoan[]> {
  const itemname = ctx.session.account.itemname ?? (await ctx.archive().s3auth(s3Keys)).itemname;
  return itemname ? ctx.archive().loansOf(itemname, options) : [];
}

function toLoan(loan: ActiveLoan): Loan {
  return {
    identifier: loan.identifier,
    title: loan.title,
    type: loan.type,
    borrowedAt: loan.created,
    dueAt: loan.until,
  };
}

/**
 * Runs one loans-API call with the patron's S3 keys. Keys archive.org refuses are dropped from the
 * cookie, so the next request falls back or asks the patron to log in again.
 */
async function withS3Keys<T>(
  ctx: Context & { session: SessionUser },
  call: (archive: ArchiveClient, s3Keys: S3Keys) => Promise<T>,
): Promise<T> {
  const s3Keys = await requireS3Keys(ctx, ctx.session);
  try {
    return await call(ctx.archive(), s3Keys);
  } catch (error) {
    if (isAppError(error, 'invalid_s3keys')) dropRefusedS3Keys(ctx, ctx.session.username);
    throw error;
  }
}

export const loansRouter = router({
  readLink: readLinkProcedure,

  list: protectedProcedure.query(async ({ ctx }): Promise<Loan[]> => {
    // The keys are not sent to loan.query, but a session without them cannot act on its loans: the patron logs
    // in again (s3_keys_missing), as for every loans call.
    const s3Keys = await requireS3Keys(ctx, ctx.session);
    return (await activeLoans(ctx, s3Keys)).map(toLoan);
  }),

  borrow: protectedProcedure
    .input(borrowInput)
    .mutation(async ({ ctx, input }): Promise<{ ok: true; loan: Loan | null }> => {
      const action = input.action === 'browse' ? 'browse_book' : 'borrow_book';
      const loans = await withS3Keys(ctx, async (archive, s3Keys) => {
        await archive.loan(s3Keys, input.identifier, action);
        return activeLoans(ctx, s3Keys, { fresh: true });
      });
      ctx.req.log.info({ username: ctx.session.username, identifier: input.identifier, action }, 'loan');
      const loan = loans.find((candidate) => candidate.identifier === input.identifier);
      return { ok: true, loan: loan ? toLoan(loan) : null };
    }),

  return: protectedProcedure
    .input(identifierInput)
    .mutation(async ({ ctx, input }): Promise<{ ok: true }> => {
      await withS3Keys(ctx, (archive, s3Keys) => archive.loan(s3Keys, input.identifier, 'return_loan'));
      ctx.req.log.info({ username: ctx.session.username, identifier: input.identifier }, 'loan returned');
      return { ok: true };
    }),

  joinWaitlist: protectedProcedure
    .input(identifierInput)
    .mutation(async ({ ctx, input }): Promise<{ ok: true }> => {
      await withS3Keys(ctx, (archive, s3Keys) => archive.loan(s3Keys, input.identifier, 'join_waitlist'));
      return { ok: true };
    }),

  leaveWaitlist: protectedProcedure
    .input(identifierInput)
    .mutation(async ({ ctx, input }): Promise<{ ok: true }> => {
      await withS3Keys(ctx, (archive, s3Keys) => archive.loan(s3Keys, input.identifier, 'leave_waitlist'));
      return { ok: true };
    }),

  history: protectedProcedure
    .input(historyInput)
    .query(async ({ ctx, input }): Promise<{ items: HistoryEntry[]; hasMore: boolean }> => {
      const limit = input?.limit ?? 20;
      const offset = input?.offset ?? 0;
      // One more than asked tells whether another page exists.
      const items = await withS3Keys(ctx, (archive, s3Keys) =>
        archive.history(s3Keys, { limit: limit + 1, offset }),
      );
      return {
        items: items.slice(0, limit).map((item) => ({
          identifier: item.identifier,
          title: item.title,
          action: item.action,
          at: item.updatedate,
        })),
        hasMore: items.length > limit,
      };
    }),
});
