// ArchiveClient: the archive.org services the account code uses, one method per call. xauthn (with our service
// keys), s3auth and the patron loans API (with the patron's S3 keys), advancedsearch (the catalogue). Every call
// has a timeout and every answer is validated (transport.ts); failures are AppErrors with a stable code.
import { isIP } from 'node:net';
import type { z } from 'zod';
import { AppError } from '../errors';
import type { S3Keys } from '../types';
import type {
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
import { ConcurrencyGate, DEFAULT_GATE_LIMITS, SingleFlight, TtlCache } from './gate';
import type { CallBudget, GateLimits } from './gate';
import { issueOtpSchema, otpRateLimited, otpUnexpectedStatus, redeemOtpSchema, redeemRefusal } from './otp';
import type { RedeemOtpResult } from './otp';
import { ArchiveTransport, errorCodeOf, unavailable } from './transport';
import type { ArchiveObserver } from './transport';
import type { RawAnswer } from './transport';
import {
  authenticateSchema,
  availabilityV2Schema,
  docSchema,
  historySchema,
  infoSchema,
  issueKeySchema,
  lendingStatusSchema,
  loanQuerySchema,
  s3authSchema,
  s3KeysSchema,
  searchSchema,
  waitlistQuerySchema,
} from './wire-schemas';

/** The X-Originating-IP header OL sends with the OTP calls, when the patron's address is an IP address. */
function originatingIp(ip: string | null): Record<string, string> {
  return ip !== null && isIP(ip) !== 0 ? { 'x-originating-ip': ip } : {};
}

/** Where each archive.org service lives; Open Library configures each separately (core/lending.py setup()). */
export interface ArchiveEndpoints {
  /** xauthn (`ia_xauth_api_url`). */
  xauthn: string;
  /** s3auth (`ia_s3_auth_url`). */
  s3auth: string;
  /** The patron loan API (`ia_s3_loan_url`): borrow, return, waitlist, history. */
  loans: string;
  /** The internal lending API (`ia_loan_api_url`): loan.query, waitinglist.query. */
  lendingApi: string;
  /** Availability v2 (`ia_availability_api_v2_url`). */
  availability: string;
  /** advancedsearch. */
  search: string;
  /** The BookReader host's origin (`bookreader_host`). */
  bookreader: string;
}

/** The stand-in's (and archive.org's) paths under one base URL. */
export function defaultEndpoints(baseUrl: string): ArchiveEndpoints {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    xauthn: `${base}/services/xauthn/`,
    s3auth: `${base}/services/s3auth/`,
    loans: `${base}/services/loans/loan/`,
    lendingApi: `${base}/services/openlibrary.php`,
    availability: `${base}/services/availability/`,
    search: `${base}/advancedsearch.php`,
    bookreader: base,
  };
}

export interface ArchiveClientOptions {
  /** e.g. https://archive.org, or the stand-in's http://127.0.0.1:3001 (a path prefix is kept). */
  baseUrl: string;
  /** Each service's own URL; those not given derive from baseUrl. */
  endpoints?: Partial<ArchiveEndpoints>;
  /** Our own service keys for xauthn and availability (ARCHIVE_SERVICE_ACCESS / ARCHIVE_SERVICE_SECRET). */
  serviceAccess: string;
  serviceSecret: string;
  /** The internal lending API's token (Open Library's `ia_ol_shared_key`; ARCHIVE_LOAN_API_TOKEN). */
  loanApiToken?: string;
  /** Per call, whole answer included; default 5000. */
  timeoutMs?: number;
  /** Calls in flight, queue length and queue wait (gate.ts). */
  limits?: Partial<GateLimits>;
  /** How long a catalogue page and a book's availability are reused; default 30 s and 20 s (0: not cached). */
  catalogueTtlMs?: number;
  availabilityTtlMs?: number;
  fetch?: typeof fetch;
  /** Told of every exchange's endpoint, outcome and duration (for metrics). */
  observer?: ArchiveObserver;
  now?: () => number;
}

/**
 * The catalogue: lendable books (`inlibrary`) and those lent only to print-disabled patrons (`printdisabled`
 * outside `inlibrary`), which books.list marks and offers only to patrons with print-disabled access.
 */
