import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ArchiveFixture, FixtureBook, FixturePatron } from './fixture';

export const LOAN_LIMIT = 5;
export const BORROW_MS = 14 * 24 * 60 * 60 * 1000;
export const BROWSE_MS = 60 * 60 * 1000;
const TOKEN_MS = 60 * 60 * 1000;

export type LoanType = 'borrow' | 'browse';

export interface Loan {
  identifier: string;
  email: string;
  type: LoanType;
  created: Date;
  until: Date;
}

export interface HistoryEvent {
  identifier: string;
  action: 'borrow' | 'browse' | 'return' | 'expire' | 'join_waitlist' | 'leave_waitlist';
  at: Date;
}

/** A failure the loans API reports with this HTTP status and `error` string. */
export class LoanError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    readonly error: string,
  ) {
    super(error);
  }
}

/**
 * A fault the app plays instead of answering, for tests of clients: `hang` never answers, `reset` drops the
 * connection, `status` answers with that status, `non_json` with HTML, `bad_shape` with JSON of the wrong shape.
 * `path` limits it to requests whose path starts with it.
 */
export type ArchiveFault = { path?: string } & (
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'status'; status: number }
  | { kind: 'non_json' }
  | { kind: 'bad_shape' }
);

export interface LendingStatus {
  is_lendable: boolean;
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

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time string comparison (both sides hashed to equal length first). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** Everything the stand-in remembers between requests, in memory. `reset()` forgets loans, waitlists and tokens. */
export class ArchiveState {
  /** The clock; tests may replace it to move time forward. */
  now: () => Date = () => new Date();
  fault: ArchiveFault | null = null;

  readonly serviceKeys: { access: string; secret: string };
  private readonly patronsByEmail = new Map<string, FixturePatron>();
  private readonly patronsByItemname = new Map<string, FixturePatron>();
  private readonly patronsByAccess = new Map<string, FixturePatron>();
  private readonly booksById = new Map<string, FixtureBook>();
  readonly books: readonly FixtureBook[];

  private loans: Loan[] = [];
  private waitlists = new Map<string, string[]>();
  private history = new Map<string, HistoryEvent[]>();
  private tokens = new Map<string, { email: string; expires: number }>();

  constructor(fixture: ArchiveFixture) {
    this.serviceKeys = fixture.serviceKeys;
    for (const patron of fixture.patrons) {
      this.patronsByEmail.set(patron.email.toLowerCase(), patron);
      this.patronsByItemname.set(patron.itemname, patron);
      this.patronsByAccess.set(patron.s3.access, patron);
    }
    this.books = fixture.books;
    for (const book of fixture.books) this.booksById.set(book.identifier, book);
  }

  reset(): void {
    this.loans = [];
    this.waitlists = new Map();
    this.history = new Map();
    this.tokens = new Map();
    this.fault = null;
  }

  patronByEmail(email: string): FixturePatron | null {
    return this.patronsByEmail.get(email.trim().toLowerCase()) ?? null;
  }

  patronByItemname(itemname: string): FixturePatron | null {
    return this.patronsByItemname.get(itemname) ?? null;
  }

  patronByKeys(access: string, secret: string): FixturePatron | null {
    const patron = this.patronsByAccess.get(access);
    // Compare against a throwaway value when the access key is unknown, so timing does not tell.
    const ok = sameSecret(secret, patron?.s3.secret ?? randomBytes(16).toString('hex'));
    return patron && ok ? patron : null;
  }

  book(identifier: string): FixtureBook | null {
    return this.booksById.get(identifier) ?? null;
  }

  issueToken(patron: FixturePatron): string {
    const token = randomBytes(24).toString('hex');
    this.tokens.set(token, { email: patron.email, expires: this.now().getTime() + TOKEN_MS });
    return token;
  }

  patronByToken(token: string): FixturePatron | null {
    const entry = this.tokens.get(token);
    if (!entry || entry.expires <= this.now().getTime()) return null;
    return this.patronByEmail(entry.email);
  }

  /** Ends loans whose time is up (recorded as 'expire' in the patron's history). */
  private expireLoans(): void {
    const now = this.now();
    const kept: Loan[] = [];
    for (const loan of this.loans) {
      if (loan.until.getTime() > now.getTime()) kept.push(loan);
      else this.record(loan.email, loan.identifier, 'expire', loan.until);
    }
    this.loans = kept;
  }

  private record(email: string, identifier: string, action: HistoryEvent['action'], at = this.now()): void {
    const events = this.history.get(email) ?? [];
    events.push({ identifier, action, at });
    this.history.set(email, events);
  }

  private requireBook(identifier: string): FixtureBook {
    const book = this.book(identifier);
    if (!book) throw new LoanError(404, 'item_not_found');
    return book;
  }

