import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Cover } from './Cover';
import { trpc } from './trpc';
import { Empty, formatDate, LoadError, Loading, Screen, Waiting } from './ui';

const PAGE = 20;

const ACTIONS: Record<string, string> = {
  borrow_book: 'Borrowed',
  borrow: 'Borrowed',
  browse_book: 'Browsed',
  browse: 'Browsed',
  return_loan: 'Returned',
  return: 'Returned',
  join_waitlist: 'Joined the waitlist',
  leave_waitlist: 'Left the waitlist',
};

function describeAction(action: string): string {
  return ACTIONS[action] ?? action.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

export function HistoryScreen() {
  const [page, setPage] = useState(0);
  const history = useQuery({
    ...trpc.loans.history.queryOptions({ limit: PAGE, offset: page * PAGE }),
    placeholderData: keepPreviousData,
  });
  const data = history.data;

  return (
    <Screen title="Loan history">
      {data ? (
        data.items.length === 0 && page === 0 ? (
          <Empty>
            <p>Nothing here yet. Books you borrow and return will be listed here.</p>
          </Empty>
        ) : (
          <>
            <ol className="history" aria-busy={history.isPlaceholderData}>
              {data.items.map((entry, i) => (
                <li key={`${entry.identifier}-${entry.at}-${i}`}>
                  <Cover identifier={entry.identifier} title={entry.title ?? entry.identifier} size="row" />
                  <span className="history-action">{describeAction(entry.action)}</span>{' '}
                  <span className="history-title">{entry.title ?? entry.identifier}</span>
                  <time className="muted" dateTime={entry.at}>
                    {formatDate(entry.at)}
                  </time>
                </li>
              ))}
            </ol>
            {(page > 0 || data.hasMore) && (
              <nav className="pager" aria-label="History pages">
                <button
                  type="button"
                  className="secondary"
                  disabled={page === 0 || history.isFetching}
                  onClick={() => setPage((p) => p - 1)}
                >
                  Newer
                </button>
                <span className="muted">Page {page + 1}</span>
                <button
                  type="button"
                  className="secondary"
                  disabled={!data.hasMore || history.isFetching}
                  onClick={() => setPage((p) => p + 1)}
                >
                  Older
                </button>
              </nav>
            )}
          </>
        )
      ) : history.isError ? (
        <LoadError error={history.error} onRetry={() => void history.refetch()} what="your loan history" />
      ) : history.fetchStatus === 'paused' ? (
        <Waiting what="Your history" />
      ) : (
        <Loading label="Loading your history…" rows={5} />
      )}
    </Screen>
  );
}
