import { describe, expect, it } from 'vitest';
import { BORROW_MS, BROWSE_MS, defaultFixture, demoPatrons } from '../src/app';
import { loan, raw, useArchive } from './support';

const archive = useArchive();
const [demo, reader, scholar] = demoPatrons();
const keysOf = (p = demo!) => ({ access: p.access, secret: p.secret });
// `user_loans` below is the invented action still served outside strictProtocol (see strict.test.ts).
const books = defaultFixture().books;
const singleCopy = books.find((b) => b.copies === 1)!.identifier;
const threeCopies = books.find((b) => b.copies === 3)!.identifier;

describe('loans API: borrowing', () => {
  it('borrows for 14 days and browses for 1 hour', async () => {
    const before = Date.now();
    const borrowed = await loan(archive.current.url, 'borrow_book', threeCopies, keysOf());
    expect(borrowed.status).toBe(200);
    const b = borrowed.body.loan as { type: string; created: string; until: string };
    expect(b.type).toBe('borrow');
    expect(Date.parse(b.until) - Date.parse(b.created)).toBe(BORROW_MS);
    expect(Date.parse(b.created)).toBeGreaterThanOrEqual(before - 1000);

    const browsed = await loan(archive.current.url, 'browse_book', singleCopy, keysOf());
    const w = browsed.body.loan as { type: string; created: string; until: string };
    expect(w.type).toBe('browse');
    expect(Date.parse(w.until) - Date.parse(w.created)).toBe(BROWSE_MS);

    const mine = await loan(archive.current.url, 'user_loans', null, keysOf());
    expect((mine.body.loans as { identifier: string }[]).map((l) => l.identifier).sort()).toEqual(
      [threeCopies, singleCopy].sort(),
    );
  });

  it('refuses wrong, missing or malformed keys with 403 JSON', async () => {
    const forms: Record<string, string>[] = [
      { access: demo!.access, secret: 'wrong' },
      { access: 'UNKNOWN', secret: demo!.secret },
      { access: demo!.access },
      {},
    ];
    for (const form of forms) {
      const res = await loan(archive.current.url, 'borrow_book', threeCopies, form);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: 'invalid_keys' });
    }
    const nested = await raw(`${archive.current.url}/services/loans/loan/?action=user_loans`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `access[]=${demo!.access}&secret=${demo!.secret}`,
    });
    expect(nested.status).toBe(403);
  });

  it('refuses a locked patron with 403 even with the right keys', async () => {
    const locked = demoPatrons().find((p) => p.locked)!;
    const res = await loan(archive.current.url, 'borrow_book', threeCopies, keysOf(locked));
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: 'account_locked' });
  });

  it('refuses a 6th loan with 400', async () => {
    const many = books.filter((b) => b.copies >= 2).slice(0, 6);
    for (const book of many.slice(0, 5)) {
      expect((await loan(archive.current.url, 'borrow_book', book.identifier, keysOf())).status).toBe(200);
    }
    const sixth = await loan(archive.current.url, 'browse_book', many[5]!.identifier, keysOf());
    expect(sixth.status).toBe(400);
    expect(sixth.body).toEqual({ error: 'loan_limit_reached' });
    // Returning one makes room again.
    expect((await loan(archive.current.url, 'return_loan', many[0]!.identifier, keysOf())).status).toBe(200);
    expect((await loan(archive.current.url, 'browse_book', many[5]!.identifier, keysOf())).status).toBe(200);
  });

  it('refuses a book with no copy left with 409, and borrowing again what one has is a no-op', async () => {
    expect((await loan(archive.current.url, 'borrow_book', singleCopy, keysOf())).status).toBe(200);
    const again = await loan(archive.current.url, 'borrow_book', singleCopy, keysOf());
    expect(again.status).toBe(200);
    const other = await loan(archive.current.url, 'borrow_book', singleCopy, keysOf(reader));
    expect(other.status).toBe(409);
    expect(other.body).toEqual({ error: 'no_copies_available' });
  });

  it('turns a browse into a 14-day borrow', async () => {
    await loan(archive.current.url, 'browse_book', singleCopy, keysOf());
    const res = await loan(archive.current.url, 'borrow_book', singleCopy, keysOf());
    const l = res.body.loan as { type: string; created: string; until: string };
    expect(l.type).toBe('borrow');
    expect(Date.parse(l.until) - Date.now()).toBeGreaterThan(BORROW_MS - 60_000);
  });

  it('ends loans when their time is up', async () => {
    await loan(archive.current.url, 'browse_book', singleCopy, keysOf());
    archive.current.state.now = () => new Date(Date.now() + BROWSE_MS + 1000);
    const mine = await loan(archive.current.url, 'user_loans', null, keysOf());
    expect(mine.body).toEqual({ loans: [] });
    expect((await loan(archive.current.url, 'borrow_book', singleCopy, keysOf(reader))).status).toBe(200);
    const history = await loan(archive.current.url, 'user_borrow_history', null, {
      ...keysOf(),
      newest: 'True',
    });
    const actions = (history.body.history as { items: { action: string }[] }).items.map((i) => i.action);
    expect(actions).toEqual(['expire', 'browse']);
  });
});