  activeLoans(email: string): Loan[] {
    this.expireLoans();
    return this.loans.filter((loan) => loan.email === email);
  }

  private waitlist(identifier: string): string[] {
    return this.waitlists.get(identifier) ?? [];
  }

  /** Copies free for this patron: a free copy is held for whoever is ahead of them on the waitlist. */
  private freeFor(book: FixtureBook, email: string | null): number {
    const onLoan = this.loans.filter((loan) => loan.identifier === book.identifier).length;
    const waitlist = this.waitlist(book.identifier);
    const position = email === null ? -1 : waitlist.indexOf(email);
    const ahead = position === -1 ? waitlist.length : position;
    return book.copies - onLoan - ahead;
  }

  status(identifier: string, email: string | null): LendingStatus {
    const book = this.requireBook(identifier);
    this.expireLoans();
    const onLoan = this.loans.filter((loan) => loan.identifier === identifier).length;
    const waitlist = this.waitlist(identifier);
    const free = this.freeFor(book, email) > 0;
    const status: LendingStatus = {
      is_lendable: true,
      available_to_borrow: free,
      available_to_browse: free,
      available_to_waitlist: !free,
      copies: book.copies,
      available_copies: book.copies - onLoan,
      users_on_waitlist: waitlist.length,
    };
    if (email !== null) {
      const loan = this.loans.find((l) => l.email === email && l.identifier === identifier);
      const onWaitlist = waitlist.includes(email);
      status.user_has_borrowed = loan?.type === 'borrow';
      status.user_has_browsed = loan?.type === 'browse';
      status.user_on_waitlist = onWaitlist;
      status.available_to_waitlist = !free && !loan && !onWaitlist;
    }
    return status;
  }

  borrow(email: string, identifier: string, type: LoanType): Loan {
    const book = this.requireBook(identifier);
    const mine = this.activeLoans(email);
    const existing = mine.find((loan) => loan.identifier === identifier);
    const now = this.now();
    if (existing) {
      // Borrowing a book one is browsing turns the browse into a 14-day loan; anything else changes nothing.
      if (existing.type === 'browse' && type === 'borrow') {
        existing.type = 'borrow';
        existing.until = new Date(now.getTime() + BORROW_MS);
        this.record(email, identifier, 'borrow');
      }
      return existing;
    }
    if (mine.length >= LOAN_LIMIT) throw new LoanError(400, 'loan_limit_reached');
    if (this.freeFor(book, email) <= 0) throw new LoanError(409, 'no_copies_available');
    const loan: Loan = {
      identifier,
      email,
      type,
      created: now,
      until: new Date(now.getTime() + (type === 'borrow' ? BORROW_MS : BROWSE_MS)),
    };
    this.loans.push(loan);
    this.removeFromWaitlist(identifier, email);
    this.record(email, identifier, type);
    return loan;
  }

  returnLoan(email: string, identifier: string): void {
    this.requireBook(identifier);
    this.expireLoans();
    const index = this.loans.findIndex((loan) => loan.email === email && loan.identifier === identifier);
    if (index === -1) throw new LoanError(404, 'no_active_loan');
    this.loans.splice(index, 1);
    this.record(email, identifier, 'return');
  }

  joinWaitlist(email: string, identifier: string): void {
    const book = this.requireBook(identifier);
    const waitlist = this.waitlist(identifier);
    if (waitlist.includes(email)) return;
    if (this.activeLoans(email).some((loan) => loan.identifier === identifier)) {
      throw new LoanError(400, 'already_borrowed');
    }
    if (this.freeFor(book, email) > 0) throw new LoanError(400, 'available_now');
    this.waitlists.set(identifier, [...waitlist, email]);
    this.record(email, identifier, 'join_waitlist');
  }

  leaveWaitlist(email: string, identifier: string): void {
    this.requireBook(identifier);
    if (this.removeFromWaitlist(identifier, email)) this.record(email, identifier, 'leave_waitlist');
  }

  private removeFromWaitlist(identifier: string, email: string): boolean {
    const waitlist = this.waitlist(identifier);
    if (!waitlist.includes(email)) return false;
    this.waitlists.set(
      identifier,
      waitlist.filter((entry) => entry !== email),
    );
    return true;
  }

  /** Newest first. */
  historyOf(email: string, limit: number, offset: number): HistoryEvent[] {
    this.expireLoans();
    // Expiries are noticed late but dated when they happened: order by date, newest first, then by arrival.
    const events = (this.history.get(email) ?? []).map((event, index) => ({ event, index }));
    events.sort((a, b) => b.event.at.getTime() - a.event.at.getTime() || b.index - a.index);
    return events.slice(offset, offset + limit).map(({ event }) => event);
  }
}
