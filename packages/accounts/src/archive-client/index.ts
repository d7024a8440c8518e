// The archive.org HTTP client: client.ts (the calls), transport.ts (one exchange: timeout, redirects,
// outages), wire-schemas.ts (archive.org's answers, validated), results.ts (what the calls return).
export { ArchiveClient } from './client';
export type { ArchiveClientOptions } from './client';
export type {
  ActiveLoan,
  CatalogueBook,
  HistoryItem,
  IaAccountInfo,
  LendingStatus,
  LoanAction,
  XauthnResponse,
  XauthnValues,
} from './results';
export { s3KeysSchema } from './wire-schemas';
export type { RedeemOtpResult } from './otp';
