// Procedures through a caller over an inner context: real store (SQLite file), real crypto, real archive.org
// stand-in. The HTTP host's cookie attributes and headers are tested in apps/server.
import { randomUUID } from 'node:crypto';
import { ArchiveClient, seedLegacyAccounts } from '@lending/accounts';
import type { AccountStore, S3Keys } from '@lending/accounts';
import { accessKeyFingerprint, cookieKeys, deriveKey, Fernet, openCookie, sealCookie } from '@lending/crypto';
import type { CookieKeys } from '@lending/crypto';
import { legacyAccountSeeds } from '@lending/archive';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, Harness } from './harness';
import { DAY, demoPatron, errorOf, failureLogOf, OLD_SECRET, SECRET, startHarness } from './harness';

const demo = demoPatron('patron@example.org');
const reader = demoPatron('reader@example.org');
const legacy = demoPatron('legacy-reader@example.org');
const legacySeed = (() => {
  const seed = legacyAccountSeeds().find((candidate) => candidate.email === legacy.email);
  if (!seed) throw new Error('the fixture has no legacy record for legacy-reader');
  return seed;
})();
const keysOf = (p: { access: string; secret: string }): S3Keys => ({ access: p.access, secret: p.secret });

const secs = (ms: number) => Math.floor(ms / 1000);

async function logIn(browser: Browser, who: { email: string; password: string }, remember = false) {
  return browser.call().auth.login({ email: who.email, password: who.password, remember });
}

/** A session cookie for `sub`, its id recorded as live in `store` (as a login does). */
async function sessionCookie(
  keys: CookieKeys,
  sub: string,
  rem: boolean,
  now: number,
  store: AccountStore = h.store,
  /** The access key issued with the session, when any. */
  access?: string,
): Promise<string> {
  const sid = `test-${randomUUID()}`;
  await store.addSession(sub, { id: sid, expiresAt: now + 90 * DAY }, { now, max: 20 });
  const kfp = access === undefined ? {} : { kfp: accessKeyFingerprint(keys, access) };
  return sealCookie(keys, { pur: 'session', sub, rem, sid, iat: now, ...kfp }, { now });
}
function s3Cookie(keys: CookieKeys, sub: string, s3: S3Keys, now: number): string {
  return sealCookie(keys, { pur: 's3', sub, access: s3.access, secret: s3.secret }, { now });
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await seedLegacyAccounts(h.store, legacyAccountSeeds());
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.archiveState.reset();
  h.recorder.reset();
  h.limiterWait = 0;
  h.limiterCalls = [];
  h.clock = Date.now();
});

