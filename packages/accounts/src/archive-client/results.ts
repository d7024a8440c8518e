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

/** A loan as the internal lending API's loan.query tells it (dates ISO 8601, UTC). */
export interface ActiveLoan {
  identifier: string;
  /** archive.org's loan id (BookReader's uuid is `loan-<id>`); null when the answer had none. */
  id: string | null;
  /** From the catalogue when known (loan.query carries no title). */
  title: string | null;
  /** loan.query says `bookreader` for both: a loan of a day or less is a browse (1 hour), else a borrow. */
  type: 'borrow' | 'browse';
  created: string;
  until: string;
}

/** One book's availability v2 answer, as Lending reads it. */
export interface BookAvailability {
  /** `borrow_available`, `borrow_unavailable`, `private`, `error` (unknown identifier), …. */
  status: string;
  isLendable: boolean;
  isPrintDisabled: boolean;
  availableToBorrow: boolean;
  availableToBrowse: boolean;
  availableToWaitlist: boolean;
  waitlistLength: number;
}

/** One page of the catalogue: the books and how many match in all. */
export interface CataloguePage {
  books: CatalogueBook[];
  /** Matches in the whole catalogue (advancedsearch's numFound). */
  total: number;
}

/** Why archive.org's loans API refused, when its answer said. */
export type LoanRefusal = 'lending_limit' | 'item_locked' | 'print_disabled_only';

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
