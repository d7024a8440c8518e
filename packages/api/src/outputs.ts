// The shapes procedures return (the contract in /tmp/lending-contracts.md, "@lending/api").
import type { S3KeysSource } from '@lending/accounts';

export type KeysSource = S3KeysSource;

export interface Me {
  username: string;
  displayName: string;
  email: string;
  itemname: string | null;
  keysSource: KeysSource;
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