describe('auth.login', () => {
  it('sets the session and s3 cookies as browser-session cookies without remember', async () => {
    const browser = h.browser();
    const me = await logIn(browser, demo);
    expect(me).toMatchObject({
      displayName: 'Demo Patron',
      email: demo.email,
      itemname: demo.itemname,
      keysSource: 'cookie',
    });
    expect(browser.jar.sets.map(({ name, persistent }) => ({ name, persistent }))).toEqual([
      { name: 'session', persistent: false },
      { name: 's3', persistent: false },
    ]);
    const session = openCookie(h.deps.cookieKeys, browser.jar.get('session'), { pur: 'session', ttl: DAY });
    expect(session).toMatchObject({ ok: true, payload: { pur: 'session', sub: me.username, rem: false } });
    const s3 = openCookie(h.deps.cookieKeys, browser.jar.get('s3'), {
      pur: 's3',
      sub: me.username,
      ttl: DAY,
    });
    expect(s3).toMatchObject({ ok: true, format: 'lending', payload: { sub: me.username, ...keysOf(demo) } });
    expect(h.recorder.logins).toEqual(['ok']);
    expect(h.limiterCalls).toEqual([
      { kind: 'password', ip: '203.0.113.7', subject: demo.email, outcome: 'succeed' },
    ]);

    // Keys never reach the store; the login is recorded.
    const account = await h.store.getByUsername(me.username);
    expect(account?.s3Keys).toBeUndefined();
    expect(account?.lastLogin).not.toBeNull();

    // Nothing secret in the logs.
    const logs = JSON.stringify(h.recorder.lines);
    for (const secret of [demo.password, demo.access, demo.secret, ...browser.jar.values.values()]) {
      expect(logs).not.toContain(secret);
    }
  });

  it('makes both cookies persistent with remember', async () => {
    const browser = h.browser();
    const me = await logIn(browser, demo, true);
    expect(browser.jar.sets.map(({ name, persistent }) => ({ name, persistent }))).toEqual([
      { name: 'session', persistent: true },
      { name: 's3', persistent: true },
    ]);
    const session = openCookie(h.deps.cookieKeys, browser.jar.get('session'), { pur: 'session', ttl: DAY });
    expect(session).toMatchObject({ ok: true, payload: { sub: me.username, rem: true } });
  });

  it('replaces a stale s3 cookie of an earlier session', async () => {
    const browser = h.browser();
    browser.jar.values.set('s3', s3Cookie(h.deps.cookieKeys, 'someone-else', keysOf(reader), secs(h.clock)));
    const me = await logIn(browser, demo);
    const s3 = openCookie(h.deps.cookieKeys, browser.jar.get('s3'), {
      pur: 's3',
      sub: me.username,
      ttl: DAY,
    });
    expect(s3).toMatchObject({ ok: true, payload: keysOf(demo) });
  });

  it.each([
    ['invalid_email', 'BAD_REQUEST', { email: 'not-an-email', password: 'whatever' }],
    ['invalid_credentials', 'UNAUTHORIZED', { email: demo.email, password: 'wrong-password' }],
    ['invalid_credentials', 'UNAUTHORIZED', { email: 'nobody@example.org', password: 'whatever' }],
    ['account_locked', 'FORBIDDEN', demoPatron('locked@example.org')],
    ['ia_account_not_verified', 'FORBIDDEN', demoPatron('unverified@example.org')],
  ] as const)('refuses with %s (%s)', async (appCode, code, who) => {
    const browser = h.browser();
    const error = await errorOf(logIn(browser, who));
    expect(error.data).toMatchObject({ code, appCode });
    expect(error.message).not.toBe(appCode);
    expect(browser.jar.sets).toEqual([]);
    expect(h.recorder.logins).toEqual([appCode]);
    // Only wrong credentials count against the limits; anything else spends nothing.
    expect(h.limiterCalls.map((c) => c.outcome)).toEqual([
      appCode === 'invalid_credentials' ? 'fail' : 'release',
    ]);
    // The host's log line names the precise reason, and never the password.
    const log = await failureLogOf(logIn(h.browser(), who));
    expect(log).toMatchObject({ level: 'info', fields: { appCode, detail: expect.any(String) as unknown } });
    expect(JSON.stringify([log, h.recorder.lines])).not.toContain(who.password);
  });

  it('says the same thing for a wrong password and an unknown account', async () => {
    const wrong = await errorOf(logIn(h.browser(), { email: demo.email, password: 'nope' }));
    const unknown = await errorOf(logIn(h.browser(), { email: 'nobody@example.org', password: 'nope' }));
    expect(unknown.message).toBe(wrong.message);
  });

  it('refuses a blocked account with account_blocked', async () => {
    const scholar = demoPatron('scholar@example.org');
    const me = await logIn(h.browser(), scholar);
    const account = await h.store.getByUsername(me.username);
    if (!account) throw new Error('account missing');
    await h.store.update(me.username, account.revision, { status: 'blocked' });
    try {
      const error = await errorOf(logIn(h.browser(), scholar));
      expect(error.data).toMatchObject({ code: 'FORBIDDEN', appCode: 'account_blocked' });
    } finally {
      const blocked = await h.store.getByUsername(me.username);
      if (blocked) await h.store.update(me.username, blocked.revision, { status: 'active' });
    }
  });

  it('rate-limits with TOO_MANY_REQUESTS and Retry-After, before asking archive.org', async () => {
    h.limiterWait = 42;
    const browser = h.browser();
    const error = await errorOf(logIn(browser, demo));
    expect(error.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', httpStatus: 429, appCode: 'rate_limited' });
    expect(error.data.retryAfter).toBe(42);
    expect(browser.headers.get('Retry-After')).toBe('42');
    expect(browser.jar.sets).toEqual([]);
    expect(h.recorder.logins).toEqual(['rate_limited']);
  });

  it('answers archive_unavailable (503) when archive.org fails', async () => {
    h.archiveState.fault = { kind: 'status', status: 502 };
    const error = await errorOf(logIn(h.browser(), demo));
    expect(error.data).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      httpStatus: 503,
      appCode: 'archive_unavailable',
    });
    expect(h.recorder.logins).toEqual(['archive_unavailable']);
    expect(h.limiterCalls.map((c) => c.outcome)).toEqual(['release']);
  });

  it('validates input before anything else, with field errors', async () => {
    const error = await errorOf(
      h
        .browser()
        .call()
        .auth.login({ email: 'x'.repeat(300), password: '' }),
    );
    expect(error.data).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400 });
    expect(error.data.appCode).toBeUndefined();
    expect(Object.keys(error.data.fieldErrors ?? {}).sort()).toEqual(['email', 'password']);
    expect(h.limiterCalls).toEqual([]);
  });
});

