// What ArchiveClient's methods return: archive.org's answers, validated and reshaped for the account code.

export interface XauthnValues {
  token?: string;
  email?: string;
  screenname?: string;
  itemname?: string;
  verified?: boolean;
  locked?: boolean;
  /** Legacy (pre-#12942) xauthn answered with the patron's S3 keys here. */
  access?: string;
  secret?: string;
}

export type XauthnResponse =
  { success: true; values: XauthnValues } | { success: false; values: { reason: string } };

export interface IaAccountInfo {
  email: string;
  /** With its leading "@". */
  itemname: string;
  screenname: string;
  verified: boolean;
  locked: boolean;
  hasDisabilityAccess: boolean;
}

export interface HistoryItem {
  identifier: string;
  title: string | null;
  action: string;
  updatedate: string;
}

export interface ActiveLoan {
  identifier: string;
  title: string | null;
  type: 'borrow' | 'browse';
  created: string;
  until: string;
}

export interface LendingStatus {
  is_lendable: boolean;
  /** In the printdisabled collection; with is_lendable false, lent only to print-disabled patrons. */
  is_printdisabled?: boolean;
  available_to_borrow: boolean;
  available_to_browse: boolean;
  available_to_waitlist: boolean;
  copies: number;
  available_copies: number;
  users_on_waitlist: number;
  user_has_borrowed?: boolean;
  user_has_browsed?: boolean;
  user_on_waitlist?: boolean;
}

export interface CatalogueBook {
  identifier: string;
  title: string;
  creator: string;
  year: number | null;
}

export type LoanAction = 'borrow_book' | 'browse_book' | 'return_loan' | 'join_waitlist' | 'leave_waitlist';
