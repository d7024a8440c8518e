// Issue 14 §3 and §4 through the procedures: login with an emailed one-time code (auth.requestCode,
// auth.loginWithCode) against the stand-in's xauthn issue_otp / redeem_otp / issue_key, every bad input and every
// archive.org failure a clear code; print-disabled access carried in the session, shown by account.me and
// books.list, and OL's borrowing rule applied.
import { ArchiveClient } from '@lending/accounts';
import { cookieKeys, openCookie, sealCookie } from '@lending/crypto';
import { defaultFixture, OTP_TTL_MS } from '@lending/archive';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, Harness } from './harness';
import { DAY, demoPatron, errorOf, SECRET, startHarness } from './harness';

const demo = demoPatron('patron@example.org');
const pd = demoPatron('print-disabled@example.org');
const UNKNOWN = 'nobody-here@example.org';

// The stand-in's full catalogue (its default): 155 lendable books and 6 only print-disabled patrons may borrow,
// which come last in the fixture but sort among the others by title.
const full = defaultFixture({ catalogue: 'full' });
const pdOnlyBooks = full.books.filter((book) => !book.collections.includes('inlibrary'));
const pdOnly = pdOnlyBooks[0]!.identifier;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.archiveState.reset();
  h.archiveState.now = () => new Date();
  h.recorder.reset();
  h.limiterWait = 0;
  h.limiterCalls = [];
  h.clock = Date.now();
});

function latestCode(email: string): string {
  const code = h.archiveState.outbox.latestCode(email);
  if (code === null) throw new Error(`no code was sent to ${email}`);
  return code;
}

async function codeFor(browser: Browser, email: string): Promise<string> {
  await browser.call().auth.requestCode({ email });
  return latestCode(email);
}

describe('auth.requestCode', () => {
  it('answers a known and an unknown email exactly alike; only the account gets a code', async () => {
    const known = h.browser();
    const unknown = h.browser();
    const answers = [
      await known.call().auth.requestCode({ email: ` ${demo.email.toUpperCase()} ` }),
      await unknown.call().auth.requestCode({ email: UNKNOWN }),
    ];
    expect(answers).toEqual([{ ok: true }, { ok: true }]);
    expect([...known.headers]).toEqual([...unknown.headers]);
    expect(known.jar.sets).toEqual(unknown.jar.sets);
    // The same log line for both, naming neither.
    expect(h.recorder.lines).toHaveLength(2);
    expect(h.recorder.lines[0]).toEqual(h.recorder.lines[1]);
    expect(JSON.stringify(h.recorder.lines)).not.toContain('example.org');
    // Limited per address and per email, the email as archive.org reads it; a request always counts (fail()).
    expect(h.limiterCalls).toEqual([
      { kind: 'code', ip: '203.0.113.7', subject: demo.email, outcome: 'fail' },
      { kind: 'code', ip: '203.0.113.7', subject: UNKNOWN, outcome: 'fail' },
    ]);
    expect(h.archiveState.outbox.list().map((message) => message.to)).toEqual([demo.email]);
    expect(latestCode(demo.email)).toMatch(/^\d{6}$/);
  });

  it('refuses a malformed email with invalid_email, before asking archive.org', async () => {
    const error = await errorOf(h.browser().call().auth.requestCode({ email: 'not an email' }));
    expect(error.data).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400, appCode: 'invalid_email' });
    expect(h.archiveState.calls.total()).toBe(0);
  });

  it('is rate-limited by the login limiter, with Retry-After, before asking archive.org', async () => {
    h.limiterWait = 30;
    const browser = h.browser();
    const error = await errorOf(browser.call().auth.requestCode({ email: demo.email }));
    expect(error.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', httpStatus: 429, appCode: 'rate_limited' });
    expect(browser.headers.get('Retry-After')).toBe('30');
    expect(h.archiveState.outbox.list()).toEqual([]);
  });

  it("passes on archive.org's own limit as rate_limited with its Retry-After, for unknown emails alike", async () => {
    for (const email of [demo.email, UNKNOWN]) {
      for (let i = 0; i < 5; i++) await h.browser().call().auth.requestCode({ email });
      const browser = h.browser();
      const error = await errorOf(browser.call().auth.requestCode({ email }));
      expect(error.data, email).toMatchObject({ httpStatus: 429, appCode: 'rate_limited' });
      expect(Number(browser.headers.get('Retry-After'))).toBeGreaterThan(0);
      // No code was sent: that request spends nothing of ours.
      expect(h.limiterCalls.at(-1)).toMatchObject({ kind: 'code', subject: email, outcome: 'release' });
    }
  });
});