describe('auth.loginWithKeys', () => {
  it('logs in with S3 keys and sets both cookies', async () => {
    const browser = h.browser();
    const me = await browser.call().auth.loginWithKeys({ ...keysOf(reader), remember: true });
    expect(me).toMatchObject({ email: reader.email, itemname: reader.itemname, keysSource: 'cookie' });
    expect(browser.jar.sets.map(({ name, persistent }) => ({ name, persistent }))).toEqual([
      { name: 'session', persistent: true },
      { name: 's3', persistent: true },
    ]);
    expect(h.limiterCalls).toEqual([
      { kind: 'keys', ip: '203.0.113.7', subject: keysOf(reader).access, outcome: 'succeed' },
    ]);
  });

  it('refuses keys archive.org does not know with invalid_s3keys', async () => {
    const error = await errorOf(h.browser().call().auth.loginWithKeys({ access: 'NOPE', secret: 'NOPE' }));
    expect(error.data).toMatchObject({ code: 'UNAUTHORIZED', appCode: 'invalid_s3keys' });
    expect(h.recorder.logins).toEqual(['invalid_s3keys']);
  });
});

describe('auth.logout and account.me', () => {
  it('me is null when logged out, and sets no cookie', async () => {
    const browser = h.browser();
    await expect(browser.call().account.me()).resolves.toBeNull();
    expect(browser.jar.sets).toEqual([]);
    expect(h.recorder.sources).toEqual([]);
  });

  it('me says where the keys came from; logout clears both cookies', async () => {
    const browser = h.browser();
    const me = await logIn(browser, demo);
    await expect(browser.call().account.me()).resolves.toEqual(me);
    expect(h.recorder.sources).toEqual(['cookie']);
    await expect(browser.call().auth.logout()).resolves.toEqual({ ok: true });
    expect(browser.jar.clears.sort()).toEqual(['s3', 'session']);
    await expect(browser.call().account.me()).resolves.toBeNull();
  });
});

