import { describe, expect, it } from 'vitest';
import { BORROW_MS, BROWSE_MS, defaultFixture, demoPatrons } from '../src/app';
import { keysOf, lendingApi, loan, python, raw, skipPython, useArchive } from './support';

const archive = useArchive({ catalogue: 'full' });
const patrons = demoPatrons();
const demo = patrons[0]!;
const reader = patrons[1]!;
const books = defaultFixture({ catalogue: 'full' }).books;
const single = books.find((b) => b.copies === 1 && b.collections.includes('inlibrary'))!.identifier;
const three = books.find((b) => b.copies === 3)!.identifier;

interface LoanRecord {
  id: number;
  identifier: string;
  userid: string;
  ol_key: null;
  format: string;
  resource_id: string;
  loan_link: string;
  created: string;
  until: string;
  fulfilled: number;
}

const result = <T>(answer: { body: Record<string, unknown> }) => answer.body.result as T[];

describe('internal lending API: loan.query', () => {
  it('answers a patron’s active loans by itemname, in the shape OL’s Loan.from_ia_loan reads', async () => {
    const before = Date.now();
    await loan(archive.current.url, 'borrow_book', three, keysOf(demo));
    await loan(archive.current.url, 'browse_book', single, keysOf(demo));
    await loan(archive.current.url, 'borrow_book', three, keysOf(reader));

    const answer = await lendingApi(archive.current.url, { method: 'loan.query', userid: demo.itemname });
    expect(answer.status).toBe(200);
    expect(answer.type).toMatch(/application\/json/);
    expect(answer.body.status).toBe('ok');
    const loans = result<LoanRecord>(answer);
    expect(loans.map((l) => l.identifier)).toEqual([three, single]);
    expect(loans[0]).toEqual({
      id: expect.any(Number) as unknown,
      identifier: three,
      userid: '@demo_patron',
      ol_key: null,
      format: 'bookreader',
      resource_id: `bookreader:${three}`,
      loan_link: `${archive.current.url}/stream/${three}`,
      created: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/) as unknown,
      until: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/) as unknown,
      fulfilled: 1,
    });
    const utc = (text: string) => Date.parse(`${text.replace(' ', 'T')}Z`);
    expect(utc(loans[0]!.created)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(utc(loans[0]!.until) - utc(loans[0]!.created)).toBe(BORROW_MS);
    expect(utc(loans[1]!.until) - utc(loans[1]!.created)).toBe(BROWSE_MS);
    expect(new Set(loans.map((l) => l.id)).size).toBe(2);
  });

  it('answers by identifier (OL’s get_loan), optionally narrowed to one patron', async () => {
    await loan(archive.current.url, 'borrow_book', three, keysOf(demo));
    await loan(archive.current.url, 'borrow_book', three, keysOf(reader));
    const all = await lendingApi(archive.current.url, { method: 'loan.query', identifier: three });
    expect(result<LoanRecord>(all).map((l) => l.userid)).toEqual([demo.itemname, reader.itemname]);
    const mine = await lendingApi(archive.current.url, {
      method: 'loan.query',
      identifier: three,
      userid: reader.itemname,
    });
    expect(result<LoanRecord>(mine).map((l) => l.userid)).toEqual([reader.itemname]);
  });

  it('forgets returned and ended loans', async () => {
    await loan(archive.current.url, 'borrow_book', three, keysOf(demo));
    await loan(archive.current.url, 'browse_book', single, keysOf(demo));
    await loan(archive.current.url, 'return_loan', three, keysOf(demo));
    const query = () => lendingApi(archive.current.url, { method: 'loan.query', userid: demo.itemname });
    expect(result<LoanRecord>(await query()).map((l) => l.identifier)).toEqual([single]);
    archive.current.state.now = () => new Date(Date.now() + BROWSE_MS + 1000);
    expect(result(await query())).toEqual([]);
  });

  it('answers an empty list for a patron without loans, an unknown one, or OL’s "ol:" userids', async () => {
    for (const userid of [reader.itemname, '@nobody', 'ol:someone']) {
      const answer = await lendingApi(archive.current.url, { method: 'loan.query', userid });
      expect(answer.body).toEqual({ status: 'ok', result: [] });
    }
  });

  it('accepts the optional developer field', async () => {
    const answer = await lendingApi(archive.current.url, {
      method: 'loan.query',
      userid: demo.itemname,
      developer: 'someone',
    });
    expect(answer.body).toEqual({ status: 'ok', result: [] });
  });

  it.skipIf(skipPython)('dates parse with infogami’s parse_datetime as OL reads them', async () => {
    await loan(archive.current.url, 'borrow_book', three, keysOf(demo));
    const [record] = result<LoanRecord>(
      await lendingApi(archive.current.url, { method: 'loan.query', userid: demo.itemname }),
    );
    // infogami.infobase.utils.parse_datetime, which OL's Loan.from_ia_loan applies to `created`.
    const parsed = python<{ created: string; uuid: string }>(
      `
import datetime, json, re, sys
data = json.load(sys.stdin)
def parse_datetime(value):
    tokens = re.split(r'-|T|:|\\.| ', value)
    return datetime.datetime(*map(int, tokens))
print(json.dumps({"created": parse_datetime(data["created"]).isoformat(), "uuid": "loan-{}".format(data["id"])}))
`,
      record,
    );
    expect(parsed.created).toBe(record!.created.replace(' ', 'T'));
    expect(parsed.uuid).toBe(`loan-${record!.id}`);
  });
});