describe('auth.loginWithCode', () => {
  it('logs in with the emailed code: the same audit and the same two cookies as a password login', async () => {
    const browser = h.browser();
    const code = await codeFor(browser, demo.email);
    const me = await browser.call().auth.loginWithCode({ email: demo.email, code });
    expect(me).toMatchObject({
      email: demo.email,
      displayName: 'Demo Patron',
      itemname: demo.itemname,
      keysSource: 'cookie',
      printDisabled: false,
    });
    expect(browser.jar.sets.map(({ name, persistent }) => ({ name, persistent }))).toEqual([
      { name: 'session', persistent: false },
      { name: 's3', persistent: false },
    ]);
    const s3 = openCookie(h.deps.cookieKeys, browser.jar.get('s3'), {
      pur: 's3',
      sub: me.username,
      ttl: DAY,
    });
    expect(s3).toMatchObject({ ok: true, payload: { access: demo.access, secret: demo.secret } });
    expect(h.recorder.logins).toEqual(['ok']);
    expect(h.recorder.lines.find((line) => line.message === 'login')?.fields).toMatchObject({
      method: 'code',
      username: me.username,
      keysIssued: true,
    });
    // The keys came from issue_key with redeem_otp's token; the account is in the store, without keys.
    expect(h.archiveState.calls.get('xauthn.issue_key')).toBe(1);
    const account = await h.store.getByEmail(demo.email);
    expect(account?.username).toBe(me.username);
    expect(account?.s3Keys).toBeUndefined();
    // A revocable session like any login's: its id is in the account's list and in the cookie.
    const session = openCookie(h.deps.cookieKeys, browser.jar.get('session'), { pur: 'session', ttl: DAY });
    expect(session.ok && account?.sessions?.map((each) => each.id)).toEqual([
      session.ok && session.payload.sid,
    ]);

    // The session works: the patron's loans are reachable with the s3 cookie.
    expect(await browser.call().account.me()).toMatchObject({ email: demo.email, keysSource: 'cookie' });
    expect(await browser.call().loans.list()).toEqual([]);

    // Nothing secret in the logs: not the code, the keys or the cookies.
    const logs = JSON.stringify(h.recorder.lines);
    for (const secret of [code, demo.access, demo.secret, ...browser.jar.values.values()]) {
      expect(logs).not.toContain(secret);
    }
  });

  it('makes both cookies persistent with remember', async () => {
    const browser = h.browser();
    const code = await codeFor(browser, demo.email);
    await browser.call().auth.loginWithCode({ email: demo.email, code, remember: true });
    expect(browser.jar.sets.map(({ persistent }) => persistent)).toEqual([true, true]);
  });

  it('takes the keys from redeem_otp itself when a legacy xauthn sends them (no issue_key)', async () => {
    const legacy = demoPatron('legacy-xauthn@example.org');
    const browser = h.browser();
    const code = await codeFor(browser, legacy.email);
    const me = await browser.call().auth.loginWithCode({ email: legacy.email, code });
    expect(me.keysSource).toBe('cookie');
    expect(h.archiveState.calls.get('xauthn.issue_key')).toBe(0);
  });

  it('refuses a reused code with invalid_code', async () => {
    const browser = h.browser();
    const code = await codeFor(browser, demo.email);
    await browser.call().auth.loginWithCode({ email: demo.email, code });
    const again = h.browser();
    const error = await errorOf(again.call().auth.loginWithCode({ email: demo.email, code }));
    expect(error.data).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401, appCode: 'invalid_code' });
    expect(again.jar.sets).toEqual([]);
  });

  it('refuses an expired code with invalid_code', async () => {
    const browser = h.browser();
    const code = await codeFor(browser, demo.email);
    const later = Date.now() + OTP_TTL_MS + 1000;
    h.archiveState.now = () => new Date(later);
    const error = await errorOf(browser.call().auth.loginWithCode({ email: demo.email, code }));
    expect(error.data).toMatchObject({ httpStatus: 401, appCode: 'invalid_code' });
    expect(browser.jar.sets).toEqual([]);
  });

  it('refuses a wrong code with invalid_code, and the right one still works after', async () => {
    const browser = h.browser();
    const code = await codeFor(browser, demo.email);
    const wrong = code === '000000' ? '000001' : '000000';
    const error = await errorOf(browser.call().auth.loginWithCode({ email: demo.email, code: wrong }));
    expect(error.data).toMatchObject({ httpStatus: 401, appCode: 'invalid_code' });
    expect(h.recorder.logins).toEqual(['invalid_code']);
    await browser.call().auth.loginWithCode({ email: demo.email, code });
    // The limiter (kind `code`): the request counts, the wrong code counts, the right one succeeds.
    expect(h.limiterCalls.map(({ kind, subject, outcome }) => [kind, subject, outcome])).toEqual([
      ['code', demo.email, 'fail'],
      ['code', demo.email, 'fail'],
      ['code', demo.email, 'succeed'],
    ]);
  });

  it('answers an unknown email exactly like a wrong code', async () => {
    const unknown = await errorOf(h.browser().call().auth.loginWithCode({ email: UNKNOWN, code: '123456' }));
    const wrong = await errorOf(h.browser().call().auth.loginWithCode({ email: demo.email, code: '123456' }));
    expect(unknown).toEqual(wrong);
  });

  it('refuses malformed codes and emails with a clear code, never reaching archive.org', async () => {
    for (const code of ['12 34 56', 'x', '\u0000\u0000\u0000\u0000']) {
      const error = await errorOf(h.browser().call().auth.loginWithCode({ email: demo.email, code }));
      expect(error.data, JSON.stringify(code)).toMatchObject({ httpStatus: 401, appCode: 'invalid_code' });
    }
    const badEmail = await errorOf(h.browser().call().auth.loginWithCode({ email: 'nope', code: '123456' }));
    expect(badEmail.data).toMatchObject({ httpStatus: 400, appCode: 'invalid_email' });
    const empty = await errorOf(h.browser().call().auth.loginWithCode({ email: demo.email, code: '' }));
    expect(empty.data).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400 });
    expect(Object.keys(empty.data.fieldErrors ?? {})).toEqual(['code']);
    expect(h.archiveState.calls.total()).toBe(0);
  });

  it('refuses the code of a locked account (account_locked) and of an unverified one (ia_account_not_verified)', async () => {
    for (const [email, appCode] of [
      ['locked@example.org', 'account_locked'],
      ['unverified@example.org', 'ia_account_not_verified'],
    ] as const) {
      const browser = h.browser();
      const code = await codeFor(browser, email);
      const error = await errorOf(browser.call().auth.loginWithCode({ email, code }));
      expect(error.data, email).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403, appCode });
      expect(browser.jar.sets).toEqual([]);
      // Not a wrong code: the redeem spends nothing.
      expect(h.limiterCalls.at(-1)).toMatchObject({ kind: 'code', subject: email, outcome: 'release' });
    }
  });

  it('is rate-limited per address and email through the login limiter', async () => {
    h.limiterWait = 7;
    const browser = h.browser();
    const error = await errorOf(browser.call().auth.loginWithCode({ email: demo.email, code: '123456' }));
    expect(error.data).toMatchObject({ httpStatus: 429, appCode: 'rate_limited' });
    expect(browser.headers.get('Retry-After')).toBe('7');
    expect(h.limiterCalls).toEqual([{ kind: 'code', ip: '203.0.113.7', subject: demo.email, outcome: null }]);
    expect(h.archiveState.calls.total()).toBe(0);
  });
});

