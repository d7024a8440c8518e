import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { PENDING_LABEL, useLendingAction, type LendingAction } from './actions';
import { Cover } from './Cover';
import { ReadButton } from './ReadButton';
import { trpc } from './trpc';
import type { Book } from './types';
import { Empty, formText, LoadError, Loading, Screen, Waiting } from './ui';

export function CatalogueScreen() {
  const [query, setQuery] = useState('');
  const [page, setPage] = useState(1);
  const books = useQuery({
    ...trpc.books.list.queryOptions(query ? { query, page } : { page }),
    // The page just left stays on screen until the next one arrives: no flash of the loading state.
    placeholderData: keepPreviousData,
  });

  function onSearch(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setQuery(formText(new FormData(event.currentTarget), 'q').trim());
    setPage(1);
  }

  function goTo(next: number) {
    setPage(next);
    document.getElementById('catalogue-top')?.scrollIntoView({ block: 'start' });
  }

  const data = books.data;
  return (
    <Screen title="Catalogue">
      <form id="catalogue-top" className="search" role="search" onSubmit={onSearch}>
        <label htmlFor="catalogue-q">Search by title or author</label>
        <div className="search-row">
          <input id="catalogue-q" name="q" type="search" defaultValue={query} />
          <button type="submit" className="secondary">
            Search
          </button>
        </div>
      </form>
      {data ? (
        data.total === 0 || data.books.length === 0 ? (
          <Empty>
            <p>
              {query
                ? `No books match “${query}”.`
                : data.total === 0
                  ? 'The catalogue is empty right now.'
                  : 'There are no books on this page.'}
            </p>
            {query && <p>Try a shorter search, or clear the search box to see every book.</p>}
            {data.total > 0 && (
              <button type="button" className="secondary" onClick={() => goTo(1)}>
                First page
              </button>
            )}
          </Empty>
        ) : (
          <>
            <p className="muted" aria-live="polite">
              {data.total === 1 ? '1 book' : `${data.total} books`}
              {query && ` matching “${query}”`}
              {data.pages > 1 && ` · page ${data.page} of ${data.pages}`}
            </p>
            <ul className="books" aria-busy={books.isPlaceholderData}>
              {data.books.map((book) => (
                <BookCard key={book.identifier} book={book} />
              ))}
            </ul>
            {data.pages > 1 && (
              <nav className="pager" aria-label="Catalogue pages">
                <button
                  type="button"
                  className="secondary"
                  disabled={data.page <= 1 || books.isFetching}
                  onClick={() => goTo(data.page - 1)}
                >
                  Previous page
                </button>
                <span className="muted">
                  Page {data.page} of {data.pages}
                </span>
                <button
                  type="button"
                  className="secondary"
                  disabled={data.page >= data.pages || books.isFetching}
                  onClick={() => goTo(data.page + 1)}
                >
                  Next page
                </button>
              </nav>
            )}
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
  if (a.borrow) return 'Available to borrow';
  if (a.browse) return 'Available to browse for an hour';
  if (a.waitlist) return `All copies are on loan${waiting}`;
  return 'Not available to borrow';
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
      <Cover identifier={book.identifier} title={book.title} />
      <h2 id={titleId} className="book-title">
        {book.title}
      </h2>
      <p className="book-author">
        {book.author || 'Unknown author'}
        {book.year !== null && <span className="muted"> · {book.year}</span>}
      </p>
      {book.printDisabledOnly && <p className="pd-only">For print-disabled readers only</p>}
      <p className={`availability${a.borrow || a.browse || mine ? ' available' : ''}`}>
        {availabilityText(book)}
      </p>
      {failure && (
        <p className="action-error" role="alert">
          {failure}
        </p>
      )}
      {actions.length > 0 && (
        <div className="actions">
          {mine && <ReadButton identifier={book.identifier} describedBy={titleId} />}
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
