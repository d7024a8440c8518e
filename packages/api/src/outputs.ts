// What the procedures return (the output half of the API's contract; `RouterOutputs` infers the same types).
import type { S3KeysSource } from '@lending/accounts';

/** Where this request found the patron's S3 keys: the `s3` cookie, the store's legacy copy, or nowhere. */
export type KeysSource = S3KeysSource;

export interface Me {
  username: string;
  displayName: string;
  email: string;
  itemname: string | null;
  keysSource: KeysSource;
  /** Print-disabled access (Open Library's `special_access`): may borrow books lent only to such patrons. */
  printDisabled: boolean;
}

export interface Availability {
  borrow: boolean;
  browse: boolean;
  waitlist: boolean;
  copies: number;
  availableCopies: number;
  waitlistLength: number;
}

export interface Book {
  identifier: string;
  title: string;
  author: string;
  year: number | null;
  availability: Availability;
  /** The patron's own loan of this book; null when logged out. */
  yourLoan: 'borrow' | 'browse' | null;
  /** False when logged out. */
  onWaitlist: boolean;
  /** Lent only to print-disabled patrons (in `printdisabled`, not lendable to everyone). */
  printDisabledOnly: boolean;
}

export interface Loan {
  identifier: string;
  title: string | null;
  type: 'borrow' | 'browse';
  borrowedAt: string;
  dueAt: string;
}

export interface HistoryEntry {
  identifier: string;
  title: string | null;
  action: string;
  at: string;
}