// archive.org failing at each step of the flow: a client with a fetch that plays the failure on one call.
type Step = 'issue_otp' | 'redeem_otp' | 'issue_key' | 's3auth' | 'info';
type Failure = 'garbage' | 'bad_shape' | 'status_500' | 'status_404' | 'timeout' | 'reset';

function stepOf(url: string): Step | null {
  const parsed = new URL(url);
  if (parsed.pathname.endsWith('/services/s3auth/')) return 's3auth';
  const op = parsed.searchParams.get('op');
  return op === 'issue_otp' || op === 'redeem_otp' || op === 'issue_key' || op === 'info' ? op : null;
}

function failing(fault: { step: Step; failure: Failure } | null): typeof fetch {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : input.toString();
    if (fault === null || stepOf(url) !== fault.step) return fetch(input, init);
    switch (fault.failure) {
      case 'garbage':
        return new Response('<html>Temporarily out of service</html>', { status: 200 });
      case 'bad_shape':
        return Response.json({ unexpected: true });
      case 'status_500':
        return Response.json({ error: 'oops' }, { status: 500 });
      case 'status_404':
        return new Response('not here', { status: 404 });
      case 'timeout':
        return new Promise<Response>((_, reject) => {
          init?.signal?.addEventListener('abort', () =>
            reject(new DOMException('timed out', 'TimeoutError')),
          );
        });
      case 'reset':
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
        });
    }
  };
}