describe('loans API: returns and the waitlist', () => {
  it('return of a book one does not have is 404', async () => {
    const res = await loan(archive.current.url, 'return_loan', singleCopy, keysOf());
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'no_active_loan' });
  });

  it('holds a returned copy for the head of the waitlist', async () => {
    await loan(archive.current.url, 'borrow_book', singleCopy, keysOf());
    expect((await loan(archive.current.url, 'join_waitlist', singleCopy, keysOf(reader))).status).toBe(200);
    expect((await loan(archive.current.url, 'join_waitlist', singleCopy, keysOf(reader))).status).toBe(200);

    const status = await loan(archive.current.url, 'availability', singleCopy, keysOf(reader));
    expect(status.body.lending_status).toMatchObject({
      available_to_borrow: false,
      available_to_waitlist: false,
      users_on_waitlist: 1,
      user_on_waitlist: true,
    });

    await loan(archive.current.url, 'return_loan', singleCopy, keysOf());
    expect((await loan(archive.current.url, 'borrow_book', singleCopy, keysOf(scholar))).status).toBe(409);
    expect((await loan(archive.current.url, 'borrow_book', singleCopy, keysOf(reader))).status).toBe(200);
    const after = await loan(archive.current.url, 'availability', singleCopy, {});
    expect(after.body.lending_status).toMatchObject({ users_on_waitlist: 0, available_copies: 0 });
  });

  it('refuses the waitlist when a copy is free or one holds the book (400)', async () => {
    const free = await loan(archive.current.url, 'join_waitlist', singleCopy, keysOf());
    expect(free.status).toBe(400);
    await loan(archive.current.url, 'borrow_book', singleCopy, keysOf());
    const holding = await loan(archive.current.url, 'join_waitlist', singleCopy, keysOf());
    expect(holding.status).toBe(400);
  });

  it('leave_waitlist removes the patron (and is idempotent)', async () => {
    await loan(archive.current.url, 'borrow_book', singleCopy, keysOf());
    await loan(archive.current.url, 'join_waitlist', singleCopy, keysOf(reader));
    expect((await loan(archive.current.url, 'leave_waitlist', singleCopy, keysOf(reader))).status).toBe(200);
    expect((await loan(archive.current.url, 'leave_waitlist', singleCopy, keysOf(reader))).status).toBe(200);
    const status = await loan(archive.current.url, 'availability', singleCopy, {});
    expect(status.body.lending_status).toMatchObject({ users_on_waitlist: 0 });
  });
});

