import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { CallCounter } from './calls';
import type { ArchiveFixture, FixtureBook, FixturePatron } from './fixture';
import { OtpDesk } from './otp';
import { Outbox } from './outbox';

export const LOAN_LIMIT = 5;
export const BORROW_MS = 14 * 24 * 60 * 60 * 1000;
export const BROWSE_MS = 60 * 60 * 1000;
const TOKEN_MS = 60 * 60 * 1000;

export type LoanType = 'borrow' | 'browse';

export interface Loan {
  /** The loan's number at archive.org (Open Library turns it into the uuid `loan-<id>`). */
  id: number;
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

export interface WaitlistEntry {
  email: string;
  since: Date;
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

/** The loans API's `lending_status` (groundtruth availability). */
export interface LendingStatus {
  is_lendable: boolean;
  is_printdisabled: boolean;
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

/** How the stand-in behaves beyond its data; see ArchiveOptions in app.ts. */
export interface ArchiveSettings {
  strictProtocol: boolean;
  production: boolean;
  latencyMs: number;
  loanApiToken: string;
  accessSecret: string;
  log: (line: string) => void;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time string comparison (both sides hashed to equal length first). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export const isLendable = (book: FixtureBook): boolean => book.collections.includes('inlibrary');
export const isPrintDisabled = (book: FixtureBook): boolean => book.collections.includes('printdisabled');

/** Everything the stand-in remembers between requests, in memory. `reset()` forgets all of it but settings. */
export class ArchiveState {
  /** The clock; tests may replace it to move time forward. */
  now: () => Date = () => new Date();
  fault: ArchiveFault | null = null;
  /** Milliseconds every call waits before it is answered (for benchmarks of clients). */
  latencyMs: number;
  readonly strictProtocol: boolean;
  readonly production: boolean;
  readonly loanApiToken: string;
  readonly accessSecret: string;
  readonly log: (line: string) => void;

  readonly serviceKeys: { access: string; secret: string };
  readonly books: readonly FixtureBook[];
  readonly calls = new CallCounter();
  readonly outbox = new Outbox();
  otp: OtpDesk = this.newOtpDesk();

  private readonly patronsByEmail = new Map<string, FixturePatron>();
  private readonly patronsByItemname = new Map<string, FixturePatron>();
  private readonly patronsByAccess = new Map<string, FixturePatron>();
  private readonly booksById = new Map<string, FixtureBook>();

  private loans: Loan[] = [];
  private nextLoanId = 1;
  private waitlists = new Map<string, WaitlistEntry[]>();
  private history = new Map<string, HistoryEvent[]>();
  private tokens = new Map<string, { email: string; expires: number }>();
  private lastLoanAt = new Map<string, Date>();
  private lastWaitlistAt = new Map<string, Date>();

  constructor(fixture: ArchiveFixture, settings: ArchiveSettings) {
    this.serviceKeys = fixture.serviceKeys;
    this.strictProtocol = settings.strictProtocol;
    this.production = settings.production;
    this.latencyMs = settings.latencyMs;
    this.loanApiToken = settings.loanApiToken;
    this.accessSecret = settings.accessSecret;
    this.log = settings.log;
    for (const patron of fixture.patrons) {
      this.patronsByEmail.set(patron.email.toLowerCase(), patron);
      this.patronsByItemname.set(patron.itemname, patron);
      this.patronsByAccess.set(patron.s3.access, patron);
    }
    this.books = fixture.books;
    for (const book of fixture.books) this.booksById.set(book.identifier, book);
  }

  private newOtpDesk(): OtpDesk {
    return new OtpDesk(() => this.now().getTime());
  }

