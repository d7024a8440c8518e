import { useQuery } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { PENDING_LABEL, useLendingAction, type LendingAction } from './actions';
import { trpc } from './trpc';
import type { Book } from './types';
import { Empty, formText, LoadError, Loading, Screen, Waiting } from './ui';

export function CatalogueScreen() {
  const [query, setQuery] = useState('');
  const books = useQuery(trpc.books.list.queryOptions(query ? { query } : undefined));

  function onSearch(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setQuery(formText(new FormData(event.currentTarget), 'q').trim());
  }

  return (
    <Screen title="Catalogue">
      <form className="search" role="search" onSubmit={onSearch}>
        <label htmlFor="catalogue-q">Search by title or author</label>
        <div className="search-row">
          <input id="catalogue-q" name="q" type="search" defaultValue={query} />
          <button type="submit" className="secondary">
            Search
          </button>
        </div>
      </form>
      {books.data ? (
        books.data.length === 0 ? (
          <Empty>
            <p>{query ? `No books match “${query}”.` : 'The catalogue is empty right now.'}</p>
            {query && <p>Try a shorter search, or clear the search box to see every book.</p>}
          </Empty>
        ) : (
          <>
            <p className="muted" aria-live="polite">
              {books.data.length === 1 ? '1 book' : `${books.data.length} books`}
              {query && ` matching “${query}”`}
            </p>
            <ul className="books">
              {books.data.map((book) => (
                <BookCard key={book.identifier} book={book} />
              ))}
            </ul>
          </>
        )
      ) : books.isError ? (
        <LoadError error={books.error} onRetry={() => void books.refetch()} what="the catalogue" />
      ) : books.fetchStatus === 'paused' ? (
        <Waiting what="The catalogue" />
      ) : (
        <Loading label="Loading the catalogue…" rows={6} />
      )}
    </Screen>
  );
}

function availabilityText(book: Book): string {
  const { availability: a } = book;
  if (book.yourLoan === 'borrow') return 'On loan to you';
  if (book.yourLoan === 'browse') return 'You are browsing this book';
  const waiting = a.waitlistLength > 0 ? ` · ${a.waitlistLength} waiting` : '';
  if (book.onWaitlist) return `You are on the waitlist${waiting}`;
  if (book.printDisabledOnly && !a.borrow && !a.browse && !a.waitlist) return 'Not available to borrow';
  if (a.availableCopies > 0) {
    return `Available: ${a.availableCopies} of ${a.copies} ${a.copies === 1 ? 'copy' : 'copies'}`;
  }
  if (a.copies === 0) return 'Not available to borrow';
  return `${a.copies === 1 ? 'The only copy is' : `All ${a.copies} copies are`} on loan${waiting}`;
}

function BookCard({ book }: { book: Book }) {
  const titleId = useId();
  const { run, current, failure } = useLendingAction();
  const { availability: a } = book;
  const mine = book.yourLoan !== null;

  const actions: { action: LendingAction; label: string; primary?: boolean }[] = [];
  if (mine) actions.push({ action: 'return', label: 'Return' });
  else if (book.onWaitlist) actions.push({ action: 'leaveWaitlist', label: 'Leave waitlist' });
  else {
    if (a.borrow) actions.push({ action: 'borrow', label: 'Borrow', primary: true });
    if (a.browse) actions.push({ action: 'browse', label: 'Browse', primary: !a.borrow });
    if (!a.borrow && !a.browse && a.waitlist)
      actions.push({ action: 'joinWaitlist', label: 'Join waitlist' });
  }

  return (
    <li className={`book${mine ? ' book-mine' : ''}`}>
      <h2 id={titleId} className="book-title">
        {book.title}
      </h2>
      <p className="book-author">
        {book.author || 'Unknown author'}
        {book.year !== null && <span className="muted"> · {book.year}</span>}
      </p>
      {book.printDisabledOnly && <p className="pd-only">For print-disabled readers only</p>}
      <p className={`availability${a.availableCopies > 0 || mine ? ' available' : ''}`}>
        {availabilityText(book)}
      </p>
      {failure && (
        <p className="action-error" role="alert">
          {failure}
        </p>
      )}
      {actions.length > 0 && (
        <div className="actions">
          {actions.map(({ action, label, primary }) => (
            <button
              key={action}
              type="button"
              className={primary ? 'primary' : 'secondary'}
              aria-describedby={titleId}
              disabled={current !== null}
              onClick={() => run(action, book.identifier, book.title)}
            >
              {current === action ? PENDING_LABEL[action] : label}
            </button>
          ))}
        </div>
      )}
    </li>
  );
}
