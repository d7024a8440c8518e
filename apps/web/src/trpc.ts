// The SPA's API client: the tRPC client over /trpc, the one QueryClient, and what happens when the session ends.
import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import type { AppRouter, Me } from '@lending/api';
import { describeError, shouldRetry } from './errors';
import { announce, clearStatus } from './status';
import { createStore } from './store';

/** Why the login form is back (e.g. "Please log in again to borrow."), or null for a plain login. */
export const loginNoticeStore = createStore<string | null>(null);

// Any call that finds the session gone (UNAUTHORIZED, or s3_keys_missing with the session cleared
// by the server) sends the patron back to the login form with the reason.
function onApiError(error: unknown): void {
  const problem = describeError(error);
  if (problem.relogin) endSession(problem.message);
}

// One QueryClient and one options proxy for the whole page (tRPC's "without React context" setup):
// the SPA has a single API on its own origin, so there is nothing to inject per tree.
export const queryClient = new QueryClient({
  queryCache: new QueryCache({ onError: onApiError }),
  mutationCache: new MutationCache({ onError: onApiError }),
  defaultOptions: {
    queries: {
      staleTime: 30_000,
      retry: (failureCount, error) => failureCount < 2 && shouldRetry(error),
    },
    // A borrow must not sit paused while offline and fire minutes later: fail now, say why.
    mutations: { retry: false, networkMode: 'always' },
  },
});

export const trpcClient = createTRPCClient<AppRouter>({
  // Same origin: the server serves this page, and Vite proxies /trpc in development.
  links: [httpBatchLink({ url: '/trpc' })],
});

export const trpc = createTRPCOptionsProxy<AppRouter>({ client: trpcClient, queryClient });

/** A login (password or code) succeeded: show the patron's screens and say so. */
export function startSession(me: Me): void {
  loginNoticeStore.set(null);
  queryClient.setQueryData(trpc.account.me.queryKey(), me);
  announce(`Welcome, ${me.displayName}.`, 'success');
}

/** Forget the patron's data and show the login form, optionally saying why. */
export function endSession(notice: string | null): void {
  clearStatus();
  loginNoticeStore.set(notice);
  queryClient.removeQueries({ queryKey: trpc.books.pathKey() });
  queryClient.removeQueries({ queryKey: trpc.loans.pathKey() });
  queryClient.setQueryData(trpc.account.me.queryKey(), null);
}

/** After a borrow, return or waitlist change: everything that shows loans or availability. */
export function refreshLending(): Promise<void> {
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: trpc.books.pathKey() }),
    queryClient.invalidateQueries({ queryKey: trpc.loans.pathKey() }),
  ]).then(() => undefined);
}
