// ArchiveClient over real HTTP against the stand-in on port 0.
import { DEMO_SERVICE_KEYS, defaultFixture, demoPatrons } from '@lending/archive';
import { beforeEach, describe, expect, it } from 'vitest';
import { ArchiveClient } from '../src/archive-client';
import { AppError } from '../src/errors';
import { useArchive } from './audit-helpers';

const archive = useArchive();
beforeEach(() => {
  archive.current.state.reset();
});

const [demo, reader] = demoPatrons();
const keysOf = (p = demo!) => ({ access: p.access, secret: p.secret });
// The stand-in's default: the full catalogue (155 lendable books, 6 only print-disabled patrons may borrow).
const books = defaultFixture({ catalogue: 'full' }).books;
// The catalogue Lending shows: the lendable books and those lent only to print-disabled patrons.
const catalogue = books.filter(
  (b) => b.collections.includes('inlibrary') || b.collections.includes('printdisabled'),
);
const printDisabledOnly = catalogue.filter((b) => !b.collections.includes('inlibrary'));
const single = books.find((b) => b.copies === 1)!.identifier;

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof AppError)) throw new Error(`expected an AppError, got ${String(error)}`);
  for (const secret of [demo!.secret, demo!.password, DEMO_SERVICE_KEYS.secret]) {
    expect(`${error.message} ${error.detail}`).not.toContain(secret);
  }
  return error;
}

describe('ArchiveClient against the stand-in', () => {
  it('authenticate, info and issueKey', async () => {
    const client = archive.client();
    const login = await client.authenticate(demo!.email, demo!.password);
    if (!login.success) throw new Error('login failed');
    expect(login.values).toMatchObject({
      email: demo!.email,
      itemname: '@demo_patron',
      verified: true,
      locked: false,
    });
    expect(await client.issueKey({ email: demo!.email, token: login.values.token })).toEqual(keysOf());
    expect(await client.issueKey({ email: demo!.email, token: 'bogus' })).toBeNull();
    expect(await client.info({ itemname: '@demo_patron' })).toEqual({
      email: demo!.email,
      itemname: '@demo_patron',
      screenname: 'Demo Patron',
      verified: true,
      locked: false,
      hasDisabilityAccess: false,
    });
    expect(await client.info({ email: 'nobody@example.org' })).toBeNull();
    expect(await client.authenticate(demo!.email, 'wrong')).toEqual({
      success: false,
      values: { reason: 'account_bad_password' },
    });
  });

  it('s3auth: right keys give the email; wrong keys are not authorized', async () => {
    const client = archive.client();
    expect(await client.s3auth(keysOf())).toEqual({
      authorized: true,
      email: demo!.email,
      itemname: '@demo_patron',
      screenname: 'Demo Patron',
    });
    expect(await client.s3auth({ access: demo!.access, secret: 'WRONG' })).toEqual({
      authorized: false,
      email: null,
      itemname: null,
      screenname: null,
    });
  });

  it('borrow, loans, availability, history, return', async () => {
    const client = archive.client();
    await client.loan(keysOf(), single, 'borrow_book');
    // loan.query at the internal lending API, by itemname; the title from one catalogue search.
    expect(await client.loansOf('@demo_patron')).toEqual([
      expect.objectContaining({ identifier: single, type: 'borrow', title: expect.any(String) as unknown }),
    ]);
    expect(archive.current.calls.get('lendingApi')).toBe(1);
    expect((await client.availabilityOf([single])).get(single)).toMatchObject({
      status: 'borrow_unavailable',
      availableToBorrow: false,
      availableToWaitlist: true,
    });
    expect(await client.availability(single)).toEqual({
      is_lendable: true,
      is_printdisabled: true,
      available_to_borrow: false,
      available_to_browse: false,
      available_to_waitlist: true,
      copies: 1,
      available_copies: 0,
      users_on_waitlist: 0,
    });
    expect(await client.availability(single, keysOf())).toMatchObject({ user_has_borrowed: true });
    await client.loan(keysOf(reader), single, 'join_waitlist');
    await client.loan(keysOf(), single, 'return_loan');
    const history = await client.history(keysOf(), { limit: 10, offset: 0 });
    expect(history.map((h) => h.action)).toEqual(['return', 'borrow']);
    await client.loan(keysOf(reader), single, 'borrow_book');
    await client.loan(keysOf(reader), single, 'return_loan');
    await client.loan(keysOf(reader), single, 'browse_book');
    await client.loan(keysOf(reader), single, 'return_loan');
  });

  it('refusals say why: no copy (409) is item_locked, the 6th loan (400) lending_limit', async () => {
    const client = archive.client();
    await client.loan(keysOf(), single, 'borrow_book');
    expect(await failure(client.loan(keysOf(reader), single, 'borrow_book'))).toMatchObject({
      code: 'item_locked',
      detail: 'loans borrow_book: HTTP 409 no_copies_available',
    });
    for (const book of books.filter((b) => b.copies > 1).slice(0, 4)) {
      await client.loan(keysOf(), book.identifier, 'browse_book');
    }
    const sixth = await failure(
      client.loan(keysOf(), books.filter((b) => b.copies > 1)[4]!.identifier, 'borrow_book'),
    );
    expect(sixth).toMatchObject({
      code: 'lending_limit',
      detail: 'loans borrow_book: HTTP 400 loan_limit_reached',
    });
  });

  it('wrong patron keys are invalid_s3keys; an unknown book is not_found', async () => {
    const client = archive.client();
    expect(
      (await failure(client.loan({ access: demo!.access, secret: 'WRONG' }, single, 'borrow_book'))).code,
    ).toBe('invalid_s3keys');
    expect((await failure(client.availability(single, { access: 'NOPE', secret: 'NOPE' }))).code).toBe(
      'invalid_s3keys',
    );
    expect((await failure(client.loan(keysOf(), 'nosuchbook', 'borrow_book'))).code).toBe('not_found');
    // An identifier that tries to smuggle another action stays one (encoded) identifier.
    expect((await failure(client.loan(keysOf(), `${single}&action=return_loan`, 'borrow_book'))).code).toBe(
      'not_found',
    );
    expect((await failure(client.loan(keysOf(), single, 'return_loan'))).code).toBe('not_found');
  });

  it('searchCatalogue pages through the whole catalogue, past the first 100, print-disabled-only books too; ping', async () => {
    const client = archive.client();
    const first = await client.searchCatalogue({ rows: 100, page: 1 });
    const second = await client.searchCatalogue({ rows: 100, page: 2 });
    expect(first.total).toBe(catalogue.length);
    expect(catalogue.length).toBeGreaterThan(100);
    expect(printDisabledOnly).toHaveLength(6);
    expect(first.books).toHaveLength(100);
    expect(second.books).toHaveLength(catalogue.length - 100);
    const seen = [...first.books, ...second.books].map((book) => book.identifier);
    expect(new Set(seen)).toEqual(new Set(catalogue.map((book) => book.identifier)));
    const sample = catalogue.find((book) => book.identifier === seen[0])!;
    expect(first.books[0]).toEqual({
      identifier: sample.identifier,
      title: sample.title,
      creator: sample.creator,
      year: sample.year,
    });
    await expect(client.ping()).resolves.toBeUndefined();
  });

  it('our service keys refused: archive_misconfigured', async () => {
    const client = new ArchiveClient({
      baseUrl: archive.current.url,
      serviceAccess: 'x',
      serviceSecret: 'y',
    });
    expect((await failure(client.authenticate(demo!.email, demo!.password))).code).toBe(
      'archive_misconfigured',
    );
    expect((await failure(client.info({ email: demo!.email }))).code).toBe('archive_misconfigured');
  });
});