export const CATALOGUE_QUERY = 'collection:(inlibrary OR printdisabled)';

const MAX_SEARCH_WORDS = 8;
/** A page's identifiers go in one availability call (archive.org takes up to 500; pages hold at most 100). */
const AVAILABILITY_BATCH = 100;
/** A loan this short is a browse (1 hour); borrows are 14 days. */
const BROWSE_MAX_MS = 24 * 60 * 60 * 1000;

/** The words of a patron's search, as advancedsearch terms: letters and digits only, nothing it could misread. */
export function searchWords(query: string): string[] {
  return query
    .normalize('NFKC')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0)
    .slice(0, MAX_SEARCH_WORDS);
}

function httpUrl(value: string, name: string): string {
  const url = new URL(value); // throws on a malformed configuration value
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`ArchiveClient ${name} must be an http(s) URL`);
  }
  return `${url.origin}${url.pathname}`;
}

export class ArchiveClient {
  private readonly transport: ArchiveTransport;
  private readonly serviceKeys: { access: string; secret: string };
  private readonly loanApiToken: string | undefined;
  readonly endpoints: ArchiveEndpoints;
  readonly gate: ConcurrencyGate;
  private readonly pages: TtlCache<CataloguePage>;
  private readonly pageFlights = new SingleFlight<CataloguePage>();
  private readonly statuses: TtlCache<BookAvailability>;
  private readonly statusFlights = new Map<string, Promise<Map<string, BookAvailability>>>();
  /** Loan actions so far: an availability answer asked before one is not cached (one count for every view). */
  private readonly loanActions = { count: 0 };
  private readonly titles: TtlCache<string>;
  private readonly loanFlights = new SingleFlight<ActiveLoan[]>();
  private readonly waitFlights = new SingleFlight<string[]>();

  constructor(options: ArchiveClientOptions) {
    const base = httpUrl(options.baseUrl, 'baseUrl');
    const endpoints = { ...defaultEndpoints(base), ...options.endpoints };
    this.endpoints = Object.fromEntries(
      Object.entries(endpoints).map(([name, url]) => [name, httpUrl(url, name)]),
    ) as unknown as ArchiveEndpoints;
    this.endpoints.bookreader = this.endpoints.bookreader.replace(/\/+$/, '');
    this.gate = new ConcurrencyGate({ ...DEFAULT_GATE_LIMITS, ...options.limits });
    this.transport = new ArchiveTransport(
      options.timeoutMs ?? 5000,
      options.fetch ?? fetch,
      this.gate,
      options.observer,
    );
    this.serviceKeys = { access: options.serviceAccess, secret: options.serviceSecret };
    this.loanApiToken = options.loanApiToken;
    const now = options.now ?? Date.now;
    this.pages = new TtlCache(options.catalogueTtlMs ?? 30_000, 500, now);
    this.statuses = new TtlCache(options.availabilityTtlMs ?? 20_000, 20_000, now);
    this.titles = new TtlCache(60 * 60_000, 20_000, now);
  }

  /**
   * This client as one request uses it: the same gate, caches, single-flights and counters (every field but the
   * transport is the client's own, through the prototype), with every call it makes spending `budget`.
   */
  withBudget(budget: CallBudget): this {
    const view = Object.create(this) as this;
    Object.defineProperty(view, 'transport', { value: this.transport.withBudget(budget) });
    return view;
  }

  // xauthn: the patron's archive.org account, asked with our service keys.

  private async xauthn<T>(op: string, body: Record<string, unknown>, schema: z.ZodType<T>): Promise<T> {
    return this.transport.parse(`xauthn ${op}`, await this.xauthnRaw(op, body), schema);
  }