describe('loans API: availability and history', () => {
  it('availability without keys has no user_* fields; with keys it has them', async () => {
    const anonymous = await loan(archive.current.url, 'availability', threeCopies, {});
    expect(anonymous.body).toEqual({
      lending_status: {
        is_lendable: true,
        is_printdisabled: true,
        available_to_borrow: true,
        available_to_browse: true,
        available_to_waitlist: false,
        copies: 3,
        available_copies: 3,
        users_on_waitlist: 0,
      },
    });
    await loan(archive.current.url, 'borrow_book', threeCopies, keysOf());
    const mine = await loan(archive.current.url, 'availability', threeCopies, keysOf());
    expect(mine.body.lending_status).toMatchObject({
      available_copies: 2,
      user_has_borrowed: true,
      user_has_browsed: false,
      user_on_waitlist: false,
    });
    const wrong = await loan(archive.current.url, 'availability', threeCopies, { access: 'x', secret: 'y' });
    expect(wrong.status).toBe(403);
  });

  it('history is newest first with newest=True (as OL asks), with limit and offset', async () => {
    await loan(archive.current.url, 'borrow_book', threeCopies, keysOf());
    await loan(archive.current.url, 'return_loan', threeCopies, keysOf());
    await loan(archive.current.url, 'browse_book', singleCopy, keysOf());
    const all = await loan(archive.current.url, 'user_borrow_history', null, {
      ...keysOf(),
      limit: '10',
      newest: 'True',
    });
    const items = (all.body.history as { items: { identifier: string; action: string; title: string }[] })
      .items;
    expect(items.map((i) => [i.identifier, i.action])).toEqual([
      [singleCopy, 'browse'],
      [threeCopies, 'return'],
      [threeCopies, 'borrow'],
    ]);
    expect(items[0]).toMatchObject({
      title: expect.any(String) as unknown,
      updatedate: expect.any(String) as unknown,
    });
    const page = await loan(archive.current.url, 'user_borrow_history', null, {
      ...keysOf(),
      limit: '1',
      offset: '1',
      newest: 'True',
    });
    expect((page.body.history as { items: { action: string }[] }).items.map((i) => i.action)).toEqual([
      'return',
    ]);
    // Without newest (or with newest=False) the oldest come first.
    for (const form of [keysOf(), { ...keysOf(), newest: 'False' }]) {
      const oldest = await loan(archive.current.url, 'user_borrow_history', null, form);
      const actions = (oldest.body.history as { items: { action: string }[] }).items.map((i) => i.action);
      expect(actions).toEqual(['borrow', 'return', 'browse']);
    }
    const bad = await loan(archive.current.url, 'user_borrow_history', null, { ...keysOf(), newest: 'yes' });
    expect(bad.status).toBe(400);
  });

  it('state is per app instance and reset clears it', async () => {
    await loan(archive.current.url, 'borrow_book', threeCopies, keysOf());
    archive.current.state.reset();
    const mine = await loan(archive.current.url, 'user_loans', null, keysOf());
    expect(mine.body).toEqual({ loans: [] });
  });
});

describe('loans API: bad input is a 4xx JSON answer', () => {
  it.each([
    ['unknown action', 'steal_book', threeCopies, 400],
    ['missing identifier', 'borrow_book', null, 400],
    ['unknown identifier', 'borrow_book', 'nosuchbook00xxxx', 404],
    ['unknown identifier (availability)', 'availability', 'nosuchbook00xxxx', 404],
    ['odd identifier', 'return_loan', '../../etc/passwd', 404],
  ])('%s', async (_name, action, identifier, status) => {
    const res = await loan(archive.current.url, action, identifier, keysOf());
    expect(res.status).toBe(status);
    expect(res.type).toMatch(/application\/json/);
  });

  it.each([['0'], ['1001'], ['-1'], ['ten'], ['']])('history limit %j', async (limit) => {
    const res = await loan(archive.current.url, 'user_borrow_history', null, { ...keysOf(), limit });
    expect(res.status).toBe(400);
  });

  it('GET and a JSON array body', async () => {
    expect((await raw(`${archive.current.url}/services/loans/loan/?action=user_loans`)).status).toBe(405);
    const res = await raw(`${archive.current.url}/services/loans/loan/?action=user_loans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[]',
    });
    expect(res.status).toBe(400);
  });
});
