import { describe, expect, it } from 'vitest';
import { defaultFixture, demoPatrons } from '../src/app';
import { availability, keysOf, lendingApi, loan, useArchive, xauthn } from './support';

const archive = useArchive({ catalogue: 'full' });
const patrons = demoPatrons();
const pd = patrons.find((p) => p.hasDisabilityAccess)!;
const ordinary = patrons[0]!;
const pdOnly = defaultFixture({ catalogue: 'full' }).books.filter(
  (b) => !b.collections.includes('inlibrary'),
);
const book = pdOnly[0]!.identifier;

describe('print-disabled access', () => {
  it('has a print-disabled demo patron, and xauthn info says so', async () => {
    expect(pd).toMatchObject({ email: 'print-disabled@example.org', password: 'print-disabled-demo-2026' });
    const info = await xauthn(archive.current.url, 'info', { email: pd.email });
    expect(info.body.values).toMatchObject({ has_disability_access: true, itemname: pd.itemname });
    const other = await xauthn(archive.current.url, 'info', { email: ordinary.email });
    expect(other.body.values).toMatchObject({ has_disability_access: false });
    const login = await xauthn(archive.current.url, 'authenticate', {
      email: pd.email,
      password: pd.password,
    });
    expect(login.body.success).toBe(true);
  });

  it('refuses a print-disabled-only book to a patron without access (400), for borrow, browse and waitlist', async () => {
    for (const action of ['borrow_book', 'browse_book', 'join_waitlist']) {
      const res = await loan(archive.current.url, action, book, keysOf(ordinary));
      expect(res.status, action).toBe(400);
      expect(res.body).toEqual({ error: 'print_disabled_only' });
    }
    const mine = await lendingApi(archive.current.url, { method: 'loan.query', userid: ordinary.itemname });
    expect(mine.body.result).toEqual([]);
  });

  it('lends it to the print-disabled patron, within the copies and the loan limit like any book', async () => {
    const res = await loan(archive.current.url, 'borrow_book', book, keysOf(pd));
    expect(res.status).toBe(200);
    const mine = await lendingApi(archive.current.url, { method: 'loan.query', userid: pd.itemname });
    expect((mine.body.result as { identifier: string }[]).map((l) => l.identifier)).toEqual([book]);
    // Ordinary books too.
    expect((await loan(archive.current.url, 'borrow_book', 'draculabram00stok', keysOf(pd))).status).toBe(
      200,
    );
  });

  it('tells the groundtruth availability apart by patron', async () => {
    const anonymous = await loan(archive.current.url, 'availability', book, {});
    expect(anonymous.body.lending_status).toMatchObject({
      is_lendable: false,
      is_printdisabled: true,
      available_to_borrow: false,
      available_to_waitlist: false,
    });
    const forPd = await loan(archive.current.url, 'availability', book, keysOf(pd));
    expect(forPd.body.lending_status).toMatchObject({ is_lendable: false, available_to_borrow: true });
    const forOrdinary = await loan(archive.current.url, 'availability', book, keysOf(ordinary));
    expect(forOrdinary.body.lending_status).toMatchObject({ available_to_borrow: false });
    const v2 = await availability(archive.current.url, [book]);
    expect((v2.body.responses as Record<string, unknown>)[book]).toMatchObject({
      status: 'private',
      is_printdisabled: true,
      is_lendable: false,
    });
  });

  it('keeps patrons without access off the waitlist of a print-disabled-only book that is out', async () => {
    const oneCopy = pdOnly.find((b) => b.copies === 1)!.identifier;
    expect((await loan(archive.current.url, 'borrow_book', oneCopy, keysOf(pd))).status).toBe(200);
    expect((await loan(archive.current.url, 'join_waitlist', oneCopy, keysOf(ordinary))).body).toEqual({
      error: 'print_disabled_only',
    });
    expect((await loan(archive.current.url, 'join_waitlist', oneCopy, keysOf(pd))).body).toEqual({
      error: 'already_borrowed',
    });
  });
});
