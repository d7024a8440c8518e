import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { describeError } from './errors';
import { announce, clearStatus } from './status';
import { refreshLending, trpc } from './trpc';

export type LendingAction = 'borrow' | 'browse' | 'return' | 'joinWaitlist' | 'leaveWaitlist';

const DONE: Record<LendingAction, (title: string) => string> = {
  borrow: (t) => `You borrowed “${t}”. It is in My loans.`,
  browse: (t) => `You are browsing “${t}” for the next hour.`,
  return: (t) => `You returned “${t}”. Thank you!`,
  joinWaitlist: (t) => `You joined the waitlist for “${t}”. We will hold it for you when a copy is free.`,
  leaveWaitlist: (t) => `You left the waitlist for “${t}”.`,
};

export const PENDING_LABEL: Record<LendingAction, string> = {
  borrow: 'Borrowing…',
  browse: 'Opening…',
  return: 'Returning…',
  joinWaitlist: 'Joining…',
  leaveWaitlist: 'Leaving…',
};

/**
 * One mutation per lending action. Success goes to the page's status line; a failure is shown on the
 * book itself (next to the button the patron pressed, which may be far below the status line on a phone).
 */
export function useLendingAction() {
  const [failure, setFailure] = useState<string | null>(null);
  const onSuccess = (action: LendingAction, title: string) => {
    announce(DONE[action](title), 'success');
    return refreshLending();
  };
  const onError = (error: unknown) => {
    const problem = describeError(error);
    // relogin problems are handled globally (login form with the reason); everything else is said here.
    if (problem.relogin) return;
    setFailure(problem.message);
    // The catalogue may be stale (someone else took the last copy): show what is true now.
    if (!problem.network) void refreshLending();
  };
  const borrow = useMutation(trpc.loans.borrow.mutationOptions({ onError }));
  const ret = useMutation(trpc.loans.return.mutationOptions({ onError }));
  const join = useMutation(trpc.loans.joinWaitlist.mutationOptions({ onError }));
  const leave = useMutation(trpc.loans.leaveWaitlist.mutationOptions({ onError }));

  const [current, setCurrent] = useState<LendingAction | null>(null);
  const run = (action: LendingAction, identifier: string, title: string) => {
    setCurrent(action);
    setFailure(null);
    clearStatus();
    const done = { onSuccess: () => onSuccess(action, title), onSettled: () => setCurrent(null) };
    switch (action) {
      case 'borrow':
      case 'browse':
        borrow.mutate({ identifier, action }, done);
        break;
      case 'return':
        ret.mutate({ identifier }, done);
        break;
      case 'joinWaitlist':
        join.mutate({ identifier }, done);
        break;
      case 'leaveWaitlist':
        leave.mutate({ identifier }, done);
        break;
    }
  };
  return { run, current, failure };
}