describe('loans with the keys from the s3 cookie', () => {
  it('borrows, lists, returns and keeps the history', async () => {
    const browser = h.browser();
    await logIn(browser, demo);
    h.recorder.reset();

    const borrowed = await browser.call().loans.borrow({ identifier: 'prideandprejudic00aust' });
    expect(borrowed).toMatchObject({
      ok: true,
      loan: { identifier: 'prideandprejudic00aust', title: 'Pride and Prejudice', type: 'borrow' },
    });
    expect(Date.parse(borrowed.loan?.dueAt ?? '')).toBeGreaterThan(
      Date.parse(borrowed.loan?.borrowedAt ?? ''),
    );
    expect(h.recorder.sources).toEqual(['cookie']);
    expect(browser.jar.sets).toEqual([]);

    const browsed = await browser.call().loans.borrow({ identifier: 'emmaausten00aust', action: 'browse' });
    expect(browsed.loan?.type).toBe('browse');

    const loans = await browser.call().loans.list();
    expect(loans.map((loan) => loan.identifier).sort()).toEqual([
      'emmaausten00aust',
      'prideandprejudic00aust',
    ]);

    await expect(browser.call().loans.return({ identifier: 'prideandprejudic00aust' })).resolves.toEqual({
      ok: true,
    });
    expect((await browser.call().loans.list()).map((loan) => loan.identifier)).toEqual(['emmaausten00aust']);

    const history = await browser.call().loans.history();
    expect(history.hasMore).toBe(false);
    expect(history.items.length).toBeGreaterThanOrEqual(3);
    expect(history.items[0]).toEqual({
      identifier: expect.any(String) as unknown,
      title: expect.any(String) as unknown,
      action: expect.any(String) as unknown,
      at: expect.any(String) as unknown,
    });
    const page = await browser.call().loans.history({ limit: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.hasMore).toBe(true);
    const rest = await browser.call().loans.history({ limit: 100, offset: 1 });
    expect(rest.items).toEqual(history.items.slice(1));
  });

  it('shows availability and the patron’s own loans in books.list', async () => {
    const browser = h.browser();
    await logIn(browser, demo);
    await browser.call().loans.borrow({ identifier: 'draculabram00stok' });

    const mine = await browser.call().books.list({ query: 'DRACULA' });
    expect(mine).toEqual({
      books: [
        {
          identifier: 'draculabram00stok',
          title: expect.stringMatching(/Dracula/) as unknown,
          author: expect.stringMatching(/Stoker/) as unknown,
          year: expect.any(Number) as unknown,
          availability: expect.objectContaining({ status: 'borrow_available', borrow: true }) as unknown,
          yourLoan: 'borrow',
          onWaitlist: false,
          printDisabledOnly: false,
        },
      ],
      page: 1,
      pageSize: 20,
      total: 1,
      pages: 1,
    });

    const anonymous = await h.browser().call().books.list({ query: 'dracula' });
    expect(anonymous.books[0]).toMatchObject({
      yourLoan: null,
      onWaitlist: false,
      availability: { borrow: true },
    });

    // The whole catalogue, page by page: more than the first 100 lendable books, each once.
    const first = await h.browser().call().books.list({ pageSize: 100 });
    expect(first.total).toBeGreaterThan(100);
    expect(first.books).toHaveLength(100);
    const second = await h.browser().call().books.list({ pageSize: 100, page: 2 });
    expect(second.books).toHaveLength(first.total - 100);
    const seen = new Set([...first.books, ...second.books].map((book) => book.identifier));
    expect(seen.size).toBe(first.total);
    const byAuthor = await h.browser().call().books.list({ query: 'austen' });
    expect(byAuthor.books.length).toBeGreaterThan(1);
    expect(byAuthor.books.every((book) => book.author.toLowerCase().includes('austen'))).toBe(true);
  });

  it("spends each request's archive.org budget on every call it makes, however deep; each request has its own", async () => {
    const browser = h.browser();
    await logIn(browser, demo);
    h.deps.archiveCallsPerRequest = 1;
    try {
      // A logged-in catalogue page asks search and availability (unless cached), the patron's loans and waitlist
      // (never cached): past one, archive_busy.
      const request = browser.call();
      expect(await errorOf(request.books.list({ query: 'emma' }))).toMatchObject({
        data: { httpStatus: 503, appCode: 'archive_busy' },
      });
      // A new request has a budget of its own; within it, the same page is served.
      h.deps.archiveCallsPerRequest = 10;
      const page = await browser.call().books.list({ query: 'emma' });
      expect(page.books.length).toBeGreaterThan(0);
      // Calls of one request share its budget: with one, a search (matching nothing, so no availability is asked)
      // leaves nothing for a second search.
      h.deps.archiveCallsPerRequest = 1;
      const one = h.browser().call();
      expect(await one.books.list({ query: `nomatch${randomUUID().slice(0, 8)}` })).toMatchObject({
        total: 0,
      });
      expect(await errorOf(one.books.list({ query: `nomatch${randomUUID().slice(0, 8)}` }))).toMatchObject({
        data: { appCode: 'archive_busy' },
      });
    } finally {
      delete h.deps.archiveCallsPerRequest;
    }
  });

  it('joins and leaves a waitlist', async () => {
    const first = h.browser();
    await logIn(first, reader);
    await first.call().loans.borrow({ identifier: 'persuasion00aust' }); // its only copy

    const browser = h.browser();
    await logIn(browser, demo);
    // archive.org says 409 no_copies_available: refused, and not as a lending limit.
    const refused = await errorOf(browser.call().loans.borrow({ identifier: 'persuasion00aust' }));
    expect(refused.data).toMatchObject({ code: 'CONFLICT', appCode: 'item_locked' });

    await expect(browser.call().loans.joinWaitlist({ identifier: 'persuasion00aust' })).resolves.toEqual({
      ok: true,
    });
    const [book] = (await browser.call().books.list({ query: 'persuasion' })).books;
    expect(book).toMatchObject({ onWaitlist: true, availability: { waitlistLength: 1 } });
    await expect(browser.call().loans.leaveWaitlist({ identifier: 'persuasion00aust' })).resolves.toEqual({
      ok: true,
    });
    const [after] = (await browser.call().books.list({ query: 'persuasion' })).books;
    expect(after?.onWaitlist).toBe(false);
  });

  it('answers lending_limit past five loans', async () => {
    const browser = h.browser();
    await logIn(browser, demo);
    const books = [
      'greatexpectation00dick',
      'taleoftwocities00dick',
      'mobydickorwhale00melv',
      'janeeyreautobiog00bron',
    ];
    for (const identifier of ['adventuresofsher00doyl', ...books]) {
      await browser.call().loans.borrow({ identifier });
    }
    const error = await errorOf(browser.call().loans.borrow({ identifier: 'aliceadventures00carr' }));
    expect(error.data).toMatchObject({ code: 'CONFLICT', httpStatus: 409, appCode: 'lending_limit' });
  });

  it('answers not_found for a book archive.org does not have', async () => {
    const browser = h.browser();
    await logIn(browser, demo);
    const error = await errorOf(browser.call().loans.borrow({ identifier: 'nosuchbook00none' }));
    expect(error.data).toMatchObject({ code: 'NOT_FOUND', appCode: 'not_found' });
  });

  it('refuses keys archive.org no longer accepts with invalid_s3keys and drops the cookie', async () => {
    const browser = h.browser();
    const me = await logIn(browser, demo);
    browser.jar.values.set(
      's3',
      s3Cookie(h.deps.cookieKeys, me.username, { access: 'REVOKED', secret: 'X' }, secs(h.clock)),
    );
    const error = await errorOf(browser.call().loans.history());
    expect(error.data).toMatchObject({ code: 'UNAUTHORIZED', appCode: 'invalid_s3keys' });
    expect(browser.jar.clears).toEqual(['s3']);
  });

  it('still lists the catalogue when archive.org refuses the keys of the cookie', async () => {
    const browser = h.browser();
    const me = await logIn(browser, demo);
    browser.jar.values.set(
      's3',
      s3Cookie(h.deps.cookieKeys, me.username, { access: 'REVOKED', secret: 'X' }, secs(h.clock)),
    );
    // The catalogue never sends the patron's keys (availability uses Lending's service keys).
    const { books } = await browser.call().books.list({ query: 'dracula' });
    expect(books).toEqual([expect.objectContaining({ identifier: 'draculabram00stok', yourLoan: null })]);
    expect(browser.jar.clears).toEqual([]);
  });

  it('answers archive_unavailable when the loans API fails', async () => {
    const browser = h.browser();
    await logIn(browser, demo);
    h.archiveState.fault = { kind: 'status', status: 500, path: '/services/loans' };
    const error = await errorOf(browser.call().loans.borrow({ identifier: 'prideandprejudic00aust' }));
    expect(error.data).toMatchObject({ code: 'SERVICE_UNAVAILABLE', appCode: 'archive_unavailable' });
  });

  it('validates identifiers and paging with field errors', async () => {
    const browser = h.browser();
    await logIn(browser, demo);
    const bad = await errorOf(browser.call().loans.borrow({ identifier: 'a/../b' }));
    expect(bad.data).toMatchObject({
      code: 'BAD_REQUEST',
      fieldErrors: { identifier: [expect.any(String)] },
    });
    const paging = await errorOf(browser.call().loans.history({ limit: 0, offset: -1 }));
    expect(Object.keys(paging.data.fieldErrors ?? {}).sort()).toEqual(['limit', 'offset']);
  });
});

describe('sessions', () => {
  it('refuses protected procedures without a session: UNAUTHORIZED, no appCode', async () => {
    const error = await errorOf(h.browser().call().loans.list());
    expect(error.data).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401 });
    expect(error.data.appCode).toBeUndefined();
  });

  it('refuses a browser-session cookie older than SESSION_TTL, counts it and clears it', async () => {
    const browser = h.browser();
    const me = await logIn(browser, demo);
    h.recorder.reset();
    h.clock += (DAY + 60) * 1000;
    const error = await errorOf(browser.call().loans.list());
    expect(error.data.code).toBe('UNAUTHORIZED');
    expect(browser.jar.clears).toContain('session');
    expect(h.recorder.rejected).toEqual([{ cookie: 'session', reason: 'expired' }]);
    expect(me.username).toBeTruthy();
  });

  it('dates the cookies by the request clock (deps.now)', async () => {
    h.clock = Date.now() - 3 * DAY * 1000;
    const browser = h.browser();
    await logIn(browser, demo);
    const now = secs(h.clock);
    const session = openCookie(h.deps.cookieKeys, browser.jar.get('session'), {
      pur: 'session',
      ttl: DAY,
      now,
    });
    expect(session).toMatchObject({ ok: true, issuedAt: now });
    await expect(browser.call().account.me()).resolves.toMatchObject({ keysSource: 'cookie' });
  });

  it('slides a remembered session: renewed while in use, never past 90 days from login', async () => {
    const browser = h.browser();
    await logIn(browser, demo, true);
    const loginAt = secs(h.clock);
    for (let day = 20; day <= 80; day += 20) {
      h.clock += 20 * DAY * 1000;
      browser.jar.startRequest();
      await expect(browser.call().loans.list()).resolves.toEqual([]);
      // Renewed: sealed as of now, its Max-Age the idle limit (or what is left of the cap, when less).
      const renewed = browser.jar.setOf('session');
      expect(renewed).toMatchObject({ persistent: true, maxAge: Math.min(30 * DAY, (90 - day) * DAY) });
      const opened = openCookie(h.deps.cookieKeys, renewed?.value, {
        pur: 'session',
        ttl: DAY,
        now: secs(h.clock),
      });
      expect(opened).toMatchObject({ ok: true, issuedAt: secs(h.clock), payload: { iat: loginAt } });
    }
    h.clock += 11 * DAY * 1000; // day 91: in use all along, but past the cap
    await expect(browser.call().account.me()).resolves.toBeNull();
    expect(h.recorder.rejected).toContainEqual({ cookie: 'session', reason: 'expired' });
  });

  it('ends a remembered session after 30 days without a request', async () => {
    const browser = h.browser();
    await logIn(browser, demo, true);
    h.clock += 29 * DAY * 1000;
    await expect(browser.call().account.me()).resolves.toMatchObject({ email: demo.email });
    h.clock += 31 * DAY * 1000; // 31 days after that use (renewed then)
    await expect(browser.call().account.me()).resolves.toBeNull();
    expect(h.recorder.rejected).toContainEqual({ cookie: 'session', reason: 'expired' });
    expect(browser.jar.get('session')).toBeUndefined();
    expect(browser.jar.get('s3')).toBeUndefined();
  });

  it('refuses a tampered session cookie', async () => {
    const browser = h.browser();
    await logIn(browser, demo);
    const token = browser.jar.get('session') ?? '';
    const middle = Math.floor(token.length / 2);
    browser.jar.values.set(
      'session',
      token.slice(0, middle) + (token[middle] === 'A' ? 'B' : 'A') + token.slice(middle + 1),
    );
    const error = await errorOf(browser.call().loans.list());
    expect(error.data.code).toBe('UNAUTHORIZED');
    expect(browser.jar.clears).toContain('session');
    expect(h.recorder.rejected.map((r) => r.cookie)).toEqual(['session']);
  });

  it('refuses an s3 cookie in place of the session cookie', async () => {
    const browser = h.browser();
    const me = await logIn(browser, demo);
    browser.jar.values.set('session', browser.jar.get('s3') ?? '');
    await expect(browser.call().account.me()).resolves.toBeNull();
    expect(h.recorder.rejected).toEqual([{ cookie: 'session', reason: 'wrong_purpose' }]);
    expect(me).toBeTruthy();
  });

  it('ends the session with s3_keys_missing when there are no keys anywhere', async () => {
    const browser = h.browser();
    const me = await logIn(browser, demo);
    browser.jar.values.delete('s3');
    h.recorder.reset();
    const error = await errorOf(browser.call().loans.borrow({ identifier: 'prideandprejudic00aust' }));
    expect(error.data).toMatchObject({ code: 'UNAUTHORIZED', appCode: 's3_keys_missing' });
    expect(browser.jar.clears).toContain('session');
    expect(browser.jar.get('session')).toBeUndefined();
    expect(h.recorder.sources).toEqual(['none']);
    const again = h.browser();
    again.jar.values.set(
      'session',
      await sessionCookie(h.deps.cookieKeys, me.username, false, secs(h.clock)),
    );
    await expect(again.call().account.me()).resolves.toMatchObject({ keysSource: 'none' });
  });
});

