// ArchiveClient: the archive.org services the account code uses, one method per call. xauthn (with our service
// keys), s3auth and the patron loans API (with the patron's S3 keys), advancedsearch (the catalogue). Every call
// has a timeout and every answer is validated (transport.ts); failures are AppErrors with a stable code.
import { isIP } from 'node:net';
import type { z } from 'zod';
import { AppError } from '../errors';
import type { S3Keys } from '../types';
import type {
  ActiveLoan,
  CatalogueBook,
  HistoryItem,
  IaAccountInfo,
  LendingStatus,
  LoanAction,
  XauthnResponse,
  XauthnValues,
} from './results';
import { issueOtpSchema, otpRateLimited, otpUnexpectedStatus, redeemOtpSchema, redeemRefusal } from './otp';
import type { RedeemOtpResult } from './otp';
import { ArchiveTransport, errorCodeOf, unavailable } from './transport';
import type { RawAnswer } from './transport';
import {
  authenticateSchema,
  docSchema,
  historySchema,
  infoSchema,
  issueKeySchema,
  lendingStatusSchema,
  loanDoneSchema,
  loansSchema,
  s3authSchema,
  s3KeysSchema,
  searchSchema,
} from './wire-schemas';

/** The X-Originating-IP header OL sends with the OTP calls, when the patron's address is an IP address. */
function originatingIp(ip: string | null): Record<string, string> {
  return ip !== null && isIP(ip) !== 0 ? { 'x-originating-ip': ip } : {};
}

export interface ArchiveClientOptions {
  /** e.g. https://archive.org, or the stand-in's http://127.0.0.1:3001 (a path prefix is kept). */
  baseUrl: string;
  /** Our own service keys for xauthn (ARCHIVE_SERVICE_ACCESS / ARCHIVE_SERVICE_SECRET). */
  serviceAccess: string;
  serviceSecret: string;
  /** Per call, whole answer included; default 5000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class ArchiveClient {
  private readonly transport: ArchiveTransport;
  private readonly serviceKeys: { access: string; secret: string };

  constructor(options: ArchiveClientOptions) {
    const base = new URL(options.baseUrl); // throws on a malformed configuration value
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new TypeError('ArchiveClient baseUrl must be an http(s) URL');
    }
    this.transport = new ArchiveTransport(
      `${base.origin}${base.pathname.replace(/\/+$/, '')}`,
      options.timeoutMs ?? 5000,
      options.fetch ?? fetch,
    );
    this.serviceKeys = { access: options.serviceAccess, secret: options.serviceSecret };
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
    const answer = await this.transport.send(what, '/services/xauthn/', new URLSearchParams({ op }), {
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
    // `issuer_token` since OL #13086 (`token` before).
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
    const answer = await this.transport.send('s3auth', '/services/s3auth/', new URLSearchParams(), {
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

  // The loans API: one endpoint, an `action` per operation, the patron's keys as form fields.

  private async loans<T>(
    action: string,
    identifier: string | null,
    s3Keys: S3Keys | null,
    extra: Record<string, string>,
    schema: z.ZodType<T>,
  ): Promise<T> {
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
    const answer = await this.transport.send(what, '/services/loans/loan/', query, {
      method: 'POST',
      headers: { accept: 'application/json' },
      body: form,
    });
    const refusal = () => `${what}: HTTP ${answer.status} ${errorCodeOf(answer.body)}`;
    switch (answer.status) {
      case 400:
      case 409:
        // A book lent only to print-disabled patrons, refused to one without that access: say so.
        if (errorCodeOf(answer.body) === 'print_disabled_only')
          throw new AppError('print_disabled_only', refusal());
        throw new AppError('lending_limit', refusal());
      case 401:
      case 403:
        throw new AppError('invalid_s3keys', refusal());
      case 404:
        throw new AppError('not_found', refusal());
    }
    if (answer.status < 200 || answer.status > 299)
      throw unavailable(`${what}: unexpected HTTP ${answer.status}`);
    return this.transport.parse(what, answer, schema);
  }

  /** borrow_book, browse_book, return_loan, join_waitlist, leave_waitlist. */
  async loan(s3Keys: S3Keys, identifier: string, action: LoanAction): Promise<void> {
    await this.loans(action, identifier, s3Keys, {}, loanDoneSchema);
  }

  /** user_borrow_history, newest first. */
  async history(s3Keys: S3Keys, options: { limit: number; offset: number }): Promise<HistoryItem[]> {
    const { limit, offset } = options;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RangeError('limit must be 1..1000');
    if (!Number.isInteger(offset) || offset < 0) throw new RangeError('offset must be an integer >= 0');
    const answer = await this.loans(
      'user_borrow_history',
      null,
      s3Keys,
      { limit: String(limit), offset: String(offset), newest: 'true' },
      historySchema,
    );
    return answer.history.items.map((item) => ({
      identifier: item.identifier,
      title: item.title ?? null,
      action: item.action ?? 'unknown',
      updatedate: item.updatedate,
    }));
  }

  /** The patron's active loans (the stand-in's user_loans; IA's internal loan.query). */
  async userLoans(s3Keys: S3Keys): Promise<ActiveLoan[]> {
    const answer = await this.loans('user_loans', null, s3Keys, {}, loansSchema);
    return answer.loans.map((loan) => ({ ...loan, title: loan.title ?? null }));
  }

  /** lending_status of a book; with the patron's keys it also says what this patron holds. */
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

  // The catalogue (advancedsearch), asked without any keys.

  /** Books of the `inlibrary` collection (advancedsearch); docs without an identifier are skipped. */
  async searchBooks(options: { rows?: number } = {}): Promise<CatalogueBook[]> {
    const rows = options.rows ?? 100;
    if (!Number.isInteger(rows) || rows < 0 || rows > 10_000) throw new RangeError('rows must be 0..10000');
    // Lendable books, and those lent only to print-disabled patrons (`printdisabled` outside `inlibrary`).
    const query = new URLSearchParams({ q: 'collection:(inlibrary OR printdisabled)' });
    for (const field of ['identifier', 'title', 'creator', 'year']) query.append('fl[]', field);
    query.set('rows', String(rows));
    query.set('output', 'json');
    const answer = await this.transport.send('advancedsearch', '/advancedsearch.php', query, {
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
      books.push({
        identifier,
        title: firstTitle && firstTitle.length > 0 ? firstTitle : identifier,
        creator: [creator ?? []].flat().join('; '),
        year: /^-?\d{1,4}$/.test(yearText) ? Number(yearText) : null,
      });
    }
    return books;
  }

  /** Throws AppError('archive_unavailable') when archive.org does not answer sensibly. */
  async ping(): Promise<void> {
    await this.searchBooks({ rows: 0 });
  }
}
