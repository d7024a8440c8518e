// ArchiveClient against scripted answers: what the stand-in never sends (redirects, odd shapes, IA's variants).
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors';
import { ArchiveClient } from './client';
import { CallBudget } from './gate';

interface Call {
  url: string;
  method: string;
  headers: Headers;
  body: string;
}

function scripted(
  answer: (call: Call) => Response | Promise<Response>,
  options: Partial<ConstructorParameters<typeof ArchiveClient>[0]> = {},
) {
  const calls: Call[] = [];
  const fakeFetch: typeof fetch = async (input, init) => {
    const body = init?.body;
    const call: Call = {
      url: input instanceof Request ? input.url : input.toString(),
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body: body instanceof URLSearchParams ? body.toString() : typeof body === 'string' ? body : '',
    };
    calls.push(call);
    return answer(call);
  };
  const client = new ArchiveClient({
    baseUrl: 'https://archive.example/prefix/',
    serviceAccess: 'SVCACCESS',
    serviceSecret: 'SVCSECRET',
    loanApiToken: 'LOANAPITOKEN-0123456789',
    timeoutMs: 1000,
    fetch: fakeFetch,
    ...options,
  });
  return { client, calls };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const keys = { access: 'PATRONACCESS', secret: 'PATRONSECRET' };

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) {
      expect(`${error.message} ${error.detail}`).not.toContain(keys.secret);
      expect(`${error.message} ${error.detail}`).not.toContain('SVCSECRET');
      return error.code;
    }
    throw error;
  }
  return 'resolved';
}

describe('ArchiveClient requests', () => {
  it('xauthn: POST to the op with service keys in the JSON body, email trimmed and lower-cased', async () => {
    const { client, calls } = scripted(() => json({ success: true, version: 1, values: { token: 't' } }));
    await client.authenticate('  Patron@Example.ORG ', 'pw');
    expect(calls[0]!.url).toBe('https://archive.example/prefix/services/xauthn/?op=authenticate');
    expect(calls[0]!.method).toBe('POST');
    expect(JSON.parse(calls[0]!.body)).toEqual({
      email: 'patron@example.org',
      password: 'pw',
      access: 'SVCACCESS',
      secret: 'SVCSECRET',
    });
  });

  it('loans: identifier and action URL-encoded; keys only in the form body', async () => {
    const { client, calls } = scripted(() => json({ success: true }));
    await client.loan(keys, 'odd id&action=return_loan#x', 'borrow_book');
    const url = new URL(calls[0]!.url);
    expect(url.pathname).toBe('/prefix/services/loans/loan/');
    expect(url.searchParams.getAll('identifier')).toEqual(['odd id&action=return_loan#x']);
    expect(url.searchParams.getAll('action')).toEqual(['borrow_book']);
    expect(calls[0]!.url).not.toContain(keys.access);
    expect(calls[0]!.url).not.toContain(keys.secret);
    expect(new URLSearchParams(calls[0]!.body).get('secret')).toBe(keys.secret);
  });

  it('s3auth: the LOW authorization header, nothing in the URL', async () => {
    const { client, calls } = scripted(() =>
      json({ authorized: true, username: 'p@example.org', itemname: '@p', screenname: null }),
    );
    expect(await client.s3auth(keys)).toEqual({
      authorized: true,
      email: 'p@example.org',
      itemname: '@p',
      screenname: null,
    });
    expect(calls[0]!.headers.get('authorization')).toBe(`LOW ${keys.access}:${keys.secret}`);
    expect(calls[0]!.url).toBe('https://archive.example/prefix/services/s3auth/');
  });

  it('malformed patron keys never leave the process', async () => {
    const { client, calls } = scripted(() => json({}));
    expect(await client.s3auth({ access: 'a:b', secret: 'x' })).toMatchObject({ authorized: false });
    expect(await codeOf(client.loan({ access: 'a', secret: 'line\nbreak' }, 'x', 'borrow_book'))).toBe(
      'invalid_s3keys',
    );
    expect(await codeOf(client.history({ access: 1, secret: 2 } as never, { limit: 1, offset: 0 }))).toBe(
      'invalid_s3keys',
    );
    expect(calls).toHaveLength(0);
  });

  it('refuses a non-http base URL at construction', () => {
    expect(() => new ArchiveClient({ baseUrl: 'ftp://x', serviceAccess: 'a', serviceSecret: 'b' })).toThrow(
      TypeError,
    );
    expect(
      () => new ArchiveClient({ baseUrl: 'not a url', serviceAccess: 'a', serviceSecret: 'b' }),
    ).toThrow();
  });
});

