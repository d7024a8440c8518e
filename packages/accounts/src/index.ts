export * from './types';
export * from './errors';
export * from './store/index';
export { saveS3Keys, seedLegacyAccounts, type LegacyAccountSeed } from './legacy';
export { ArchiveClient, CallBudget, DEFAULT_GATE_LIMITS, defaultEndpoints } from './archive-client';
export type {
  ArchiveClientOptions,
  ArchiveEndpoints,
  ArchiveObserver,
  BookAvailability,
  CataloguePage,
  GateLimits,
  LoanRefusal,
  XauthnResponse,
  XauthnValues,
  IaAccountInfo,
  HistoryItem,
  ActiveLoan,
  LendingStatus,
  CatalogueBook,
  LoanAction,
  RedeemOtpResult,
} from './archive-client';
export { auditAccounts, usernameBase } from './audit';
export { redeemLoginCode, requestLoginCode } from './code-login';
export type { AuditDeps, AuditResult, Credentials } from './audit';
export { getS3Keys } from './s3-keys';
export type {
  OpenLibraryCookiePolicy,
  S3CookieRejection,
  S3KeysLookup,
  S3KeysSource,
  S3KeysStoreFallback,
} from './s3-keys';