  /** One xauthn call, its answer unread (but for our service keys refused); `headers` add to the JSON ones. */
  private async xauthnRaw(
    op: string,
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): Promise<RawAnswer> {
    const what = `xauthn ${op}`;
    const answer = await this.transport.send(what, this.endpoints.xauthn, new URLSearchParams({ op }), {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ ...body, access: this.serviceKeys.access, secret: this.serviceKeys.secret }),
    });
    if (answer.status === 403) {
      throw new AppError(
        'archive_misconfigured',
        `${what}: archive.org refused our service keys (HTTP 403): check ARCHIVE_SERVICE_ACCESS and ARCHIVE_SERVICE_SECRET`,
      );
    }
    return answer;
  }

  /** xauthn authenticate; the email is trimmed and lower-cased as Open Library does. */
  async authenticate(email: string, password: string): Promise<XauthnResponse> {
    const answer = await this.xauthn(
      'authenticate',
      { email: String(email).trim().toLowerCase(), password: String(password) },
      authenticateSchema,
    );
    if (!answer.success) return { success: false, values: { reason: answer.values.reason } };
    const values: XauthnValues = {};
    for (const [key, value] of Object.entries(answer.values)) {
      if (value !== undefined) Object.assign(values, { [key]: value });
    }
    return { success: true, values };
  }

  /** xauthn info; null when archive.org does not know the account. */
  async info(query: { email: string } | { itemname: string }): Promise<IaAccountInfo | null> {
    const body =
      'email' in query ? { email: String(query.email).trim().toLowerCase() } : { itemname: query.itemname };
    const answer = await this.xauthn('info', body, infoSchema);
    if (!answer.success) return null;
    const values = answer.values;
    return {
      email: values.email,
      itemname: values.itemname,
      screenname: values.screenname,
      verified: values.verified,
      locked: values.locked,
      hasDisabilityAccess: values.has_disability_access ?? false,
    };
  }

  /** xauthn issue_key: the patron's S3 keys for the token of a preceding authenticate; null when refused. */
  async issueKey(query: { email?: string; itemname?: string; token?: string }): Promise<S3Keys | null> {
    const body: Record<string, string> = { key_type: 's3' };
    if (query.email !== undefined) body.email = String(query.email).trim().toLowerCase();
    if (query.itemname !== undefined) body.itemname = String(query.itemname);
    // archive.org reads `issuer_token` (OL #13086); the old name `token` is refused.
    if (query.token !== undefined) body.issuer_token = String(query.token);
    const answer = await this.xauthn('issue_key', body, issueKeySchema);
    return answer.success ? { access: answer.s3.access, secret: answer.s3.secret } : null;
  }

  /**
   * xauthn issue_otp: archive.org emails the patron a one-time code. It answers alike for known and unknown
   * emails. `ip` is the patron's address (X-Originating-IP), by which archive.org limits codes too.
   */
  async issueOtp(email: string, ip: string | null): Promise<void> {
    const op = 'issue_otp';
    const answer = await this.xauthnRaw(
      op,
      { email: String(email).trim().toLowerCase(), service: 'ol' },
      originatingIp(ip),
    );
    const refused = otpRateLimited(op, answer) ?? otpUnexpectedStatus(op, answer);
    if (refused) throw refused;
    const result = this.transport.parse(`xauthn ${op}`, answer, issueOtpSchema);
    if (!result.success) {
      const reason = /^[a-z_]{1,64}$/.test(result.error ?? '') ? result.error : 'no error code';
      throw unavailable(`xauthn ${op}: refused (${reason})`);
    }
  }

  /** xauthn redeem_otp: the code (sent as `password`, as OL does) for a token, or archive.org's reason. */
  async redeemOtp(email: string, code: string, ip: string | null): Promise<RedeemOtpResult> {
    const op = 'redeem_otp';
    const answer = await this.xauthnRaw(
      op,
      { email: String(email).trim().toLowerCase(), password: String(code) },
      originatingIp(ip),
    );
    const refused = otpRateLimited(op, answer) ?? otpUnexpectedStatus(op, answer);
    if (refused) throw refused;
    const result = this.transport.parse(`xauthn ${op}`, answer, redeemOtpSchema);
    if (!result.success) return { success: false, reason: redeemRefusal(result) };
    const { email: answered, token, s3 } = result.values;
    return { success: true, email: answered ?? null, token: token ?? null, s3Keys: s3 ?? null };
  }

  // s3auth: whose S3 keys these are.

  /** Checks patron keys; `email` is archive.org's `username`, which is the email. */
  async s3auth(s3Keys: S3Keys): Promise<{
    authorized: boolean;
    email: string | null;
    itemname: string | null;
    screenname: string | null;
  }> {
    const refused = { authorized: false, email: null, itemname: null, screenname: null };
    if (!s3KeysSchema.safeParse(s3Keys).success) return refused;
    const answer = await this.transport.send('s3auth', this.endpoints.s3auth, new URLSearchParams(), {
      method: 'GET',
      headers: { accept: 'application/json', authorization: `LOW ${s3Keys.access}:${s3Keys.secret}` },
    });
    if (answer.status === 400 || answer.status === 401 || answer.status === 403) return refused;
    if (answer.status !== 200) throw unavailable(`s3auth: unexpected HTTP ${answer.status}`);
    const result = this.transport.parse('s3auth', answer, s3authSchema);
    if (!result.authorized) return refused;
    return {
      authorized: true,
      email: result.username,
      itemname: result.itemname ?? null,
      screenname: result.screenname ?? null,
    };
  }

  // The patron loan API: one endpoint, an `action` per operation, the patron's keys as form fields.

  /** The raw answer of a loans action; 401/403 (keys) and 404 are judged here, the rest by the caller. */
  private async loansCall(
    action: string,
    identifier: string | null,
    s3Keys: S3Keys | null,
    extra: Record<string, string>,
  ): Promise<RawAnswer & { what: string }> {
    if (s3Keys && !s3KeysSchema.safeParse(s3Keys).success) {
      throw new AppError('invalid_s3keys', `loans ${action}: malformed keys, not sent`);
    }
    const what = `loans ${action}`;
    const query = new URLSearchParams();
    if (identifier !== null) {
      if (typeof identifier !== 'string' || identifier.length === 0 || identifier.length > 256) {
        throw new AppError('not_found', `${what}: malformed identifier`);
      }
      query.set('identifier', identifier);
    }
    query.set('action', action);
    const form = new URLSearchParams(extra);
    if (s3Keys) {
      form.set('access', s3Keys.access);
      form.set('secret', s3Keys.secret);
    }
    const answer = await this.transport.send(what, this.endpoints.loans, query, {
      method: 'POST',
      headers: { accept: 'application/json' },
      body: form,
    });
    const refusal = () => `${what}: HTTP ${answer.status} ${errorCodeOf(answer.body)}`;
    if (answer.status === 403 && errorCodeOf(answer.body) === 'account_locked') {
      throw new AppError('account_locked', refusal());
    }
    if (answer.status === 401 || answer.status === 403) throw new AppError('invalid_s3keys', refusal());
    if (answer.status === 404) throw new AppError('not_found', refusal());
    return { ...answer, what };
  }

  /** A loans action that answers JSON: 2xx parsed against `schema`, any other status an outage. */
  private async loans<T>(
    action: string,
    identifier: string | null,
    s3Keys: S3Keys | null,
    extra: Record<string, string>,
    schema: z.ZodType<T>,
  ): Promise<T> {
    const answer = await this.loansCall(action, identifier, s3Keys, extra);
    if (answer.status < 200 || answer.status > 299)
      throw unavailable(`${answer.what}: unexpected HTTP ${answer.status}`);
    return this.transport.parse(answer.what, answer, schema);
  }

  /**
   * borrow_book, browse_book, return_loan, join_waitlist, leave_waitlist, judged as Open Library's s3_loan_api
   * judges them: 400 or 409 the patron may not (the code says why when the answer tells: `lending_limit`,
   * `print_disabled_only`, else `item_locked`); 401/403 the keys; 404 no such book or loan; any other non-2xx an
   * outage; any 2xx success, whatever its body.
   */
  async loan(s3Keys: S3Keys, identifier: string, action: LoanAction): Promise<void> {
    try {
      const answer = await this.loansCall(action, identifier, s3Keys, {});
      if (answer.status === 400 || answer.status === 409) {
        const reason = errorCodeOf(answer.body);
        throw new AppError(refusalOf(reason), `${answer.what}: HTTP ${answer.status} ${reason}`);
      }
      if (answer.status < 200 || answer.status > 299) {
        throw unavailable(`${answer.what}: unexpected HTTP ${answer.status}`);
      }
    } finally {
      // Whatever happened, this book's availability may have changed: forget it, and neither join nor keep an
      // answer asked before now.
      this.forgetAvailability(identifier);
    }
  }

  /** user_borrow_history, newest first (`newest=True`, as Open Library asks). */
  async history(s3Keys: S3Keys, options: { limit: number; offset: number }): Promise<HistoryItem[]> {
    const { limit, offset } = options;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RangeError('limit must be 1..1000');
    if (!Number.isInteger(offset) || offset < 0) throw new RangeError('offset must be an integer >= 0');
    const answer = await this.loans(
      'user_borrow_history',
      null,
      s3Keys,
      { limit: String(limit), offset: String(offset), newest: 'True' },
      historySchema,
    );
    return answer.history.items.map((item) => ({
      identifier: item.identifier,
      title: item.title ?? null,
      action: item.action ?? 'unknown',
      updatedate: item.updatedate,
    }));
  }

  /** lending_status of one book (get_groundtruth_availability); with the patron's keys, what they hold too. */
  async availability(identifier: string, s3Keys?: S3Keys): Promise<LendingStatus> {
    const answer = await this.loans('availability', identifier, s3Keys ?? null, {}, lendingStatusSchema);
    const status: LendingStatus = { ...answer.lending_status };
    for (const key of [
      'is_printdisabled',
      'user_has_borrowed',
      'user_has_browsed',
      'user_on_waitlist',
    ] as const) {
      if (status[key] === undefined) delete status[key];
    }
    return status;
  }

  // The internal lending API: a patron's loans and waitlist, asked with Lending's shared token, no patron keys.

  private async lendingApi<T>(
    method: 'loan.query' | 'waitinglist.query',
    itemname: string,
    schema: z.ZodType<T>,
  ): Promise<T> {
    const what = `lending API ${method}`;
    if (!this.loanApiToken) {
      throw new AppError('archive_misconfigured', `${what}: no token configured (ARCHIVE_LOAN_API_TOKEN)`);
    }
    if (typeof itemname !== 'string' || itemname.length === 0 || itemname.length > 256) {
      throw new AppError('not_found', `${what}: malformed itemname`);
    }
    const answer = await this.transport.send(what, this.endpoints.lendingApi, new URLSearchParams(), {
      method: 'POST',
      headers: { accept: 'application/json' },
      body: new URLSearchParams({ method, token: this.loanApiToken, userid: itemname }),
    });
    if (answer.status === 401 || answer.status === 403) {
      throw new AppError(
        'archive_misconfigured',
        `${what}: archive.org refused our token (HTTP ${answer.status}): check ARCHIVE_LOAN_API_TOKEN`,
      );
    }
    if (answer.status !== 200) throw unavailable(`${what}: unexpected HTTP ${answer.status}`);
    return this.transport.parse(what, answer, schema);
  }

  /**
   * The patron's active loans (OL's get_loans_of_user: loan.query with userid = the itemname). Concurrent lookups
   * for one patron share a call; `fresh` (right after a loan action) starts its own, so it sees that action.
   */
  loansOf(itemname: string, options: { fresh?: boolean } = {}): Promise<ActiveLoan[]> {
    const query = async () => {
      const answer = await this.lendingApi('loan.query', itemname, loanQuerySchema);
      const loans = answer.result.map((loan): ActiveLoan => ({
        identifier: loan.identifier,
        id: loan.id === null || loan.id === undefined ? null : String(loan.id),
        title: this.titles.get(loan.identifier) ?? null,
        type: Date.parse(loan.until) - Date.parse(loan.created) <= BROWSE_MAX_MS ? 'browse' : 'borrow',
        created: loan.created,
        until: loan.until,
      }));
      const untitled = loans.filter((loan) => loan.title === null).map((loan) => loan.identifier);
      if (untitled.length > 0) {
        // One search for the titles the catalogue has not shown yet; the loans stand without them if it fails.
        const titles = await this.titlesOf(untitled).catch(() => new Map<string, string>());
        for (const loan of loans) loan.title ??= titles.get(loan.identifier) ?? null;
      }
      return loans;
    };
    return options.fresh ? query() : this.loanFlights.run(itemname, query);
  }

  /** The identifiers of the books the patron waits for (waitinglist.query). */
  waitlistOf(itemname: string): Promise<string[]> {
    return this.waitFlights.run(itemname, async () => {
      const answer = await this.lendingApi('waitinglist.query', itemname, waitlistQuerySchema);
      return answer.result.map((entry) => entry.identifier);
    });
  }

  // Availability v2: a whole page's books in one call, with our service keys, never a patron's.

  /**
   * Each identifier's availability: fresh answers from the cache, identifiers another request is already asking
   * joined, the rest in one call (`GET ?identifier=a,b,c&scope=printdisabled`, `Authorization: LOW <service
   * keys>`). An identifier archive.org does not know is left out of the map.
   */
  async availabilityOf(identifiers: readonly string[]): Promise<Map<string, BookAvailability>> {
    const found = new Map<string, BookAvailability>();
    const joined = new Set<Promise<Map<string, BookAvailability>>>();
    const missing: string[] = [];
    for (const identifier of new Set(identifiers)) {
      const cached = this.statuses.get(identifier);
      const flight = this.statusFlights.get(identifier);
      if (cached) found.set(identifier, cached);
      else if (flight) joined.add(flight);
      else missing.push(identifier);
    }
    const mine: Promise<Map<string, BookAvailability>>[] = [];
    for (let at = 0; at < missing.length; at += AVAILABILITY_BATCH) {
      const batch = missing.slice(at, at + AVAILABILITY_BATCH);
      const flight = this.fetchAvailability(batch).finally(() => {
        for (const identifier of batch) {
          if (this.statusFlights.get(identifier) === flight) this.statusFlights.delete(identifier);
        }
      });
      for (const identifier of batch) this.statusFlights.set(identifier, flight);
      mine.push(flight);
    }
    for (const answers of await Promise.all([...mine, ...joined])) {
      for (const identifier of identifiers) {
        const answer = answers.get(identifier);
        if (answer) found.set(identifier, answer);
      }
    }
    return found;
  }

  private async fetchAvailability(identifiers: string[]): Promise<Map<string, BookAvailability>> {
    const what = 'availability';
    const actionsBefore = this.loanActions.count;
    const query = new URLSearchParams({ identifier: identifiers.join(','), scope: 'printdisabled' });
    const answer = await this.transport.send(what, this.endpoints.availability, query, {
      method: 'GET',
      headers: {
        accept: 'application/json',
        authorization: `LOW ${this.serviceKeys.access}:${this.serviceKeys.secret}`,
      },
    });
    if (answer.status === 401 || answer.status === 403) {
      throw new AppError(
        'archive_misconfigured',
        `${what}: archive.org refused our service keys (HTTP ${answer.status}): check ARCHIVE_SERVICE_ACCESS and ARCHIVE_SERVICE_SECRET`,
      );
    }
    if (answer.status !== 200) throw unavailable(`${what}: unexpected HTTP ${answer.status}`);
    const result = this.transport.parse(what, answer, availabilityV2Schema);
    const map = new Map<string, BookAvailability>();
    for (const identifier of identifiers) {
      const raw = Object.hasOwn(result.responses, identifier) ? result.responses[identifier] : undefined;
      if (!raw || raw.status === 'error') continue;
      const waiting = Number(raw.num_waitlist ?? 0);
      const status: BookAvailability = {
        status: raw.status ?? 'unknown',
        isLendable: raw.is_lendable ?? false,
        isPrintDisabled: raw.is_printdisabled ?? false,
        availableToBorrow: raw.available_to_borrow ?? false,
        availableToBrowse: raw.available_to_browse ?? false,
        availableToWaitlist: raw.available_to_waitlist ?? false,
        waitlistLength: Number.isSafeInteger(waiting) && waiting >= 0 ? waiting : 0,
      };
      // An answer asked before a loan action of this server may be stale: served to this request, not kept.
      if (this.loanActions.count === actionsBefore) this.statuses.set(identifier, status);
      map.set(identifier, status);
    }
    return map;
  }

  /** Forgets what is cached about a book (after this server lent or returned it). */
  forgetAvailability(identifier: string): void {
    this.statuses.delete(identifier);
    this.statusFlights.delete(identifier);
    this.loanActions.count++;
  }

  // The catalogue (advancedsearch), asked without any keys.

  /**
   * One page of the catalogue (CATALOGUE_QUERY), sorted by title, optionally narrowed to books whose title or
   * author has words starting with each word of `query`. Cached briefly; identical concurrent
   * searches share one call.
   */
  searchCatalogue(options: { query?: string; page?: number; rows?: number } = {}): Promise<CataloguePage> {
    const rows = options.rows ?? 20;
    const page = options.page ?? 1;
    if (!Number.isInteger(rows) || rows < 0 || rows > 10_000) throw new RangeError('rows must be 0..10000');
    if (!Number.isInteger(page) || page < 1 || page > 100_000) throw new RangeError('page must be 1..100000');
    const words = searchWords(options.query ?? '');
    if ((options.query ?? '').trim() !== '' && words.length === 0) {
      return Promise.resolve({ books: [], total: 0 }); // nothing searchable (only punctuation or symbols)
    }
    const terms = words.map((word) => `(title:${word}* OR creator:${word}*)`);
    const q = [CATALOGUE_QUERY, ...terms].join(' AND ');
    const key = JSON.stringify([q, page, rows]);
    const cached = this.pages.get(key);
    if (cached) return Promise.resolve(cached);
    return this.pageFlights.run(key, async () => {
      const result = await this.search(q, { rows, page, sort: ['title asc', 'identifier asc'] });
      this.pages.set(key, result);
      return result;
    });
  }

  /** Titles of the given books (one search); those it cannot find are left out. */
  private async titlesOf(identifiers: string[]): Promise<Map<string, string>> {
    const ids = identifiers.filter((id) => /^[A-Za-z0-9._-]{1,100}$/.test(id)).slice(0, 100);
    const titles = new Map<string, string>();
    if (ids.length === 0) return titles;
    const { books } = await this.search(`identifier:(${ids.join(' OR ')})`, { rows: ids.length, page: 1 });
    for (const book of books) titles.set(book.identifier, book.title);
    return titles;
  }

  private async search(
    q: string,
    options: { rows: number; page: number; sort?: string[] },
  ): Promise<CataloguePage> {
    const query = new URLSearchParams({ q });
    for (const field of ['identifier', 'title', 'creator', 'year']) query.append('fl[]', field);
    for (const sort of options.sort ?? []) query.append('sort[]', sort);
    query.set('rows', String(options.rows));
    query.set('page', String(options.page));
    query.set('output', 'json');
    const answer = await this.transport.send('advancedsearch', this.endpoints.search, query, {
      method: 'GET',
      headers: { accept: 'application/json' },
    });
    if (answer.status !== 200) throw unavailable(`advancedsearch: unexpected HTTP ${answer.status}`);
    const result = this.transport.parse('advancedsearch', answer, searchSchema);
    const books: CatalogueBook[] = [];
    for (const raw of result.response.docs) {
      const doc = docSchema.safeParse(raw);
      if (!doc.success) continue;
      const { identifier, title, creator, year } = doc.data;
      const firstTitle = [title ?? []].flat()[0];
      const yearText = year === null || year === undefined ? '' : String(year).trim();
      const book: CatalogueBook = {
        identifier,
        title: firstTitle && firstTitle.length > 0 ? firstTitle : identifier,
        creator: [creator ?? []].flat().join('; '),
        year: /^-?\d{1,4}$/.test(yearText) ? Number(yearText) : null,
      };
      this.titles.set(identifier, book.title);
      books.push(book);
    }
    const total = Number.isSafeInteger(result.response.numFound) ? Math.max(0, result.response.numFound) : 0;
    return { books, total };
  }

  /** Books of the catalogue (CATALOGUE_QUERY), the first `rows` (advancedsearch); not cached. */
  async searchBooks(options: { rows?: number } = {}): Promise<CatalogueBook[]> {
    const rows = options.rows ?? 100;
    if (!Number.isInteger(rows) || rows < 0 || rows > 10_000) throw new RangeError('rows must be 0..10000');
    return (await this.search(CATALOGUE_QUERY, { rows, page: 1 })).books;
  }

  /** Throws AppError('archive_unavailable') when archive.org does not answer sensibly. */
  async ping(): Promise<void> {
    await this.searchBooks({ rows: 0 });
  }
}

/** The code of a loans refusal (400/409), from the answer's error code when it has one. */
function refusalOf(reason: string): LoanRefusal {
  if (reason === 'loan_limit_reached' || reason === 'lending_limit' || reason === 'loan_limit') {
    return 'lending_limit';
  }
  if (reason === 'print_disabled_only') return 'print_disabled_only';
  return 'item_locked';
}
