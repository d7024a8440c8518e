// Open Library's rule for print-disabled access (plugins/upstream/borrow.py `user_can_borrow_edition`,
// core/lending.py `get_lending_state`): a patron with print-disabled access (xauthn's has_disability_access, the
// session's `printDisabled`) may borrow a book lent only to such patrons; anyone else may not, and is told so
// (`print_disabled_only`, from the loans API's refusal).
import type { Book } from './outputs';

/**
 * The book as this patron may take it. Availability v2 answers for nobody in particular, so a book lent only to
 * print-disabled patrons comes back as `private` with nothing available: to anyone else it stays so; to a patron
 * with access OL offers "borrow" (the loans API then decides on copies), unless they already hold it.
 */
export function applyPrintDisabledRule(book: Book, printDisabled: boolean): Book {
  if (!book.printDisabledOnly) return book;
  const { availability } = book;
  if (!printDisabled) {
    return { ...book, availability: { ...availability, borrow: false, browse: false, waitlist: false } };
  }
  return {
    ...book,
    availability: { ...availability, borrow: book.yourLoan === null, browse: false, waitlist: false },
  };
}
