import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { describeError } from './errors';
import { announce } from './status';
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

/** One mutation per lending action; results and failures go to the status line. */
export function useLendingAction() {
  const onSuccess = (action: LendingAction, title: string) => {
    announce(DONE[action](title), 'success');
    return refreshLending();
  };
  const onError = (error: unknown) => {
    const problem = describeError(error);
    // relogin problems are handled globally (login form with the reason); everything else is said here.
    if (!problem.relogin) announce(problem.message, 'error');
  };
  const borrow = useMutation(trpc.loans.borrow.mutationOptions({ onError }));
  const ret = useMutation(trpc.loans.return.mutationOptions({ onError }));
  const join = useMutation(trpc.loans.joinWaitlist.mutationOptions({ onError }));
  const leave = useMutation(trpc.loans.leaveWaitlist.mutationOptions({ onError }));

  const [current, setCurrent] = useState<LendingAction | null>(null);
  const run = (action: LendingAction, identifier: string, title: string) => {
    setCurrent(action);
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
  return { run, current };
}
