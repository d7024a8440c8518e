export { appRouter, createCaller } from './root';
export type { AppRouter, RouterInputs, RouterOutputs } from './root';
export { createContext } from './context';
export type {
  ApiDeps,
  ApiLogger,
  ApiMetrics,
  Context,
  CookieJar,
  CookieName,
  LoginLimiter,
  RequestInfo,
  SessionUser,
} from './context';
export { createCallerFactory, isLoggedError, publicProcedure, protectedProcedure, router } from './trpc';
export type { FieldErrors } from './trpc';
/** The stable `data.appCode` values of domain errors, for clients that word them. */
export type { AppErrorCode } from '@lending/accounts';
export { TRPC_CODE_OF, MESSAGE_OF } from './errors';
export { REMEMBER_TTL_SECONDS } from './session';
export type { Availability, Book, HistoryEntry, KeysSource, Loan, Me } from './types';
