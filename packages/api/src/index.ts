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
  CheckedSessionCookie,
  CookieRejectionReason,
  LimitDecision,
  LimitKind,
  LimitedAttempt,
  LoginLimiter,
  OpenLibraryCookieOutcome,
  RequestInfo,
  RequestScope,
} from './host';
export type { SessionUser } from './session';
export { checkSessionCookie } from './session';
export { createCallerFactory, publicProcedure, protectedProcedure, router } from './trpc';
export type { FieldErrors } from './trpc';
/** The stable `data.appCode` values of domain errors, for clients that word them. */
export type { AppErrorCode } from '@lending/accounts';
export { failureLog } from './errors';
export type { FailureLog } from './errors';
export {
  MAX_SESSIONS_PER_ACCOUNT,
  REMEMBER_IDLE_TTL_SECONDS,
  REMEMBER_MAX_TTL_SECONDS,
  REMEMBER_TTL_SECONDS,
} from './session';
export type { Availability, Book, BookPage, HistoryEntry, KeysSource, Loan, Me } from './outputs';
export { MAX_PAGE_SIZE } from './schemas';
export type { ReadLink, SiteConfig } from './outputs';