describe('internal lending API: waitinglist.query', () => {
  it('lists the patron’s waitlists with position and size, "available" when a copy is held for them', async () => {
    await loan(archive.current.url, 'borrow_book', single, keysOf(demo));
    await loan(archive.current.url, 'join_waitlist', single, keysOf(reader));
    const scholar = patrons[2]!;
    await loan(archive.current.url, 'join_waitlist', single, keysOf(scholar));

    const query = (userid: string) =>
      lendingApi(archive.current.url, { method: 'waitinglist.query', userid });
    expect(result(await query(scholar.itemname))).toEqual([
      {
        identifier: single,
        userid: scholar.itemname,
        status: 'waiting',
        position: 2,
        wl_size: 2,
        since: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/) as unknown,
        expiry: null,
      },
    ]);
    await loan(archive.current.url, 'return_loan', single, keysOf(demo));
    expect(result(await query(reader.itemname))).toMatchObject([{ status: 'available', position: 1 }]);
    const byBook = await lendingApi(archive.current.url, { method: 'waitinglist.query', identifier: single });
    expect(result<{ userid: string }>(byBook).map((w) => w.userid)).toEqual([
      reader.itemname,
      scholar.itemname,
    ]);
  });
});

describe('internal lending API: refusals', () => {
  it('refuses a wrong or missing token with 403', async () => {
    for (const token of ['wrong-token-0123456789', '', null]) {
      const answer = await lendingApi(
        archive.current.url,
        { method: 'loan.query', userid: demo.itemname },
        token,
      );
      expect(answer.status, `token ${JSON.stringify(token)}`).toBe(403);
      expect(answer.body.status).toBe('error');
    }
  });

  it('refuses methods Lending does not use, and a query with neither userid nor identifier', async () => {
    const forms: Record<string, string>[] = [
      { method: 'loan.create', identifier: three, userid: demo.itemname },
      { method: 'loan.delete', identifier: three, userid: demo.itemname },
      { method: 'waitinglist.join', identifier: three, userid: demo.itemname },
      { method: 'loan.query' },
    ];
    for (const form of forms) {
      const answer = await lendingApi(archive.current.url, form);
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ status: 'error', error: expect.any(String) as unknown });
    }
  });

  it('answers garbage with a 4xx JSON error', async () => {
    const url = `${archive.current.url}/services/openlibrary.php`;
    const cases: [RequestInit, number][] = [
      [{ method: 'GET' }, 405],
      [{ method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1]' }, 400],
      [{ method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"method":' }, 400],
      [{ method: 'POST', body: new URLSearchParams('method=loan.query&method=loan.query&token=x') }, 400],
      [{ method: 'POST', body: new URLSearchParams({ method: 'loan.query', token: 'x'.repeat(5000) }) }, 400],
      [{ method: 'POST', body: new URLSearchParams({ method: 'x'.repeat(100_000) }) }, 413],
    ];
    for (const [init, status] of cases) {
      const answer = await raw(url, init);
      expect(answer.status).toBe(status);
      expect(answer.type).toMatch(/application\/json/);
    }
  });
});