describe('ArchiveClient when the archive misbehaves', () => {
  const calls = () => {
    const client = archive.client(300);
    return [
      () => client.authenticate(demo!.email, demo!.password),
      () => client.info({ email: demo!.email }),
      () => client.issueKey({ token: 't' }),
      () => client.s3auth(keysOf()),
      () => client.history(keysOf(), { limit: 5, offset: 0 }),
      () => client.loansOf('@demo_patron'),
      () => client.availabilityOf([single]),
      () => client.availability(single),
      () => client.searchBooks(),
      () => client.ping(),
    ];
  };

  it.each([
    ['503', { kind: 'status', status: 503 }],
    ['non-JSON', { kind: 'non_json' }],
    ['bad shape', { kind: 'bad_shape' }],
    ['connection reset', { kind: 'reset' }],
    ['no answer (timeout)', { kind: 'hang' }],
  ] as const)('%s: every call is archive_unavailable', async (_name, fault) => {
    archive.current.state.fault = fault;
    const started = Date.now();
    for (const call of calls()) {
      expect((await failure(call())).code).toBe('archive_unavailable');
    }
    // A loan action is judged by its status alone, as Open Library judges it: a 2xx is done whatever its body.
    const borrow = archive.client(300).loan(keysOf(), single, 'borrow_book');
    if (fault.kind === 'non_json' || fault.kind === 'bad_shape')
      await expect(borrow).resolves.toBeUndefined();
    else expect((await failure(borrow)).code).toBe('archive_unavailable');
    archive.current.state.fault = null;
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('nothing listening: archive_unavailable', async () => {
    const client = new ArchiveClient({
      baseUrl: 'http://127.0.0.1:9',
      serviceAccess: 'a',
      serviceSecret: 'b',
      timeoutMs: 1000,
    });
    const error = await failure(client.ping());
    expect(error).toMatchObject({
      code: 'archive_unavailable',
      detail: expect.stringContaining('connection failed') as unknown,
    });
  });
});
