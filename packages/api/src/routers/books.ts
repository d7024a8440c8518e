import { isAppError } from '@lending/accounts';
import type { CatalogueBook, LendingStatus, S3Keys } from '@lending/accounts';
import type { Book } from '../outputs';
import { applyPrintDisabledRule } from '../print-disabled';
import { dropRefusedS3Keys, lookUpS3Keys } from '../s3-keys';
import { booksListInput } from '../schemas';
import { publicProcedure, router } from '../trpc';

function matches(book: CatalogueBook, query: string): boolean {
  return book.title.toLowerCase().includes(query) || book.creator.toLowerCase().includes(query);
}

function toBook(book: CatalogueBook, status: LendingStatus): Book {
  return {
    identifier: book.identifier,
    title: book.title,
    author: book.creator,
    year: book.year,
    availability: {
      borrow: status.available_to_borrow,
      browse: status.available_to_browse,
      waitlist: status.available_to_waitlist,
      copies: status.copies,
      availableCopies: status.available_copies,
      waitlistLength: status.users_on_waitlist,
    },
    yourLoan: status.user_has_borrowed ? 'borrow' : status.user_has_browsed ? 'browse' : null,
    onWaitlist: status.user_on_waitlist ?? false,
    printDisabledOnly: !status.is_lendable && status.is_printdisabled === true,
  };
}

export const booksRouter = router({
  /** The catalogue with live availability; with the patron's keys when logged in, for their own loans. */
  list: publicProcedure.input(booksListInput).query(async ({ ctx, input }): Promise<Book[]> => {
    const session = await ctx.getSession();
    let s3Keys: S3Keys | undefined;
    if (session) s3Keys = (await lookUpS3Keys(ctx, session)).s3Keys ?? undefined;
    const query = input?.query?.trim().toLowerCase() ?? '';
    const catalogue = await ctx.deps.archive.searchBooks();
    const books = query === '' ? catalogue : catalogue.filter((book) => matches(book, query));
    const statuses = (withS3Keys: S3Keys | undefined) =>
      Promise.all(books.map((book) => ctx.deps.archive.availability(book.identifier, withS3Keys)));
    let found: LendingStatus[];
    try {
      found = await statuses(s3Keys);
    } catch (error) {
      // Refused patron keys must not hide the catalogue: drop them and show it as to a visitor.
      if (!(session && s3Keys && isAppError(error, 'invalid_s3keys'))) throw error;
      dropRefusedS3Keys(ctx, session.username);
      found = await statuses(undefined);
    }
    const printDisabled = session?.printDisabled ?? false;
    return books.map((book, index) =>
      applyPrintDisabledRule(toBook(book, found[index] as LendingStatus), printDisabled),
    );
  }),
});