describe('archive.org failing at each step of a code login', () => {
  let faulty: Harness;
  const current: { fault: { step: Step; failure: Failure } | null } = { fault: null };
  beforeAll(async () => {
    faulty = await startHarness({
      archiveTimeoutMs: 300,
      archiveClient: (options) =>
        new ArchiveClient({ ...options, fetch: (i, o) => failing(current.fault)(i, o) }),
    });
  });
  afterAll(async () => {
    await faulty.close();
  });

  const steps: Step[] = ['issue_otp', 'redeem_otp', 'issue_key', 's3auth', 'info'];
  const failures: Failure[] = ['garbage', 'bad_shape', 'status_500', 'status_404', 'timeout', 'reset'];
  it.each(steps.flatMap((step) => failures.map((failure) => [step, failure] as const)))(
    '%s answering %s: archive_unavailable (503), no cookie, no secret in the log',
    async (step, failure) => {
      faulty.archiveState.reset();
      faulty.recorder.reset();
      const browser = faulty.browser();
      current.fault = step === 'issue_otp' ? { step, failure } : null;
      const requested = errorOf(browser.call().auth.requestCode({ email: demo.email }));
      if (step === 'issue_otp') {
        expect((await requested).data).toMatchObject({ httpStatus: 503, appCode: 'archive_unavailable' });
        return;
      }
      await expect(requested).rejects.toThrow('expected the call to fail');
      const code = faulty.archiveState.outbox.latestCode(demo.email)!;
      current.fault = { step, failure };
      const error = await errorOf(browser.call().auth.loginWithCode({ email: demo.email, code }));
      current.fault = null;
      expect(error.data).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        httpStatus: 503,
        appCode: 'archive_unavailable',
      });
      expect(browser.jar.sets).toEqual([]);
      expect(JSON.stringify(faulty.recorder.lines)).not.toContain(code);
    },
  );

  it('issue_key refusing the token: archive_unavailable (Open Library: otp_redeem_incomplete)', async () => {
    const refusing: typeof fetch = async (input, init) =>
      stepOf(input instanceof Request ? input.url : input.toString()) === 'issue_key'
        ? Response.json({ success: false, values: { reason: 'invalid_token' } }, { status: 401 })
        : fetch(input, init);
    const local = await startHarness({
      archiveClient: (options) => new ArchiveClient({ ...options, fetch: refusing }),
    });
    try {
      const browser = local.browser();
      await browser.call().auth.requestCode({ email: demo.email });
      const code = local.archiveState.outbox.latestCode(demo.email)!;
      const error = await errorOf(browser.call().auth.loginWithCode({ email: demo.email, code }));
      expect(error.data).toMatchObject({ httpStatus: 503, appCode: 'archive_unavailable' });
      expect(browser.jar.sets).toEqual([]);
    } finally {
      await local.close();
    }
  });
});

