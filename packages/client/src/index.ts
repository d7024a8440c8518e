// @lending/client: the typed client of the Lending API, for internal apps in other repositories. Inside the
// workspace it is @lending/api/client; `pnpm build` compiles it to dist/ (JavaScript, and one self-contained
// declaration file with the router's types) for `pnpm pack`.
export { CookieStore, cookieFetch, createLendingClient, parseSetCookie } from '@lending/api/client';
export type { LendingClient, LendingClientOptions, LendingCookies } from '@lending/api/client';
export type { AppRouter, RouterInputs, RouterOutputs } from '@lending/api';
export type { AppErrorCode, Availability, Book, HistoryEntry, KeysSource, Loan, Me } from '@lending/api';
