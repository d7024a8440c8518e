// The archive.org HTTP client: client.ts (the calls), transport.ts (one exchange: timeout, redirects,
// outages), wire-schemas.ts (archive.org's answers, validated), results.ts (what the calls return).
export { ArchiveClient, defaultEndpoints, searchWords } from './client';
export type { ArchiveClientOptions, ArchiveEndpoints } from './client';
export type { ArchiveObserver, ArchiveOutcome } from './transport';
export { CallBudget, DEFAULT_GATE_LIMITS } from './gate';
export type { GateLimits } from './gate';
export type {
  ActiveLoan,
  BookAvailability,
  CatalogueBook,
  CataloguePage,
  HistoryItem,
  IaAccountInfo,
  LendingStatus,
  LoanAction,
  LoanRefusal,
  XauthnResponse,
  XauthnValues,
} from './results';
export { s3KeysSchema } from './wire-schemas';
export type { RedeemOtpResult } from './otp';