/** Every book of the catalogue as this browser sees it, page by page. */
async function everyBook(browser: Browser) {
  const first = await browser.call().books.list({ pageSize: 100 });
  const books = [...first.books];
  for (let page = 2; page <= first.pages; page++) {
    books.push(...(await browser.call().books.list({ pageSize: 100, page })).books);
  }
  return books;
}

describe('print-disabled access', () => {
  it('is carried in the session from the login and shown by account.me', async () => {
    const browser = h.browser();
    const me = await browser.call().auth.login({ email: pd.email, password: pd.password });
    expect(me.printDisabled).toBe(true);
    const session = openCookie(h.deps.cookieKeys, browser.jar.get('session'), { pur: 'session', ttl: DAY });
    expect(session).toMatchObject({ ok: true, payload: { sub: me.username, pd: true } });
    expect(await browser.call().account.me()).toMatchObject({ email: pd.email, printDisabled: true });

    // The same through a code login.
    const byCode = h.browser();
    const code = await codeFor(byCode, pd.email);
    expect((await byCode.call().auth.loginWithCode({ email: pd.email, code })).printDisabled).toBe(true);

    // Other patrons' session cookies stay as they were (no pd field).
    const other = h.browser();
    expect(
      (await other.call().auth.login({ email: demo.email, password: demo.password })).printDisabled,
    ).toBe(false);
    const plain = openCookie(h.deps.cookieKeys, other.jar.get('session'), { pur: 'session', ttl: DAY });
    expect(plain.ok && Object.keys(plain.payload).sort()).toEqual(['iat', 'kfp', 'pur', 'rem', 'sid', 'sub']);
  });

  it('reads session cookies sealed before it existed as without access', async () => {
    const browser = h.browser();
    const me = await browser.call().auth.login({ email: pd.email, password: pd.password });
    const opened = openCookie(h.deps.cookieKeys, browser.jar.get('session'), { pur: 'session', ttl: DAY });
    if (!opened.ok) throw new Error('no session cookie');
    // The same live session (sid, iat, kfp), sealed as a server before `pd` would have sealed it.
    const { pd: _dropped, ...older } = opened.payload;
    browser.jar.values.set(
      'session',
      sealCookie(h.deps.cookieKeys, older, { now: Math.floor(h.clock / 1000) }),
    );
    expect(await browser.call().account.me()).toMatchObject({ username: me.username, printDisabled: false });
  });

  it('keeps the access through the sliding renewal of a remembered session', async () => {
    const browser = h.browser();
    await browser.call().auth.login({ email: pd.email, password: pd.password, remember: true });
    browser.jar.sets = [];
    h.clock += 2 * DAY * 1000;
    expect(await browser.call().account.me()).toMatchObject({ printDisabled: true });
    const renewed = browser.jar.setOf('session');
    expect(renewed).toBeDefined();
    const opened = openCookie(h.deps.cookieKeys, renewed!.value, {
      pur: 'session',
      ttl: DAY,
      now: Math.floor(h.clock / 1000),
    });
    expect(opened).toMatchObject({ ok: true, issuedAt: Math.floor(h.clock / 1000), payload: { pd: true } });
  });

  it('keeps the access when a session cookie is re-sealed under a new secret', async () => {
    const rotated = await startHarness({
      secret: 'a-brand-new-secret-of-enough-length-0123456789',
      previousSecrets: [SECRET],
    });
    try {
      const browser = rotated.browser();
      await browser.call().auth.login({ email: pd.email, password: pd.password });
      const current = openCookie(rotated.deps.cookieKeys, browser.jar.get('session'), {
        pur: 'session',
        ttl: DAY,
      });
      if (!current.ok) throw new Error('no session cookie');
      expect(current.payload.pd).toBe(true);
      // The same session, as the server sealed it before the rotation.
      const old = sealCookie(cookieKeys(SECRET), current.payload, { now: Math.floor(rotated.clock / 1000) });
      browser.jar.sets = [];
      browser.jar.values.set('session', old);
      expect(await browser.call().account.me()).toMatchObject({ printDisabled: true });
      const reissued = browser.jar.setOf('session');
      expect(reissued).toBeDefined();
      const opened = openCookie(rotated.deps.cookieKeys, reissued!.value, { pur: 'session', ttl: DAY });
      expect(opened).toMatchObject({ ok: true, oldKey: false, payload: { pd: true } });
    } finally {
      await rotated.close();
    }
  });

  it('marks the books only print-disabled patrons may borrow; only they are offered them', async () => {
    // The whole catalogue, page by page: the print-disabled-only books are in it (sorted among the others).
    const visitor = await everyBook(h.browser());
    expect(visitor).toHaveLength(full.books.length);
    const marked = visitor.filter((book) => book.printDisabledOnly).map((book) => book.identifier);
    expect(marked.sort()).toEqual(pdOnlyBooks.map((book) => book.identifier).sort());
    expect(visitor.find((book) => book.identifier === pdOnly)?.availability).toMatchObject({
      borrow: false,
      browse: false,
      waitlist: false,
    });
    expect(visitor.filter((book) => !book.printDisabledOnly).every((book) => book.availability.borrow)).toBe(
      true,
    );

    const ordinary = h.browser();
    await ordinary.call().auth.login({ email: demo.email, password: demo.password });
    const forOrdinary = await everyBook(ordinary);
    expect(forOrdinary.find((book) => book.identifier === pdOnly)?.availability.borrow).toBe(false);

    const reader = h.browser();
    await reader.call().auth.login({ email: pd.email, password: pd.password });
    const forPd = await everyBook(reader);
    for (const book of pdOnlyBooks) {
      expect(forPd.find((each) => each.identifier === book.identifier)).toMatchObject({
        printDisabledOnly: true,
        availability: { borrow: true },
      });
    }
    // A search finds one on the first page, as the README's walkthrough says.
    const found = await reader.call().books.list({ query: 'prince' });
    expect(found.books.find((book) => book.title === 'The Prince')).toMatchObject({
      printDisabledOnly: true,
      availability: { borrow: true },
    });
  });

  it('lends a print-disabled-only book to a print-disabled patron and refuses others with print_disabled_only', async () => {
    const ordinary = h.browser();
    await ordinary.call().auth.login({ email: demo.email, password: demo.password });
    const refused = await errorOf(ordinary.call().loans.borrow({ identifier: pdOnly }));
    expect(refused.data).toMatchObject({
      code: 'FORBIDDEN',
      httpStatus: 403,
      appCode: 'print_disabled_only',
    });

    const reader = h.browser();
    await reader.call().auth.login({ email: pd.email, password: pd.password });
    const borrowed = await reader.call().loans.borrow({ identifier: pdOnly });
    expect(borrowed.ok).toBe(true);
    expect((await reader.call().loans.list()).map((loan) => loan.identifier)).toContain(pdOnly);
  });
});
