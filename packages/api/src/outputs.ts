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

/** What archive.org's availability API says of a book (for everyone; the patron's own state is on Book). */
export interface Availability {
  /** archive.org's status: `borrow_available`, `borrow_unavailable`, `private`, … or `unknown`. */
  status: string;
  borrow: boolean;
  browse: boolean;
  waitlist: boolean;
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

/** One page of the catalogue. */
export interface BookPage {
  books: Book[];
  /** 1-based. */
  page: number;
  pageSize: number;
  /** Books matching in the whole catalogue. */
  total: number;
  /** Pages in all (0 when nothing matches). */
  pages: number;
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

/** A BookReader auth link for a book the patron holds now; open it before `expiresAt` (two minutes). */
export interface ReadLink {
  url: string;
  expiresAt: string;
}

/** What the SPA needs to know about this server's configuration: only what a browser may see. */
export interface SiteConfig {
  /** Origin of archive.org's cover image service: covers are `<imagesUrl>/services/img/<identifier>`. */
  imagesUrl: string;
}
