// Open Library's rule for print-disabled access (plugins/upstream/borrow.py `user_can_borrow_edition`,
// core/lending.py `get_lending_state`): a patron with print-disabled access (xauthn's has_disability_access, the
// session's `printDisabled`) may borrow a book lent only to such patrons; anyone else may not, and is told so
// (`print_disabled_only`, from the loans API's refusal).
import type { Book } from './outputs';

/** The book as this patron may take it: a print-disabled-only book is borrowable to them alone. */
export function applyPrintDisabledRule(book: Book, printDisabled: boolean): Book {
  if (!book.printDisabledOnly) return book;
  const { availability } = book;
  if (!printDisabled) {
    return { ...book, availability: { ...availability, borrow: false, browse: false, waitlist: false } };
  }
  const free = availability.borrow || availability.availableCopies > 0;
  return {
    ...book,
    availability: {
      ...availability,
      borrow: free,
      waitlist: !free && book.yourLoan === null && !book.onWaitlist,
    },
  };
}