describe('ArchiveClient answers', () => {
  it.each([
    ['5xx', () => json({ error: 'x' }, 502)],
    [
      'redirect',
      () => new Response(null, { status: 302, headers: { location: 'https://elsewhere.example/' } }),
    ],
    ['HTML', () => new Response('<html>maintenance</html>', { status: 200 })],
    ['empty body', () => new Response('', { status: 200 })],
    ['wrong shape', () => json({ ok: 'yes' })],
    ['failure without values (the original KeyError)', () => json({ success: false })],
  ])('%s -> archive_unavailable', async (_name, answer) => {
    const { client } = scripted(answer);
    expect(await codeOf(client.authenticate('p@example.org', 'pw'))).toBe('archive_unavailable');
  });

  it('a fetch that throws (refused, reset, timeout) -> archive_unavailable with a detail', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const { client } = scripted(() => Promise.reject(refused));
    const error = await client.searchBooks().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      code: 'archive_unavailable',
      detail: 'advancedsearch: connection failed (ECONNREFUSED)',
      // The fetch error stays attached for the log's cause chain.
      cause: refused,
    });
    const timeout = scripted(() => Promise.reject(new DOMException('timed out', 'TimeoutError')));
    await expect(timeout.client.ping()).rejects.toMatchObject({
      detail: expect.stringContaining('timed out') as unknown,
    });
  });

  it('xauthn 403 is a configuration error (archive_misconfigured), on every op', async () => {
    const { client } = scripted(() => json({ success: false, error: 'security_error' }, 403));
    expect(await codeOf(client.authenticate('a@b.co', 'x'))).toBe('archive_misconfigured');
    expect(await codeOf(client.info({ email: 'a@b.co' }))).toBe('archive_misconfigured');
    expect(await codeOf(client.issueKey({ token: 't' }))).toBe('archive_misconfigured');
  });

  it.each([
    [400, 'item_locked'],
    [409, 'item_locked'],
    [401, 'invalid_s3keys'],
    [403, 'invalid_s3keys'],
    [404, 'not_found'],
    [418, 'archive_unavailable'],
    [500, 'archive_unavailable'],
  ])('loans HTTP %i -> %s (with or without a JSON body)', async (status, code) => {
    for (const body of [JSON.stringify({ error: 'some_code' }), '<html>no</html>']) {
      const { client } = scripted(() => new Response(body, { status }));
      expect(await codeOf(client.loan(keys, 'book', 'borrow_book'))).toBe(code);
    }
  });

  it.each([
    [400, 'loan_limit_reached', 'lending_limit'],
    [409, 'loan_limit_reached', 'lending_limit'],
    [400, 'print_disabled_only', 'print_disabled_only'],
    [409, 'no_copies_available', 'item_locked'],
    [403, 'account_locked', 'account_locked'],
  ])('loans HTTP %i {error: %s} -> %s: the refusal says why', async (status, error, code) => {
    const { client } = scripted(() => json({ error }, status));
    expect(await codeOf(client.loan(keys, 'book', 'borrow_book'))).toBe(code);
  });

  it.each([
    ['{success:true}', () => json({ success: true })],
    ['an empty object', () => json({})],
    ['{success:false}', () => json({ success: false })],
    ['HTML', () => new Response('<html>done</html>', { status: 200 })],
    ['204 without a body', () => new Response(null, { status: 204 })],
  ])('a loans action answered 2xx with %s is done, as Open Library judges it', async (_name, answer) => {
    const { client } = scripted(answer);
    await expect(client.loan(keys, 'book', 'borrow_book')).resolves.toBeUndefined();
    await expect(client.loan(keys, 'book', 'return_loan')).resolves.toBeUndefined();
  });

  it('a loans error detail holds the server code, never other text', async () => {
    const { client } = scripted(() => json({ error: `leaked ${keys.secret}` }, 400));
    const error = (await client.loan(keys, 'book', 'borrow_book').catch((e: unknown) => e)) as AppError;
    expect(error.detail).toBe('loans borrow_book: HTTP 400 no error code');
  });

  it('authenticate: legacy keys and null fields are read; failure reason passed on', async () => {
    const legacy = scripted(() =>
      json({ success: true, version: 1, values: { access: 'A', secret: 'S', screenname: null } }),
    );
    expect(await legacy.client.authenticate('a@b.co', 'x')).toEqual({
      success: true,
      values: { access: 'A', secret: 'S' },
    });
    const failed = scripted(() => json({ success: false, values: { reason: 'account_not_found' } }));
    expect(await failed.client.authenticate('a@b.co', 'x')).toEqual({
      success: false,
      values: { reason: 'account_not_found' },
    });
  });

  it('info: an unknown account (success false) is null', async () => {
    expect(
      await scripted(() => json({ success: false, values: { reason: 'x' } })).client.info({ itemname: '@x' }),
    ).toBeNull();
    const found = scripted(() =>
      json({
        success: true,
        values: { email: 'a@b.co', itemname: '@a', screenname: 'A', verified: true, locked: false },
      }),
    );
    expect(await found.client.info({ email: 'a@b.co' })).toEqual({
      email: 'a@b.co',
      itemname: '@a',
      screenname: 'A',
      verified: true,
      locked: false,
      hasDisabilityAccess: false,
    });
  });

  it('info: a value the store could not hold is an unexpected shape', async () => {
    const { client } = scripted(() =>
      json({
        success: true,
        values: { email: 'a@b.co', itemname: '@a\u0000', screenname: 'A', verified: true, locked: false },
      }),
    );
    expect(await codeOf(client.info({ email: 'a@b.co' }))).toBe('archive_unavailable');
  });

  it('issueKey: top-level s3 keys, or null when refused', async () => {
    const ok = scripted(() =>
      json({ success: true, version: 1, s3: { access: 'A', secret: 'S' }, ttl: 3600 }),
    );
    expect(await ok.client.issueKey({ email: 'a@b.co', token: 't' })).toEqual({ access: 'A', secret: 'S' });
    const sent = JSON.parse(ok.calls[0]!.body) as Record<string, unknown>;
    // archive.org reads `issuer_token` (OL #13086); the old name is refused.
    expect(sent).toMatchObject({ key_type: 's3', email: 'a@b.co', issuer_token: 't' });
    expect(sent).not.toHaveProperty('token');
    const refused = scripted(() => json({ success: false, values: { reason: 'invalid_token' } }, 401));
    expect(await refused.client.issueKey({ token: 't' })).toBeNull();
  });

  it("searchBooks: reads IA's variants (arrays, string years) and skips docs without an identifier", async () => {
    const { client, calls } = scripted(() =>
      json({
        response: {
          numFound: 4,
          docs: [
            { identifier: 'a', title: 'A', creator: ['X', 'Y'], year: '1851' },
            { identifier: 'b', title: ['B', 'B2'], year: 'circa 1900' },
            { title: 'no identifier' },
            { identifier: 'c' },
          ],
        },
      }),
    );
    expect(await client.searchBooks({ rows: 10 })).toEqual([
      { identifier: 'a', title: 'A', creator: 'X; Y', year: 1851 },
      { identifier: 'b', title: 'B', creator: '', year: null },
      { identifier: 'c', title: 'c', creator: '', year: null },
    ]);
    const url = new URL(calls[0]!.url);
    expect(url.searchParams.get('q')).toBe('collection:(inlibrary OR printdisabled)');
    expect(url.searchParams.getAll('fl[]')).toEqual(['identifier', 'title', 'creator', 'year']);
    expect(url.searchParams.get('rows')).toBe('10');
    expect(url.searchParams.get('output')).toBe('json');
    await expect(client.searchBooks({ rows: -1 })).rejects.toBeInstanceOf(RangeError);
  });

  it('history: limit/offset as form fields; missing title/action tolerated; bad paging refused', async () => {
    const { client, calls } = scripted(() =>
      json({ history: { items: [{ identifier: 'a', updatedate: '2026-01-01T00:00:00Z' }] } }),
    );
    expect(await client.history(keys, { limit: 11, offset: 20 })).toEqual([
      { identifier: 'a', title: null, action: 'unknown', updatedate: '2026-01-01T00:00:00Z' },
    ]);
    const form = new URLSearchParams(calls[0]!.body);
    expect([form.get('limit'), form.get('offset')]).toEqual(['11', '20']);
    await expect(client.history(keys, { limit: 0, offset: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(client.history(keys, { limit: 1.5, offset: 0 })).rejects.toBeInstanceOf(RangeError);
  });
});

describe('ArchiveClient: the lending API, availability v2, the catalogue', () => {
  it('loansOf: loan.query with the shared token and the itemname as form fields, no patron keys', async () => {
    const { client, calls } = scripted((call) =>
      new URL(call.url).pathname.endsWith('advancedsearch.php')
        ? json({ response: { numFound: 1, docs: [{ identifier: 'b1', title: 'Book One' }] } })
        : json({
            status: 'ok',
            result: [
              { id: 7, identifier: 'b1', created: '2026-06-25 16:57:45', until: '2026-07-09 16:57:45' },
              { id: 8, identifier: 'b2', created: '2026-06-25 16:00:00', until: '2026-06-25 17:00:00' },
            ],
          }),
    );
    expect(await client.loansOf('@patron')).toEqual([
      {
        identifier: 'b1',
        id: '7',
        title: 'Book One',
        type: 'borrow',
        created: '2026-06-25T16:57:45.000Z',
        until: '2026-07-09T16:57:45.000Z',
      },
      {
        identifier: 'b2',
        id: '8',
        title: null,
        type: 'browse',
        created: '2026-06-25T16:00:00.000Z',
        until: '2026-06-25T17:00:00.000Z',
      },
    ]);
    expect(calls[0]!.url).toBe('https://archive.example/prefix/services/openlibrary.php');
    expect(calls[0]!.method).toBe('POST');
    expect(Object.fromEntries(new URLSearchParams(calls[0]!.body))).toEqual({
      method: 'loan.query',
      token: 'LOANAPITOKEN-0123456789',
      userid: '@patron',
    });
    expect(calls[0]!.headers.get('authorization')).toBeNull();
  });

  it('loansOf: a refused token is archive_misconfigured; none configured, nothing is sent', async () => {
    const refused = scripted(() => json({ status: 'error', error: 'unauthorized' }, 403));
    expect(await codeOf(refused.client.loansOf('@p'))).toBe('archive_misconfigured');
    const none = scripted(() => json({}), { loanApiToken: undefined });
    expect(await codeOf(none.client.loansOf('@p'))).toBe('archive_misconfigured');
    expect(none.calls).toHaveLength(0);
  });

  it('availabilityOf: one GET for the page, LOW service keys, cached per identifier', async () => {
    const entry = (id: string, borrow: boolean) => ({
      status: borrow ? 'borrow_available' : 'borrow_unavailable',
      identifier: id,
      is_lendable: true,
      available_to_borrow: borrow,
      available_to_browse: borrow,
      available_to_waitlist: !borrow,
      num_waitlist: borrow ? '0' : '2',
    });
    const { client, calls } = scripted((call) => {
      const ids = new URL(call.url).searchParams.get('identifier')!.split(',');
      return json({
        success: true,
        responses: Object.fromEntries(
          ids.map((id) => [
            id,
            id === 'gone' ? { status: 'error', error_message: 'not found' } : entry(id, id !== 'b'),
          ]),
        ),
      });
    });
    const found = await client.availabilityOf(['a', 'b', 'gone']);
    expect(calls).toHaveLength(1);
    const url = new URL(calls[0]!.url);
    expect(url.pathname).toBe('/prefix/services/availability/');
    expect(url.searchParams.get('identifier')).toBe('a,b,gone');
    expect(url.searchParams.get('scope')).toBe('printdisabled');
    expect(calls[0]!.method).toBe('GET');
    expect(calls[0]!.headers.get('authorization')).toBe('LOW SVCACCESS:SVCSECRET');
    expect(found.get('b')).toEqual({
      status: 'borrow_unavailable',
      isLendable: true,
      isPrintDisabled: false,
      availableToBorrow: false,
      availableToBrowse: false,
      availableToWaitlist: true,
      waitlistLength: 2,
    });
    expect(found.has('gone')).toBe(false);
    // Cached: only the new identifier is asked; a loan action forgets its book.
    await client.availabilityOf(['a', 'b', 'c']);
    expect(new URL(calls[1]!.url).searchParams.get('identifier')).toBe('c');
    await client.loan(keys, 'a', 'borrow_book').catch(() => undefined);
    const before = calls.length;
    await client.availabilityOf(['a', 'b']);
    expect(new URL(calls[before]!.url).searchParams.get('identifier')).toBe('a');
  });

  it('identical concurrent lookups share one call (single-flight); searches are cached briefly', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { client, calls } = scripted(async (call) => {
      await gate;
      if (new URL(call.url).pathname.endsWith('advancedsearch.php')) {
        return json({ response: { numFound: 1, docs: [{ identifier: 'a', title: 'A' }] } });
      }
      return json({
        success: true,
        responses: { a: { status: 'borrow_available', available_to_borrow: true } },
      });
    });
    const pages = Promise.all(
      Array.from({ length: 10 }, () => client.searchCatalogue({ query: 'moby', page: 2 })),
    );
    const statuses = Promise.all(Array.from({ length: 10 }, () => client.availabilityOf(['a'])));
    release();
    const [allPages, allStatuses] = await Promise.all([pages, statuses]);
    expect(new Set(allPages.map((page) => page.books[0]?.identifier))).toEqual(new Set(['a']));
    expect(allStatuses.every((found) => found.get('a')?.availableToBorrow)).toBe(true);
    expect(calls).toHaveLength(2);
    const search = new URL(calls.find((call) => call.url.includes('advancedsearch'))!.url);
    expect(search.searchParams.get('q')).toBe(
      'collection:(inlibrary OR printdisabled) AND (title:moby* OR creator:moby*)',
    );
    expect(search.searchParams.get('page')).toBe('2');
    await client.searchCatalogue({ query: 'moby', page: 2 });
    expect(calls).toHaveLength(2);
  });

  it('searchCatalogue: a query with nothing searchable asks nothing; words cannot inject syntax', async () => {
    const { client, calls } = scripted(() => json({ response: { numFound: 0, docs: [] } }));
    expect(await client.searchCatalogue({ query: '🐉 ***' })).toEqual({ books: [], total: 0 });
    expect(calls).toHaveLength(0);
    await client.searchCatalogue({ query: 'a") OR collection:(x' });
    expect(new URL(calls[0]!.url).searchParams.get('q')).toBe(
      'collection:(inlibrary OR printdisabled) AND (title:a* OR creator:a*) AND (title:or* OR creator:or*) AND (title:collection* OR creator:collection*) AND (title:x* OR creator:x*)',
    );
  });

  it('a full queue is refused at once with archive_busy, never piled up', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { client, calls } = scripted(
      async () => {
        await held;
        return json({ response: { numFound: 0, docs: [] } });
      },
      { limits: { maxConcurrent: 2, maxQueue: 3, queueTimeoutMs: 5000 } },
    );
    const running = Array.from({ length: 5 }, (_, n) => client.searchBooks({ rows: n + 1 }));
    const refused = await client.searchBooks({ rows: 9 }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'archive_busy', retryAfterSeconds: 1 });
    expect(client.gate.load).toEqual({ active: 2, queued: 3 });
    release();
    await Promise.all(running);
    expect(calls).toHaveLength(5);
    expect(client.gate.load).toEqual({ active: 0, queued: 0 });
  });

  it('a call that waits too long for a slot is refused with archive_busy', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { client } = scripted(
      async () => {
        await held;
        return json({ response: { numFound: 0, docs: [] } });
      },
      { limits: { maxConcurrent: 1, maxQueue: 10, queueTimeoutMs: 50 } },
    );
    const first = client.searchBooks({ rows: 1 });
    expect(await client.searchBooks({ rows: 2 }).catch((e: unknown) => e)).toMatchObject({
      code: 'archive_busy',
    });
    release();
    await first;
  });

  it('a request spends at most its budget of calls; other requests and the client itself keep theirs', async () => {
    const { client, calls } = scripted(() => json({ response: { numFound: 0, docs: [] } }));
    const budget = new CallBudget(3);
    const request = client.withBudget(budget);
    for (let n = 1; n <= 3; n++) await request.searchBooks({ rows: n });
    expect(await request.searchBooks({ rows: 4 }).catch((e: unknown) => e)).toMatchObject({
      code: 'archive_busy',
    });
    expect(calls).toHaveLength(3);
    expect(budget.spent).toBe(3);
    // The same client, another request's view: a budget of its own; the client without a view is unbounded.
    await client.withBudget(new CallBudget(1)).searchBooks({ rows: 5 });
    for (let n = 6; n <= 9; n++) await client.searchBooks({ rows: n });
    expect(calls).toHaveLength(8);
  });

  it("a request's view shares the client's caches and its loan-action count", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { client, calls } = scripted(async (call) => {
      if (!call.url.includes('availability')) return json({ success: true });
      if (new URL(call.url).searchParams.get('identifier') === 'a') await gate;
      return json({ responses: { a: { status: 'borrow_available', available_to_borrow: true } } });
    });
    const availability = () => calls.filter((call) => call.url.includes('availability')).length;
    await client.withBudget(new CallBudget(10)).availabilityOf(['b']);
    // One request's answer is in flight while another request lends the book: that answer is not kept.
    const asked = client.withBudget(new CallBudget(10)).availabilityOf(['a']);
    await client.withBudget(new CallBudget(10)).loan(keys, 'a', 'borrow_book');
    release();
    expect((await asked).get('a')?.availableToBorrow).toBe(true);
    await client.withBudget(new CallBudget(10)).availabilityOf(['a']);
    expect(availability()).toBe(3);
    // A view's answer, asked after the loan, is the client's cache for every later view.
    await client.withBudget(new CallBudget(10)).availabilityOf(['a']);
    await client.availabilityOf(['a']);
    expect(availability()).toBe(3);
  });

  it('each service at its own configured URL', async () => {
    const { client, calls } = scripted(
      (call) =>
        call.url.includes('avail')
          ? json({ responses: {} })
          : call.url.includes('lend')
            ? json({ status: 'ok', result: [] })
            : json({ success: true }),
      {
        endpoints: {
          loans: 'https://loans.example/l/',
          lendingApi: 'https://lend.example/api.php',
          availability: 'https://avail.example/v2/',
        },
      },
    );
    await client.loan(keys, 'a', 'return_loan');
    await client.loansOf('@p');
    await client.availabilityOf(['a']);
    expect(calls.map((call) => call.url.split('?')[0])).toEqual([
      'https://loans.example/l/',
      'https://lend.example/api.php',
      'https://avail.example/v2/',
    ]);
  });
});
