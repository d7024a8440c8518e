// The catalogue and loans paths over real HTTP against the stand-in (strict, full catalogue), with a recording
// proxy between the server and the stand-in: what Lending sends to archive.org (issue 14 §1), and what one request
// may cost (issue 13 §1).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO_SERVICE_KEYS, defaultFixture, demoPatrons, startArchive } from '@lending/archive';
import type { RunningArchive } from '@lending/archive';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BATCH_SIZE } from '../src/work-bounds';
import { Client, dataOf, errorOf, startStack } from './helpers';
import type { Stack } from './helpers';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A proxy in front of the stand-in that records every request and can rewrite an answer's body. */
async function recordingProxy(target: string) {
  const seen: Seen[] = [];
  const rewrites: { match: (request: Seen) => boolean; body: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const request: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: body.toString(),
      };
      seen.push(request);
      const upstream = http.request(
        `${target}${req.url ?? ''}`,
        { method: req.method, headers: { ...req.headers, host: new URL(target).host } },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => parts.push(chunk));
          answer.on('end', () => {
            const rewrite = rewrites.find((candidate) => candidate.match(request));
            const out = rewrite ? Buffer.from(rewrite.body) : Buffer.concat(parts);
            const headers = { ...answer.headers, 'content-length': String(out.length) };
            res.writeHead(answer.statusCode ?? 502, headers).end(out);
          });
        },
      );
      upstream.on('error', () => res.writeHead(502).end());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    rewrites,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const [demo, reader] = demoPatrons();
const fullBooks = defaultFixture({ catalogue: 'full' }).books;
const lendable = fullBooks.filter((book) => book.collections.includes('inlibrary'));
// What the catalogue lists: the lendable books and those lent only to print-disabled patrons.
const listed = fullBooks.filter(
  (book) => book.collections.includes('inlibrary') || book.collections.includes('printdisabled'),
);
const pdOnly = fullBooks.find((book) => !book.collections.includes('inlibrary'))!;
const withCopies = (n: number) => lendable.filter((book) => book.copies >= n).map((book) => book.identifier);
const single = lendable.find((book) => book.copies === 1)!.identifier;

let archive: RunningArchive;
let proxy: Awaited<ReturnType<typeof recordingProxy>>;
let stack: Stack;

beforeAll(async () => {
  archive = await startArchive({ port: 0, catalogue: 'full', strictProtocol: true });
  proxy = await recordingProxy(archive.url);
  // Many logins and anonymous calls from one address in this file: the login limit and the anonymous-traffic
  // limit (limits.test.ts) are not what it tests; here the bounds on upstream work must hold by themselves.
  stack = await startStack({
    archiveUrl: proxy.url,
    env: { ANONYMOUS_RATE: '0' },
    overrides: { loginLimits: { perIp: 1000, perEmail: 1000 } },
  });
});
afterAll(async () => {
  await stack.close();
  await proxy.close();
  await archive.close();
});
afterEach(() => {
  archive.state.reset();
  archive.state.latencyMs = 0;
  proxy.seen.length = 0;
  proxy.rewrites.length = 0;
});

async function loggedIn(patron = demo!): Promise<Client> {
  const client = new Client(stack.url);
  expect((await client.login(patron.email, patron.password)).status).toBe(200);
  return client;
}

interface Page {
  books: {
    identifier: string;
    yourLoan: string | null;
    availability: { borrow: boolean };
    printDisabledOnly: boolean;
  }[];
  page: number;
  pageSize: number;
  total: number;
  pages: number;
}

const seenAt = (path: string) => proxy.seen.filter((request) => request.url.startsWith(path));