describe('a session from before the change (keys in the store, no s3 cookie)', () => {
  async function legacySession(remember: boolean): Promise<Browser> {
    const browser = h.browser();
    browser.jar.values.set(
      'session',
      await sessionCookie(h.deps.cookieKeys, legacySeed.username, remember, secs(h.clock)),
    );
    return browser;
  }

  it('borrows through the store fallback and gets the s3 cookie, then stops needing the store', async () => {
    const browser = await legacySession(true);
    const borrowed = await browser.call().loans.borrow({ identifier: 'frankensteinorm00shel' });
    expect(borrowed.loan?.identifier).toBe('frankensteinorm00shel');
    expect(h.recorder.sources).toEqual(['store']);
    // The s3 cookie, and the session again: it now vouches for these keys (their fingerprint).
    expect(browser.jar.sets.map(({ name, persistent }) => ({ name, persistent }))).toEqual([
      { name: 'session', persistent: true },
      { name: 's3', persistent: true },
    ]);
    const s3 = openCookie(h.deps.cookieKeys, browser.jar.get('s3'), {
      pur: 's3',
      sub: legacySeed.username,
      ttl: DAY,
    });
    expect(s3).toMatchObject({ ok: true, payload: legacySeed.s3Keys });

    h.recorder.reset();
    await browser.call().loans.return({ identifier: 'frankensteinorm00shel' });
    expect(h.recorder.sources).toEqual(['cookie']);
    expect(browser.jar.sets).toEqual([]);
  });

  it('re-issues a browser-session cookie for a session that was not remembered', async () => {
    const browser = await legacySession(false);
    await expect(browser.call().account.me()).resolves.toMatchObject({ keysSource: 'store' });
    expect(browser.jar.setOf('s3')?.persistent).toBe(false);
    await expect(browser.call().account.me()).resolves.toMatchObject({ keysSource: 'cookie' });
  });

  const otherKeys = cookieKeys('a-completely-different-secret-of-enough-length');
  const fernet = new Fernet(deriveKey(SECRET));
  type Make = (now: number, sub: string, keys: S3Keys) => string;
  const tamper = (token: string) => token.slice(0, 30) + (token[30] === 'x' ? 'y' : 'x') + token.slice(31);
  const badCookies: [string, Make, string | null][] = [
    ['empty', () => '', null],
    ['garbage', () => 'not-a-token', null],
    ['truncated', (now, sub, keys) => s3Cookie(h.deps.cookieKeys, sub, keys, now).slice(0, -12), null],
    ['tampered', (now, sub, keys) => tamper(s3Cookie(h.deps.cookieKeys, sub, keys, now)), null],
    ['sealed under an unknown secret', (now, sub, keys) => s3Cookie(otherKeys, sub, keys, now), null],
    ['expired', (now, sub, keys) => s3Cookie(h.deps.cookieKeys, sub, keys, now - 2 * DAY), 'expired'],
    ['from the future', (now, sub, keys) => s3Cookie(h.deps.cookieKeys, sub, keys, now + DAY), 'future'],
    [
      'of another user',
      (now) => s3Cookie(h.deps.cookieKeys, 'someone-else', keysOf(reader), now),
      'wrong_subject',
    ],
    [
      'a session cookie',
      (now, sub) => sealCookie(h.deps.cookieKeys, { pur: 'session', sub, rem: false }, { now }),
      'wrong_purpose',
    ],
    ['a JSON array', (now) => fernet.encryptAtTime('[1,2]', now), null],
    [
      'a payload with unknown fields',
      (now, sub, keys) => fernet.encryptAtTime(JSON.stringify({ pur: 's3', sub, ...keys, admin: true }), now),
      null,
    ],
  ];

  it.each(badCookies)(
    'treats an s3 cookie that is %s as absent: falls back to the store',
    async (_kind, make, reason) => {
      const browser = await legacySession(false);
      const bad = make(secs(h.clock), legacySeed.username, legacySeed.s3Keys);
      browser.jar.values.set('s3', bad);
      const loans = await browser.call().loans.list();
      expect(loans).toEqual([]);
      expect(h.recorder.sources).toEqual(['store']);
      expect(h.recorder.rejected).toHaveLength(1);
      expect(h.recorder.rejected[0]?.cookie).toBe('s3');
      if (reason !== null) expect(h.recorder.rejected[0]?.reason).toBe(reason);
      // Re-issued from the store, under the current secret.
      const s3 = openCookie(h.deps.cookieKeys, browser.jar.get('s3'), {
        pur: 's3',
        sub: legacySeed.username,
        ttl: DAY,
      });
      expect(s3).toMatchObject({ ok: true, payload: legacySeed.s3Keys });
      if (bad !== '') expect(JSON.stringify(h.recorder.lines)).not.toContain(bad);
    },
  );

  it.each(badCookies)(
    'with an s3 cookie that is %s and no keys in the store: s3_keys_missing',
    async (_kind, make) => {
      const browser = h.browser();
      const me = await logIn(browser, demo);
      h.recorder.reset();
      browser.jar.values.set('s3', make(secs(h.clock), me.username, keysOf(demo)));
      const error = await errorOf(browser.call().loans.list());
      expect(error.data).toMatchObject({ code: 'UNAUTHORIZED', appCode: 's3_keys_missing' });
      expect(browser.jar.clears).toContain('session');
      expect(h.recorder.sources).toEqual(['none']);
    },
  );
});

