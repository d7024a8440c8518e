import { AppError } from '@lending/accounts';
import type { CatalogueBook, LendingStatus, S3Keys } from '@lending/accounts';
import { booksListInput } from '../schemas';
import { dropRefusedS3Keys, lookUpS3Keys } from '../session';
import { publicProcedure, router } from '../trpc';
import type { Book } from '../types';

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
  };
}

export const booksRouter = router({
  /** The catalogue with live availability; with the patron's keys when logged in, for their own loans. */
  list: publicProcedure.input(booksListInput).query(async ({ ctx, input }): Promise<Book[]> => {
    const session = await ctx.getSession();
    let keys: S3Keys | undefined;
    if (session) keys = (await lookUpS3Keys(ctx, session)).keys ?? undefined;
    const query = input?.query?.trim().toLowerCase() ?? '';
    const catalogue = await ctx.deps.archive.searchBooks();
    const books = query === '' ? catalogue : catalogue.filter((book) => matches(book, query));
    const statuses = (withKeys: S3Keys | undefined) =>
      Promise.all(books.map((book) => ctx.deps.archive.availability(book.identifier, withKeys)));
    let found: LendingStatus[];
    try {
      found = await statuses(keys);
    } catch (error) {
      // Refused patron keys must not hide the catalogue: drop them and show it as to a visitor.
      if (!(session && keys && error instanceof AppError && error.code === 'invalid_s3keys')) throw error;
      dropRefusedS3Keys(ctx, session.username);
      found = await statuses(undefined);
    }
    return books.map((book, index) => toBook(book, found[index] as LendingStatus));
  }),
});