describe('the protocol as Open Library speaks it', () => {
  it('books.list: one search and ONE availability call per page, with the service keys, never the patron’s', async () => {
    const client = await loggedIn();
    proxy.seen.length = 0;
    const reply = await client.query('books.list', { pageSize: 100 });
    expect(reply.status).toBe(200);
    const page = dataOf<Page>(reply);
    expect(page.books).toHaveLength(100);

    const availability = seenAt('/services/availability/');
    expect(availability).toHaveLength(1);
    const asked = new URL(availability[0]!.url, 'http://x').searchParams;
    expect(asked.get('identifier')!.split(',').sort()).toEqual(page.books.map((b) => b.identifier).sort());
    expect(asked.get('scope')).toBe('printdisabled');
    expect(availability[0]!.method).toBe('GET');
    expect(availability[0]!.headers.authorization).toBe(
      `LOW ${DEMO_SERVICE_KEYS.access}:${DEMO_SERVICE_KEYS.secret}`,
    );
    expect(seenAt('/advancedsearch.php')).toHaveLength(1);
    // No call of the page carries the patron's keys, in any header, URL or body.
    for (const request of proxy.seen) {
      expect(JSON.stringify(request)).not.toContain(demo!.access);
      expect(JSON.stringify(request)).not.toContain(demo!.secret);
    }
    // The per-book loans API is not asked at all.
    expect(seenAt('/services/loans/loan/')).toHaveLength(0);
  });

  it('paging reaches the whole catalogue, past the first 100 books, print-disabled-only books included', async () => {
    const client = new Client(stack.url);
    const first = dataOf<Page>(await client.query('books.list', { pageSize: 100, page: 1 }));
    const second = dataOf<Page>(await client.query('books.list', { pageSize: 100, page: 2 }));
    expect(listed.length).toBeGreaterThan(lendable.length);
    expect(first.total).toBe(listed.length);
    expect(first.pages).toBe(2);
    expect(second.books).toHaveLength(listed.length - 100);
    const ids = new Set([...first.books, ...second.books].map((book) => book.identifier));
    expect(ids).toEqual(new Set(listed.map((book) => book.identifier)));
    // Marked, and not offered to a visitor (OL's rule, from availability v2's is_printdisabled / is_lendable).
    const marked = [...first.books, ...second.books].filter((book) => book.printDisabledOnly);
    expect(new Set(marked.map((book) => book.identifier))).toEqual(
      new Set(listed.filter((book) => !lendable.includes(book)).map((book) => book.identifier)),
    );
    expect(marked.every((book) => !book.availability.borrow)).toBe(true);
    const beyond = dataOf<Page>(await client.query('books.list', { pageSize: 100, page: 3 }));
    expect(beyond.books).toEqual([]);
    const bad = await client.query('books.list', { pageSize: 101 });
    expect(bad.status).toBe(400);
  });

  it('loans.list and the lookup after a borrow use loan.query with the service token, not ?action=user_loans', async () => {
    const client = await loggedIn();
    const identifier = withCopies(2)[0]!;
    const borrowed = await client.mutate('loans.borrow', { identifier });
    expect(borrowed.status).toBe(200);
    expect(dataOf<{ loan: { identifier: string; type: string } }>(borrowed).loan).toMatchObject({
      identifier,
      type: 'borrow',
    });
    const listed = await client.query('loans.list');
    expect(dataOf<{ identifier: string }[]>(listed).map((loan) => loan.identifier)).toEqual([identifier]);

    const queries = seenAt('/services/openlibrary.php');
    expect(queries.length).toBeGreaterThanOrEqual(2);
    for (const query of queries) {
      expect(query.method).toBe('POST');
      expect(Object.fromEntries(new URLSearchParams(query.body))).toEqual({
        method: 'loan.query',
        token: stack.config.archive.loanApiToken,
        userid: '@demo_patron',
      });
    }
    expect(proxy.seen.some((request) => request.url.includes('user_loans'))).toBe(false);
    expect(archive.calls.get('loans.user_loans')).toBe(0);
  });

  it('a borrow answered 2xx without {success:true} is a success (as Open Library judges it)', async () => {
    const client = await loggedIn();
    const identifier = withCopies(2)[1]!;
    proxy.rewrites.push({ match: (request) => request.url.includes('action=borrow_book'), body: 'OK' });
    const reply = await client.mutate('loans.borrow', { identifier });
    expect(reply.status).toBe(200);
    expect(dataOf<{ ok: boolean }>(reply).ok).toBe(true);
    const loans = dataOf<{ identifier: string }[]>(await client.query('loans.list'));
    expect(loans.map((loan) => loan.identifier)).toEqual([identifier]);
  });

  it('400/409 refusals say why: the lending limit, no copy, print-disabled only', async () => {
    const other = await loggedIn(reader);
    expect((await other.mutate('loans.borrow', { identifier: single })).status).toBe(200);

    const client = await loggedIn();
    const noCopy = await client.mutate('loans.borrow', { identifier: single });
    expect(noCopy.status).toBe(409);
    expect(errorOf(noCopy)).toMatchObject({
      message: 'archive.org refused the loan request: no copy is free or the item is locked for now.',
      data: { appCode: 'item_locked' },
    });

    const pd = await client.mutate('loans.borrow', { identifier: pdOnly.identifier });
    expect(pd.status).toBe(403);
    expect(errorOf(pd).data.appCode).toBe('print_disabled_only');

    for (const identifier of withCopies(2).slice(0, 5)) {
      expect((await client.mutate('loans.borrow', { identifier })).status).toBe(200);
    }
    const sixth = await client.mutate('loans.borrow', { identifier: withCopies(2)[5]! });
    expect(sixth.status).toBe(409);
    expect(errorOf(sixth)).toMatchObject({
      message: 'archive.org refused the loan request: the lending limit is reached.',
      data: { appCode: 'lending_limit' },
    });
  });

  it('history asks newest first (newest=True)', async () => {
    const client = await loggedIn();
    expect((await client.query('loans.history', { limit: 5 })).status).toBe(200);
    const history = seenAt('/services/loans/loan/?action=user_borrow_history');
    expect(history).toHaveLength(1);
    expect(new URLSearchParams(history[0]!.body).get('newest')).toBe('True');
  });
});

