// ArchiveClient against scripted answers: what the stand-in never sends (redirects, odd shapes, IA's variants).
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors';
import { ArchiveClient } from './client';

interface Call {
  url: string;
  method: string;
  headers: Headers;
  body: string;
}

function scripted(answer: (call: Call) => Response | Promise<Response>) {
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
    timeoutMs: 1000,
    fetch: fakeFetch,
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
    expect(await codeOf(client.userLoans({ access: 1, secret: 2 } as never))).toBe('invalid_s3keys');
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
    [400, 'lending_limit'],
    [409, 'lending_limit'],
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
    expect(JSON.parse(ok.calls[0]!.body)).toMatchObject({
      key_type: 's3',
      email: 'a@b.co',
      issuer_token: 't',
    });
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
