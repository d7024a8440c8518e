// "Read": asks the server for a fresh BookReader link (loans.readLink, valid two minutes, made only for a loan the
// patron holds now) and opens the reader in this tab. The link is used at once and kept nowhere.
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { describeError } from './errors';
import { announce } from './status';
import { refreshLending, trpc } from './trpc';

export function ReadButton({ identifier, describedBy }: { identifier: string; describedBy: string }) {
  const [failure, setFailure] = useState<string | null>(null);
  const readLink = useMutation(
    trpc.loans.readLink.mutationOptions({
      onSuccess: ({ url }) => window.location.assign(url),
      onError: (error) => {
        const problem = describeError(error);
        if (problem.relogin) return; // the login form says why
        if (problem.appCode === 'not_borrowed') {
          // The loan ended meanwhile (returned elsewhere, or expired): show what is true now. The refreshed card
          // has no Read button any more, so the reason goes to the page's status line, which stays.
          announce(problem.message, 'error');
          void refreshLending();
          return;
        }
        setFailure(problem.message);
      },
    }),
  );
  return (
    <>
      <button
        type="button"
        className="primary"
        aria-describedby={describedBy}
        disabled={readLink.isPending}
        onClick={() => {
          setFailure(null);
          readLink.mutate({ identifier });
        }}
      >
        {readLink.isPending ? 'Opening…' : 'Read'}
      </button>
      {failure && (
        <p className="action-error read-error" role="alert">
          {failure}
        </p>
      )}
    </>
  );
}
