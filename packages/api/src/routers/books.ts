import type { BookAvailability, CatalogueBook } from '@lending/accounts';
import type { Context } from '../context';
import type { Book, BookPage } from '../outputs';
import { applyPrintDisabledRule } from '../print-disabled';
import { booksListInput } from '../schemas';
import { publicProcedure, router } from '../trpc';

export const DEFAULT_PAGE_SIZE = 20;

const UNKNOWN: BookAvailability = {
  status: 'unknown',
  isLendable: false,
  isPrintDisabled: false,
  availableToBorrow: false,
  availableToBrowse: false,
  availableToWaitlist: false,
  waitlistLength: 0,
};

function toBook(
  book: CatalogueBook,
  status: BookAvailability,
  loans: Map<string, 'borrow' | 'browse'>,
  waiting: Set<string>,
): Book {
  return {
    identifier: book.identifier,
    title: book.title,
    author: book.creator,
    year: book.year,
    availability: {
      status: status.status,
      borrow: status.availableToBorrow,
      browse: status.availableToBrowse,
      waitlist: status.availableToWaitlist,
      waitlistLength: status.waitlistLength,
    },
    yourLoan: loans.get(book.identifier) ?? null,
    onWaitlist: waiting.has(book.identifier),
    // OL's rule (AvailabilityStatus): in `printdisabled` and not lendable to everyone.
    printDisabledOnly: !status.isLendable && status.isPrintDisabled,
  };
}

/** The patron's loans and waitlist (internal lending API, no patron keys), empty when logged out; print-disabled access. */
async function patronState(ctx: Context): Promise<{
  loans: Map<string, 'borrow' | 'browse'>;
  waiting: Set<string>;
  printDisabled: boolean;
}> {
  const session = await ctx.getSession();
  const printDisabled = session?.printDisabled ?? false;
  const itemname = session?.account.itemname;
  if (!itemname) return { loans: new Map(), waiting: new Set(), printDisabled };
  const [loans, waiting] = await Promise.all([
    ctx.archive().loansOf(itemname),
    ctx.archive().waitlistOf(itemname),
  ]);
  return {
    loans: new Map(loans.map((loan) => [loan.identifier, loan.type])),
    waiting: new Set(waiting),
    printDisabled,
  };
}

export const booksRouter = router({
  /**
   * One page of the catalogue with live availability: one search and one batched availability call (each
   * cached briefly and shared by concurrent requests); for a logged-in patron also their loans and waitlist.
   */
  list: publicProcedure.input(booksListInput).query(async ({ ctx, input }): Promise<BookPage> => {
    const page = input?.page ?? 1;
    const pageSize = input?.pageSize ?? DEFAULT_PAGE_SIZE;
    const [found, patron] = await Promise.all([
      ctx.archive().searchCatalogue({ query: input?.query ?? '', page, rows: pageSize }),
      patronState(ctx),
    ]);
    const statuses =
      found.books.length === 0
        ? new Map<string, BookAvailability>()
        : await ctx.archive().availabilityOf(found.books.map((book) => book.identifier));
    const printDisabled = patron.printDisabled;
    return {
      books: found.books.map((book) =>
        applyPrintDisabledRule(
          toBook(book, statuses.get(book.identifier) ?? UNKNOWN, patron.loans, patron.waiting),
          printDisabled,
        ),
      ),
      page,
      pageSize,
      total: found.total,
      pages: Math.ceil(found.total / pageSize),
    };
  }),
});
