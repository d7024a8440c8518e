import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { PENDING_LABEL, useLendingAction } from './actions';
import { Cover } from './Cover';
import { ReadButton } from './ReadButton';
import { trpc } from './trpc';
import type { Loan } from './types';
import { Empty, formatDate, LoadError, Loading, Screen, Waiting } from './ui';

export function LoansScreen() {
  const loans = useQuery(trpc.loans.list.queryOptions());
  return (
    <Screen title="My loans">
      {loans.data ? (
        loans.data.length === 0 ? (
          <Empty>
            <p>You have no books on loan.</p>
            <p>
              <a href="#/">Browse the catalogue</a> to borrow one.
            </p>
          </Empty>
        ) : (
          <>
            <p className="muted">
              {loans.data.length === 1
                ? 'You have 1 book on loan.'
                : `You have ${loans.data.length} books on loan.`}{' '}
              You can borrow up to 5 at a time.
            </p>
            <ul className="books">
              {loans.data.map((loan) => (
                <LoanCard key={loan.identifier} loan={loan} />
              ))}
            </ul>
          </>
        )
      ) : loans.isError ? (
        <LoadError error={loans.error} onRetry={() => void loans.refetch()} what="your loans" />
      ) : loans.fetchStatus === 'paused' ? (
        <Waiting what="Your loans" />
      ) : (
        <Loading label="Loading your loans…" rows={3} />
      )}
    </Screen>
  );
}

function LoanCard({ loan }: { loan: Loan }) {
  const titleId = useId();
  const { run, current, failure } = useLendingAction();
  const title = loan.title ?? loan.identifier;
  return (
    <li className="book book-mine">
      <Cover identifier={loan.identifier} title={title} />
      <h2 id={titleId} className="book-title">
        {title}
      </h2>
      <p className="book-author">{loan.type === 'browse' ? 'Browsing' : 'Borrowed'}</p>
      <dl className="dates">
        <div>
          <dt>Since</dt>
          <dd>{formatDate(loan.borrowedAt)}</dd>
        </div>
        <div>
          <dt>Due</dt>
          <dd>{formatDate(loan.dueAt)}</dd>
        </div>
      </dl>
      {failure && (
        <p className="action-error" role="alert">
          {failure}
        </p>
      )}
      <div className="actions">
        <ReadButton identifier={loan.identifier} describedBy={titleId} />
        <button
          type="button"
          className="secondary"
          aria-describedby={titleId}
          disabled={current !== null}
          onClick={() => run('return', loan.identifier, title)}
        >
          {current === 'return' ? PENDING_LABEL.return : 'Return'}
        </button>
      </div>
    </li>
  );
}