describe('secret rotation', () => {
  let rotated: Harness;
  const oldKeys = cookieKeys(OLD_SECRET);
  beforeAll(async () => {
    rotated = await startHarness({ secret: SECRET, previousSecrets: [OLD_SECRET] });
  });
  afterAll(async () => {
    await rotated.close();
  });

  it('accepts cookies sealed under an old secret and re-issues both under the current one', async () => {
    const browser = rotated.browser();
    const me = await logIn(browser, demo, true);
    const issuedAt = secs(rotated.clock) - 3600;
    browser.jar.values.set(
      'session',
      await sessionCookie(oldKeys, me.username, true, issuedAt, rotated.store, demo.access),
    );
    browser.jar.values.set('s3', s3Cookie(oldKeys, me.username, keysOf(demo), issuedAt));

    await expect(browser.call().loans.list()).resolves.toEqual([]);
    expect(
      browser.jar.sets
        .map(({ name, persistent }) => ({ name, persistent }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    ).toEqual([
      { name: 's3', persistent: true },
      { name: 'session', persistent: true },
    ]);
    const current = cookieKeys(SECRET);
    const session = openCookie(current, browser.jar.get('session'), { pur: 'session', ttl: DAY });
    // Rotation does not extend the session: the issue time is kept.
    expect(session).toMatchObject({
      ok: true,
      oldKey: false,
      issuedAt,
      payload: { sub: me.username, rem: true },
    });
    const s3 = openCookie(current, browser.jar.get('s3'), { pur: 's3', sub: me.username, ttl: DAY });
    expect(s3).toMatchObject({ ok: true, oldKey: false, payload: keysOf(demo) });
    expect(rotated.recorder.sources).toContain('cookie');

    browser.jar.startRequest();
    await browser.call().loans.list();
    expect(browser.jar.sets).toEqual([]);
  });
});

describe('S3_COOKIE_FORMAT=openlibrary', () => {
  let ol: Harness;
  beforeAll(async () => {
    ol = await startHarness({ s3CookieFormat: 'openlibrary' });
  });
  afterAll(async () => {
    await ol.close();
  });

  it("writes the s3 cookie in Open Library's format and borrows with it", async () => {
    const browser = ol.browser();
    const me = await logIn(browser, demo);
    const s3 = openCookie(ol.deps.cookieKeys, browser.jar.get('s3'), {
      pur: 's3',
      sub: me.username,
      ttl: DAY,
    });
    expect(s3).toMatchObject({ ok: true, format: 'openlibrary', payload: keysOf(demo) });
    await expect(browser.call().loans.borrow({ identifier: 'timemachine00well' })).resolves.toMatchObject({
      ok: true,
    });
    expect(ol.recorder.sources).toEqual(['cookie']);
  });
});

describe('a login that yields no keys', () => {
  class NoKeysArchive extends ArchiveClient {
    // archive.org's issue_key can answer without a key; the stand-in always has one.
    override issueKey(): Promise<null> {
      return Promise.resolve(null);
    }
  }
  let noKeys: Harness;
  beforeAll(async () => {
    noKeys = await startHarness({ archiveClient: (options) => new NoKeysArchive(options) });
  });
  afterAll(async () => {
    await noKeys.close();
  });

  it('deletes a stale s3 cookie, so that no earlier keys are used', async () => {
    const browser = noKeys.browser();
    browser.jar.values.set(
      's3',
      s3Cookie(noKeys.deps.cookieKeys, 'previous-user', keysOf(reader), secs(noKeys.clock)),
    );
    const me = await logIn(browser, demo);
    expect(me.keysSource).toBe('none');
    expect(browser.jar.sets.map((set) => set.name)).toEqual(['session']);
    expect(browser.jar.clears).toEqual(['s3']);
    expect(browser.jar.get('s3')).toBeUndefined();

    const error = await errorOf(browser.call().loans.borrow({ identifier: 'prideandprejudic00aust' }));
    expect(error.data).toMatchObject({ code: 'UNAUTHORIZED', appCode: 's3_keys_missing' });
    expect(browser.jar.clears).toContain('session');
  });
});

describe('archive.org not answering', () => {
  let slow: Harness;
  beforeAll(async () => {
    slow = await startHarness({ archiveTimeoutMs: 300 });
  });
  afterAll(async () => {
    await slow.close();
  });
  afterEach(() => {
    slow.archiveState.fault = null;
  });

  it('gives archive_unavailable within the timeout', async () => {
    slow.archiveState.fault = { kind: 'hang' };
    const started = Date.now();
    const error = await errorOf(logIn(slow.browser(), demo));
    expect(error.data).toMatchObject({ code: 'SERVICE_UNAVAILABLE', appCode: 'archive_unavailable' });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('database not answering', () => {
  it('answers SERVICE_UNAVAILABLE without the driver message', async () => {
    const down = await startHarness();
    try {
      const browser = down.browser();
      await logIn(browser, demo);
      await down.store.close();
      const error = await errorOf(browser.call().account.me());
      expect(error.data).toMatchObject({ code: 'SERVICE_UNAVAILABLE', httpStatus: 503 });
      expect(error.message).not.toMatch(/sqlite|connection/i);
      expect(error.data.appCode).toBe('database_unavailable');
      const log = await failureLogOf(browser.call().account.me());
      expect(log).toMatchObject({ level: 'error', fields: { appCode: 'database_unavailable' } });
      expect(log.fields.causes[1]?.message).toMatch(/database connection is not open/);
    } finally {
      await down.close().catch(() => undefined);
    }
  });
});
