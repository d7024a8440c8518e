export { appRouter, createCaller } from './root';
export type { AppRouter, RouterInputs, RouterOutputs } from './root';
export { createContext } from './context';
export type { Context } from './context';
export type {
  ApiDeps,
  ApiLogger,
  ApiMetrics,
  ArchiveLinks,
  CookieJar,
  CookieName,
  LoginLimiter,
  RequestInfo,
  RequestScope,
} from './host';
export type { SessionUser } from './session';
export { createCallerFactory, publicProcedure, protectedProcedure, router } from './trpc';
export type { FieldErrors } from './trpc';
/** The stable `data.appCode` values of domain errors, for clients that word them. */
export type { AppErrorCode } from '@lending/accounts';
export { failureLog } from './errors';
export type { FailureLog } from './errors';
export { REMEMBER_TTL_SECONDS } from './session';
export type { Availability, Book, HistoryEntry, KeysSource, Loan, Me } from './outputs';
export type { ReadLink, SiteConfig } from './outputs';
