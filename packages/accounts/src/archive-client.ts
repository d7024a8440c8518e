// HTTP client for the archive.org services the account code uses (reference §3, §7): xauthn, s3auth, the
// patron loans API and advancedsearch. Every call has a timeout; every answer is validated; failures map to
// the stable codes of DESIGN.md. Keys travel only in bodies and headers, never in URLs, logs or messages.
import { z } from 'zod';
import { AppError, ArchiveConfigError } from './errors';
import { isStorableString } from './store/records';
import type { S3Keys } from './types';

export interface ArchiveClientOptions {
  /** e.g. https://archive.org, or the stand-in's http://127.0.0.1:3001 (a path prefix is kept). */
  baseUrl: string;
  /** Our own service keys for xauthn. */
  serviceAccess: string;
  serviceSecret: string;
  /** Per call, whole answer included; default 5000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

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

/** A string the account store can keep as it is: bounded, no NUL, no lone surrogate. */
const text = (max: number) => z.string().max(max).refine(isStorableString);
/** archive.org sometimes sends null for an absent field. */
const optionalText = (max: number) =>
  text(max)
    .nullish()
    .transform((value) => value ?? undefined);

const authenticateSchema = z.union([
  z.object({
    success: z.literal(true),
    values: z.object({
      token: optionalText(4096),
      email: optionalText(320),
      screenname: optionalText(256),
      itemname: optionalText(256),
      verified: z
        .boolean()
        .nullish()
        .transform((v) => v ?? undefined),
      locked: z
        .boolean()
        .nullish()
        .transform((v) => v ?? undefined),
      access: optionalText(256),
      secret: optionalText(256),
    }),
  }),
  z.object({ success: z.literal(false), values: z.object({ reason: z.string().max(256) }) }),
]);

const infoSchema = z.union([
  z.object({
    success: z.literal(true),
    values: z.object({
      email: text(320),
      itemname: text(256).min(1),
      screenname: text(256),
      verified: z.boolean(),
      locked: z.boolean(),
      has_disability_access: z.boolean().nullish(),
    }),
  }),
  z.object({ success: z.literal(false) }),
]);

const issueKeySchema = z.union([
  z.object({
    success: z.literal(true),
    s3: z.object({ access: text(256).min(1), secret: text(256).min(1) }),
  }),
  z.object({ success: z.literal(false) }),
]);

const s3authSchema = z.union([
  z.object({
    authorized: z.literal(true),
    username: text(320).min(1),
    itemname: optionalText(256),
    screenname: optionalText(256),
  }),
  z.object({ authorized: z.literal(false) }),
]);

const historySchema = z.object({
  history: z.object({
    items: z.array(
      z.object({
        identifier: z.string(),
        title: z.string().nullish(),
        action: z.string().nullish(),
        updatedate: z.string(),
      }),
    ),
  }),
});

const loansSchema = z.object({
  loans: z.array(
    z.object({
      identifier: z.string(),
      title: z.string().nullish(),
      type: z.enum(['borrow', 'browse']),
      created: z.string(),
      until: z.string(),
    }),
  ),
});

const count = z.number().int().nonnegative().default(0);
const lendingStatusSchema = z.object({
  lending_status: z.object({
    is_lendable: z.boolean(),
    available_to_borrow: z.boolean(),
    available_to_browse: z.boolean(),
    available_to_waitlist: z.boolean(),
    copies: count,
    available_copies: count,
    users_on_waitlist: count,
    user_has_borrowed: z.boolean().optional(),
    user_has_browsed: z.boolean().optional(),
    user_on_waitlist: z.boolean().optional(),
  }),
});

const searchSchema = z.object({
  response: z.object({ numFound: z.number(), docs: z.array(z.unknown()) }),
});
const oneOrMany = z.union([z.string(), z.array(z.string())]);
const docSchema = z.object({
  identifier: z.string().min(1),
  title: oneOrMany.optional(),
  creator: oneOrMany.optional(),
  year: z.union([z.number(), z.string()]).nullish(),
});

const jsonObject = z.record(z.string(), z.unknown());
/** A loans action that went through answers `{success: true, ...}`. */
const loanDoneSchema = z.looseObject({ success: z.literal(true) });

/** Access keys never hold ':' (it separates them in `LOW access:secret`); both are printable ASCII. */
export const keysSchema = z.object({
  access: z.string().regex(/^[\x21-\x39\x3b-\x7e]{1,256}$/),
  secret: z.string().regex(/^[\x21-\x7e]{1,256}$/),
});

const UNAVAILABLE_MESSAGE = 'archive.org is not answering right now; please try again in a few minutes';

function unavailable(detail: string): AppError {
  return new AppError('archive_unavailable', UNAVAILABLE_MESSAGE, detail);
}

/** A server's error code, if it looks like one; anything else could carry data we must not log. */
function errorCode(body: string): string {
  try {
    const parsed = jsonObject.safeParse(JSON.parse(body));
    const code = parsed.success ? parsed.data.error : undefined;
    return typeof code === 'string' && /^[a-z_]{1,64}$/.test(code) ? code : 'no error code';
  } catch {
    return 'no error code';
  }
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError')
      return `timed out after ${timeoutMs} ms`;
    const code = (error.cause as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string') return `connection failed (${code})`;
    return `connection failed (${error.name})`;
  }
  return 'connection failed';
}

interface RawAnswer {
  status: number;
  body: string;
}

export class ArchiveClient {
  private readonly baseUrl: string;
  private readonly serviceAccess: string;
  private readonly serviceSecret: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ArchiveClientOptions) {
    const base = new URL(options.baseUrl); // throws on a malformed configuration value
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new TypeError('ArchiveClient baseUrl must be an http(s) URL');
    }
    this.baseUrl = `${base.origin}${base.pathname.replace(/\/+$/, '')}`;
    this.serviceAccess = options.serviceAccess;
    this.serviceSecret = options.serviceSecret;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.fetchImpl = options.fetch ?? fetch;
  }

  // --- transport --------------------------------------------------------------------------------------------

  /** One request; the timeout covers the whole answer. 5xx, redirects and transport failures are outages. */
  private async send(
    what: string,
    path: string,
    query: URLSearchParams,
    init: RequestInit,
  ): Promise<RawAnswer> {
    const search = query.toString();
    const url = `${this.baseUrl}${path}${search ? `?${search}` : ''}`;
    let response: Response;
    let body: string;
    try {
      response = await this.fetchImpl(url, {
        ...init,
        // A redirect could carry the keys in the body to another host: never follow one.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      body = await response.text();
    } catch (error) {
      throw unavailable(`${what}: ${describeFetchError(error, this.timeoutMs)}`);
    }
    if (response.status >= 500) throw unavailable(`${what}: HTTP ${response.status}`);
    if (response.status >= 300 && response.status < 400) {
      throw unavailable(`${what}: unexpected redirect (HTTP ${response.status})`);
    }
    return { status: response.status, body };
  }

  private parse<T>(what: string, answer: RawAnswer, schema: z.ZodType<T>): T {
    let json: unknown;
    try {
      json = JSON.parse(answer.body);
    } catch {
      throw unavailable(`${what}: answer is not JSON (HTTP ${answer.status})`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const paths = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)');
      throw unavailable(`${what}: unexpected answer shape at ${[...new Set(paths)].slice(0, 5).join(', ')}`);
    }
    return parsed.data;
  }

  private checkKeys(keys: S3Keys): void {
    if (!keysSchema.safeParse(keys).success) {
      throw new AppError(
        'invalid_s3keys',
        'These archive.org keys are not valid; please log in again',
        'malformed keys',
      );
    }
  }

  // --- xauthn -----------------------------------------------------------------------------------------------

  private async xauthn<T>(op: string, body: Record<string, unknown>, schema: z.ZodType<T>): Promise<T> {
    const what = `xauthn ${op}`;
    const answer = await this.send(what, '/services/xauthn/', new URLSearchParams({ op }), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ ...body, access: this.serviceAccess, secret: this.serviceSecret }),
    });
    if (answer.status === 403) {
      throw new ArchiveConfigError(
        'archive.org refused our service keys (xauthn answered 403): check ARCHIVE_SERVICE_ACCESS and ARCHIVE_SERVICE_SECRET',
      );
    }
    return this.parse(what, answer, schema);
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
    if (query.token !== undefined) body.token = String(query.token);
    const answer = await this.xauthn('issue_key', body, issueKeySchema);
    return answer.success ? { access: answer.s3.access, secret: answer.s3.secret } : null;
  }

  // --- s3auth -----------------------------------------------------------------------------------------------

  /** Checks patron keys; `email` is archive.org's `username`, which is the email. */
  async s3auth(keys: S3Keys): Promise<{
    authorized: boolean;
    email: string | null;
    itemname: string | null;
    screenname: string | null;
  }> {
    const refused = { authorized: false, email: null, itemname: null, screenname: null };
    if (!keysSchema.safeParse(keys).success) return refused;
    const answer = await this.send('s3auth', '/services/s3auth/', new URLSearchParams(), {
      method: 'GET',
      headers: { accept: 'application/json', authorization: `LOW ${keys.access}:${keys.secret}` },
    });
    if (answer.status === 400 || answer.status === 401 || answer.status === 403) return refused;
    if (answer.status !== 200) throw unavailable(`s3auth: unexpected HTTP ${answer.status}`);
    const result = this.parse('s3auth', answer, s3authSchema);
    if (!result.authorized) return refused;
    return {
      authorized: true,
      email: result.username,
      itemname: result.itemname ?? null,
      screenname: result.screenname ?? null,
    };
  }

  // --- loans API --------------------------------------------------------------------------------------------

  private async loans<T>(
    action: string,
    identifier: string | null,
    keys: S3Keys | null,
    extra: Record<string, string>,
    schema: z.ZodType<T>,
  ): Promise<T> {
    if (keys) this.checkKeys(keys);
    const what = `loans ${action}`;
    const query = new URLSearchParams();
    if (identifier !== null) {
      if (typeof identifier !== 'string' || identifier.length === 0 || identifier.length > 256) {
        throw new AppError('not_found', 'No such book', `${what}: malformed identifier`);
      }
      query.set('identifier', identifier);
    }
    query.set('action', action);
    const form = new URLSearchParams(extra);
    if (keys) {
      form.set('access', keys.access);
      form.set('secret', keys.secret);
    }
    const answer = await this.send(what, '/services/loans/loan/', query, {
      method: 'POST',
      headers: { accept: 'application/json' },
      body: form,
    });
    const code = () => errorCode(answer.body);
    switch (answer.status) {
      case 400:
      case 409:
        throw new AppError(
          'lending_limit',
          'Your account has hit a lending limit for this book; return a book or try again later',
          `${what}: HTTP ${answer.status} ${code()}`,
        );
      case 401:
      case 403:
        throw new AppError(
          'invalid_s3keys',
          'archive.org did not accept your keys; please log in again',
          `${what}: HTTP ${answer.status} ${code()}`,
        );
      case 404:
        throw new AppError('not_found', 'No such book or loan', `${what}: HTTP 404 ${code()}`);
    }
    if (answer.status < 200 || answer.status > 299)
      throw unavailable(`${what}: unexpected HTTP ${answer.status}`);
    return this.parse(what, answer, schema);
  }

  /** borrow_book, browse_book, return_loan, join_waitlist, leave_waitlist. */
  async loan(keys: S3Keys, identifier: string, action: LoanAction): Promise<void> {
    await this.loans(action, identifier, keys, {}, loanDoneSchema);
  }

  /** user_borrow_history, newest first. */
  async history(keys: S3Keys, options: { limit: number; offset: number }): Promise<HistoryItem[]> {
    const { limit, offset } = options;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RangeError('limit must be 1..1000');
    if (!Number.isInteger(offset) || offset < 0) throw new RangeError('offset must be an integer >= 0');
    const answer = await this.loans(
      'user_borrow_history',
      null,
      keys,
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
  async userLoans(keys: S3Keys): Promise<ActiveLoan[]> {
    const answer = await this.loans('user_loans', null, keys, {}, loansSchema);
    return answer.loans.map((loan) => ({ ...loan, title: loan.title ?? null }));
  }

  /** lending_status of a book; with keys it also says what this patron holds. */
  async availability(identifier: string, keys?: S3Keys): Promise<LendingStatus> {
    const answer = await this.loans('availability', identifier, keys ?? null, {}, lendingStatusSchema);
    const status: LendingStatus = { ...answer.lending_status };
    for (const key of ['user_has_borrowed', 'user_has_browsed', 'user_on_waitlist'] as const) {
      if (status[key] === undefined) delete status[key];
    }
    return status;
  }

  // --- catalogue --------------------------------------------------------------------------------------------

  /** Books of the `inlibrary` collection (advancedsearch); docs without an identifier are skipped. */
  async searchBooks(options: { rows?: number } = {}): Promise<CatalogueBook[]> {
    const rows = options.rows ?? 100;
    if (!Number.isInteger(rows) || rows < 0 || rows > 10_000) throw new RangeError('rows must be 0..10000');
    const query = new URLSearchParams({ q: 'collection:inlibrary' });
    for (const field of ['identifier', 'title', 'creator', 'year']) query.append('fl[]', field);
    query.set('rows', String(rows));
    query.set('output', 'json');
    const answer = await this.send('advancedsearch', '/advancedsearch.php', query, {
      method: 'GET',
      headers: { accept: 'application/json' },
    });
    if (answer.status !== 200) throw unavailable(`advancedsearch: unexpected HTTP ${answer.status}`);
    const result = this.parse('advancedsearch', answer, searchSchema);
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