  reset(): void {
    this.loans = [];
    this.nextLoanId = 1;
    this.waitlists = new Map();
    this.history = new Map();
    this.tokens = new Map();
    this.lastLoanAt = new Map();
    this.lastWaitlistAt = new Map();
    this.otp = this.newOtpDesk();
    this.outbox.clear();
    this.calls.reset();
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

  /** True for Lending's own service keys. */
  isServiceKeys(access: string, secret: string): boolean {
    const accessOk = sameSecret(access, this.serviceKeys.access);
    return sameSecret(secret, this.serviceKeys.secret) && accessOk;
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

  /** Active loans, filtered by patron and/or book. */
  findLoans(filter: { email?: string; identifier?: string }): Loan[] {
    this.expireLoans();
    return this.loans.filter(
      (loan) =>
        (filter.email === undefined || loan.email === filter.email) &&
        (filter.identifier === undefined || loan.identifier === filter.identifier),
    );
  }

  waitlist(identifier: string): readonly WaitlistEntry[] {
    return this.waitlists.get(identifier) ?? [];
  }

  /** Every waitlist `email` is on, with its position (1 = next), or every entry of one book's waitlist. */
  findWaiting(filter: {
    email?: string;
    identifier?: string;
  }): { identifier: string; entry: WaitlistEntry; position: number }[] {
    this.expireLoans();
    const found: { identifier: string; entry: WaitlistEntry; position: number }[] = [];
    for (const [identifier, entries] of this.waitlists) {
      if (filter.identifier !== undefined && identifier !== filter.identifier) continue;
      entries.forEach((entry, index) => {
        if (filter.email === undefined || entry.email === filter.email) {
          found.push({ identifier, entry, position: index + 1 });
        }
      });
    }
    return found;
  }

  /** Copies free for this patron: a free copy is held for whoever is ahead of them on the waitlist. */
  freeFor(book: FixtureBook, email: string | null): number {
    const onLoan = this.loans.filter((loan) => loan.identifier === book.identifier).length;
    const waitlist = this.waitlist(book.identifier);
    const position = email === null ? -1 : waitlist.findIndex((entry) => entry.email === email);
    const ahead = position === -1 ? waitlist.length : position;
    return book.copies - onLoan - ahead;
  }

  /** The patron may borrow this book at all: lendable to everyone, or print-disabled-only and they have access. */
  private mayBorrow(book: FixtureBook, patron: FixturePatron | null): boolean {
    return isLendable(book) || (isPrintDisabled(book) && patron !== null && patron.hasDisabilityAccess);
  }

  status(identifier: string, patron: FixturePatron | null): LendingStatus {
    const book = this.requireBook(identifier);
    this.expireLoans();
    const email = patron?.email ?? null;
    const onLoan = this.loans.filter((loan) => loan.identifier === identifier).length;
    const waitlist = this.waitlist(identifier);
    const allowed = this.mayBorrow(book, patron);
    const free = allowed && this.freeFor(book, email) > 0;
    const status: LendingStatus = {
      is_lendable: isLendable(book),
      is_printdisabled: isPrintDisabled(book),
      available_to_borrow: free,
      available_to_browse: free,
      available_to_waitlist: allowed && !free,
      copies: book.copies,
      available_copies: book.copies - onLoan,
      users_on_waitlist: waitlist.length,
    };
    if (email !== null) {
      const loan = this.loans.find((l) => l.email === email && l.identifier === identifier);
      const onWaitlist = waitlist.some((entry) => entry.email === email);
      status.user_has_borrowed = loan?.type === 'borrow';
      status.user_has_browsed = loan?.type === 'browse';
      status.user_on_waitlist = onWaitlist;
      status.available_to_waitlist = allowed && !free && !loan && !onWaitlist;
    }
    return status;
  }

  /** When the book was last lent and last waited for (availability v2's last_loan_date, last_waitlist_date). */
  lastActivity(identifier: string): { loan: Date | null; waitlist: Date | null } {
    return {
      loan: this.lastLoanAt.get(identifier) ?? null,
      waitlist: this.lastWaitlistAt.get(identifier) ?? null,
    };
  }

  borrow(patron: FixturePatron, identifier: string, type: LoanType): Loan {
    const book = this.requireBook(identifier);
    const email = patron.email;
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
    if (!this.mayBorrow(book, patron)) throw new LoanError(400, 'print_disabled_only');
    if (mine.length >= LOAN_LIMIT) throw new LoanError(400, 'loan_limit_reached');
    if (this.freeFor(book, email) <= 0) throw new LoanError(409, 'no_copies_available');
    const loan: Loan = {
      id: this.nextLoanId++,
      identifier,
      email,
      type,
      created: now,
      until: new Date(now.getTime() + (type === 'borrow' ? BORROW_MS : BROWSE_MS)),
    };
    this.loans.push(loan);
    this.lastLoanAt.set(identifier, now);
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

  joinWaitlist(patron: FixturePatron, identifier: string): void {
    const book = this.requireBook(identifier);
    const email = patron.email;
    const waitlist = this.waitlist(identifier);
    if (waitlist.some((entry) => entry.email === email)) return;
    if (!this.mayBorrow(book, patron)) throw new LoanError(400, 'print_disabled_only');
    if (this.activeLoans(email).some((loan) => loan.identifier === identifier)) {
      throw new LoanError(400, 'already_borrowed');
    }
    if (this.freeFor(book, email) > 0) throw new LoanError(400, 'available_now');
    const now = this.now();
    this.waitlists.set(identifier, [...waitlist, { email, since: now }]);
    this.lastWaitlistAt.set(identifier, now);
    this.record(email, identifier, 'join_waitlist');
  }

  leaveWaitlist(email: string, identifier: string): void {
    this.requireBook(identifier);
    if (this.removeFromWaitlist(identifier, email)) this.record(email, identifier, 'leave_waitlist');
  }

  private removeFromWaitlist(identifier: string, email: string): boolean {
    const waitlist = this.waitlist(identifier);
    if (!waitlist.some((entry) => entry.email === email)) return false;
    this.waitlists.set(
      identifier,
      waitlist.filter((entry) => entry.email !== email),
    );
    return true;
  }

  /** The patron's history, newest first unless `oldestFirst`. */
  historyOf(email: string, limit: number, offset: number, oldestFirst = false): HistoryEvent[] {
    this.expireLoans();
    // Expiries are noticed late but dated when they happened: order by date, then by arrival.
    const events = (this.history.get(email) ?? []).map((event, index) => ({ event, index }));
    events.sort((a, b) => b.event.at.getTime() - a.event.at.getTime() || b.index - a.index);
    if (oldestFirst) events.reverse();
    return events.slice(offset, offset + limit).map(({ event }) => event);
  }
}