describe('one anonymous request must not cost thousands of upstream calls', () => {
  const batch = (n: number, query?: string, pageSize?: number) =>
    `/trpc/${Array.from({ length: n }, () => 'books.list').join(',')}?batch=1&input=${encodeURIComponent(
      JSON.stringify(
        Object.fromEntries(Array.from({ length: n }, (_, i) => [i, { page: i + 1, query, pageSize }])),
      ),
    )}`;

  it(`refuses a batch of 100 calls (and of ${MAX_BATCH_SIZE + 1}) with 400 batch_too_large, asking archive.org nothing`, async () => {
    const client = new Client(stack.url);
    archive.calls.reset();
    for (const size of [100, MAX_BATCH_SIZE + 1]) {
      const reply = await client.request(batch(size));
      expect(reply.status).toBe(400);
      expect(errorOf(reply)).toMatchObject({ data: { code: 'BAD_REQUEST', appCode: 'batch_too_large' } });
    }
    expect(archive.calls.total()).toBe(0);
    expect((await client.request(batch(MAX_BATCH_SIZE))).status).toBe(200);
  });

  it('counts a batch as tRPC does: a repeated `batch=1` does not hide the calls from the limit', async () => {
    const client = new Client(stack.url);
    archive.calls.reset();
    const repeated = batch(MAX_BATCH_SIZE + 1).replace('?batch=1&', '?batch=1&batch=1&');
    const reply = await client.request(repeated);
    expect(reply.status).toBe(400);
    expect(errorOf(reply)).toMatchObject({ data: { appCode: 'batch_too_large' } });
    expect(archive.calls.total()).toBe(0);
  });

  it('50 concurrent anonymous catalogue batches make a bounded number of archive.org calls; account.me stays fast', async () => {
    const patron = await loggedIn();
    const me = async () => {
      const started = performance.now();
      expect((await patron.query('account.me')).status).toBe(200);
      return performance.now() - started;
    };
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    for (let n = 0; n < 5; n++) await me(); // warm up
    const idle: number[] = [];
    for (let n = 0; n < 30; n++) idle.push(await me());

    archive.state.latencyMs = 50;
    archive.calls.reset();
    const anonymous = Array.from({ length: 50 }, () => new Client(stack.url));
    let done = false;
    // Pages of 15 books: nothing earlier in this file asked them, so none is cached yet.
    const load = Promise.all(
      anonymous.map((client) => client.request(batch(MAX_BATCH_SIZE, undefined, 15))),
    ).finally(() => {
      done = true;
    });
    const busy: number[] = [];
    while (!done || busy.length < 10) busy.push(await me());
    const replies = await load;

    expect(replies.every((reply) => reply.status === 200)).toBe(true);
    // 500 catalogue pages asked: 10 distinct pages, each one search and one availability call at most.
    expect(archive.calls.get('advancedsearch')).toBeLessThanOrEqual(MAX_BATCH_SIZE);
    expect(archive.calls.get('availability')).toBeLessThanOrEqual(MAX_BATCH_SIZE);
    expect(archive.calls.get('advancedsearch')).toBeGreaterThan(0);
    expect(archive.calls.total()).toBeLessThanOrEqual(2 * MAX_BATCH_SIZE);
    // Generous: the patron's own request is never stuck behind the anonymous load.
    const ratio = median(busy) / Math.max(median(idle), 1);
    expect(
      ratio,
      `account.me median ${median(busy).toFixed(1)} ms vs ${median(idle).toFixed(1)} ms idle`,
    ).toBeLessThan(25);
  });

  it('when archive.org is slow and the queue is full, requests fail fast with 503 archive_busy, never pile up', async () => {
    const tight = await startStack({
      archiveUrl: archive.url,
      env: { ARCHIVE_MAX_CONCURRENT: '2', ARCHIVE_MAX_QUEUE: '2', ARCHIVE_CACHE_SECONDS: '0' },
    });
    try {
      archive.state.latencyMs = 300;
      const clients = Array.from({ length: 12 }, () => new Client(tight.url));
      const replies = await Promise.all(
        clients.map((client, n) => client.query('books.list', { query: `word${n}` })),
      );
      const statuses = replies.map((reply) => reply.status);
      expect(statuses.filter((status) => status === 503).length).toBeGreaterThan(0);
      for (const reply of replies.filter((r) => r.status === 503)) {
        expect(errorOf(reply).data.appCode).toBe('archive_busy');
        expect(reply.headers.get('retry-after')).toBe('1');
      }
      expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
    } finally {
      await tight.close();
    }
  });

  it('bounds the log lines one request writes', async () => {
    archive.state.fault = { kind: 'status', status: 503 };
    const before = stack.logs.length;
    const client = new Client(stack.url);
    const reply = await client.request(batch(MAX_BATCH_SIZE, 'uncached')); // every call fails
    archive.state.fault = null;
    expect(reply.status).toBe(503);
    const lines = stack.logs.slice(before);
    expect(lines.length).toBeLessThanOrEqual(MAX_BATCH_SIZE + 2);
  });
});
