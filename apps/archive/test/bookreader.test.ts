import { describe, expect, it } from 'vitest';
import {
  DEMO_ACCESS_SECRET,
  defaultFixture,
  demoPatrons,
  makeIaToken,
  type ArchiveFixture,
} from '../src/app';
import { keysOf, loan, python, skipPython, useArchive } from './support';

const archive = useArchive({ catalogue: 'full' });
const OTHER_SECRET = 'another-access-secret-for-this-test';
const custom = useArchive({ accessSecret: OTHER_SECRET, fixture: withOddTitle(defaultFixture()) });
const [demo, reader] = demoPatrons();
const dracula = 'draculabram00stok';

function withOddTitle(fixture: ArchiveFixture): ArchiveFixture {
  const odd = {
    ...fixture.books[0]!,
    identifier: 'oddtitle00test',
    title: '<script>alert(1)</script> & "Co"',
  };
  return { ...fixture, books: [...fixture.books, odd] };
}

interface Link {
  base: string;
  uuid?: string;
  id?: string;
  bookPath?: string;
  iaUserId?: string;
  token?: string;
  iaAuthToken?: string;
}

/** The link as OL's make_bookreader_auth_link builds it, with any part replaced. */
function link(parts: Link, secret = DEMO_ACCESS_SECRET, now = Date.now() / 1000): string {
  const id = parts.id ?? dracula;
  const userid = parts.iaUserId ?? demo!.itemname;
  const params = new URLSearchParams({
    uuid: parts.uuid ?? `loan-${id}`,
    token: parts.token ?? makeIaToken(secret, id, 600, now),
    id,
    bookPath: parts.bookPath ?? `/stream/${id}`,
    iaUserId: userid,
    iaAuthToken: parts.iaAuthToken ?? makeIaToken(secret, userid, 120, now),
  });
  return `${parts.base}/bookreader/BookReaderAuth.php?${params.toString()}`;
}

async function open(url: string) {
  const response = await fetch(url);
  return { status: response.status, headers: response.headers, html: await response.text() };
}

const borrowDracula = async (base = archive.current.url) =>
  expect((await loan(base, 'borrow_book', dracula, keysOf(demo!))).status).toBe(200);

describe('BookReaderAuth.php: a link to a book the patron holds', () => {
  it.skipIf(skipPython)('opens the reader for a link made by Open Library’s own code (Python)', async () => {
    await borrowDracula();
    const made = python<{ link: string }>(
      `
import hashlib, hmac, json, sys, time, urllib.parse
a = json.load(sys.stdin)
def ia_hash(token_data):
    return hmac.new(a["secret"].encode("utf-8"), token_data.encode("utf-8"), hashlib.md5).hexdigest()
def make_ia_token(item_id, expiry_seconds):
    timestamp = int(time.time() + expiry_seconds)
    token_data = "%s-%d" % (item_id, timestamp)
    return "%d-%s" % (timestamp, ia_hash(token_data))
params = {"uuid": a["loan_key"], "token": make_ia_token(a["id"], 600), "id": a["id"],
          "bookPath": a["book_path"], "iaUserId": a["userid"], "iaAuthToken": make_ia_token(a["userid"], 120)}
print(json.dumps({"link": a["base"] + "/bookreader/BookReaderAuth.php?" + urllib.parse.urlencode(params)}))
`,
      {
        secret: DEMO_ACCESS_SECRET,
        loan_key: `loan-${dracula}`,
        id: dracula,
        book_path: `/stream/${dracula}?_autoReadAloud=show`,
        userid: demo!.itemname,
        base: archive.current.url,
      },
    );
    const page = await open(made.link);
    expect(page.status).toBe(200);
    expect(page.html).toContain('<h1>Dracula</h1>');
  });

  it('shows the title, the cover and placeholder pages, and keeps the page to itself', async () => {
    await borrowDracula();
    const page = await open(link({ base: archive.current.url }));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(page.html).toContain('<title>Dracula (BookReader)</title>');
    expect(page.html).toContain(
      `<img src="/services/img/${dracula}" width="60" height="90" alt="Cover of Dracula">`,
    );
    expect(page.html).toContain('Stoker, Bram');
    expect(page.html).toContain('on loan to Demo Patron');
    expect(page.html.match(/<section class="page"/g)).toHaveLength(4);
    const cover = await fetch(`${archive.current.url}/services/img/${dracula}`);
    expect(cover.status).toBe(200);
    await cover.arrayBuffer();
  });

  it('accepts the loan’s uuid as loan-<id> too, and a bookPath with a query', async () => {
    await borrowDracula();
    const loans = await fetch(`${archive.current.url}/services/openlibrary.php`, {
      method: 'POST',
      body: new URLSearchParams({
        method: 'loan.query',
        userid: demo!.itemname,
        token: archive.current.state.loanApiToken,
      }),
    });
    const [record] = ((await loans.json()) as { result: { id: number }[] }).result;
    expect((await open(link({ base: archive.current.url, uuid: `loan-${record!.id}` }))).status).toBe(200);
    const withQuery = link({ base: archive.current.url, bookPath: `/stream/${dracula}?_autoReadAloud=show` });
    expect((await open(withQuery)).status).toBe(200);
  });

  it('escapes what it shows', async () => {
    const base = custom.current.url;
    expect((await loan(base, 'borrow_book', 'oddtitle00test', keysOf(demo!))).status).toBe(200);
    const page = await open(link({ base, id: 'oddtitle00test' }, OTHER_SECRET));
    expect(page.status).toBe(200);
    expect(page.html).not.toContain('<script>');
    expect(page.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;');
  });
});

describe('BookReaderAuth.php: refusals are HTML pages that say why', () => {
  const refused = async (url: string, status: number, says: RegExp) => {
    const page = await open(url);
    expect(page.status, url).toBe(status);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.html).toMatch(says);
    expect(page.html).toContain('role="alert"');
  };

  it('refuses an expired token (600 s for the book, 120 s for the reader)', async () => {
    await borrowDracula();
    const url = link({ base: archive.current.url });
    archive.current.state.now = () => new Date(Date.now() + 121_000);
    await refused(url, 403, /reading link has expired/);
    // The book's token alone expired: a reader token made just now, the book's 601 s ago.
    const start = Date.now() / 1000;
    const readerToken = makeIaToken(DEMO_ACCESS_SECRET, demo!.itemname, 120, start + 590);
    archive.current.state.now = () => new Date((start + 601) * 1000);
    await refused(
      link({ base: archive.current.url, iaAuthToken: readerToken }, DEMO_ACCESS_SECRET, start),
      403,
      /expired/,
    );
    archive.current.state.now = () => new Date((start + 599) * 1000);
    const stillValid = link(
      { base: archive.current.url, iaAuthToken: readerToken },
      DEMO_ACCESS_SECRET,
      start,
    );
    expect((await open(stillValid)).status).toBe(200);
  });

  it('refuses forged tokens: wrong key, other book, other reader, altered, too long-lived', async () => {
    await borrowDracula();
    const base = archive.current.url;
    const now = Date.now() / 1000;
    const wrongKey = link({ base }, 'not-the-access-secret-at-all');
    const otherBook = link({ base, token: makeIaToken(DEMO_ACCESS_SECRET, 'emmaausten00aust', 600, now) });
    const otherReader = link({
      base,
      iaAuthToken: makeIaToken(DEMO_ACCESS_SECRET, reader!.itemname, 120, now),
    });
    const good = makeIaToken(DEMO_ACCESS_SECRET, dracula, 600, now);
    const altered = link({ base, token: `${good.slice(0, -1)}${good.endsWith('0') ? '1' : '0'}` });
    const laterStamp = link({ base, token: good.replace(/^\d+/, (ts) => String(Number(ts) + 1)) });
    const longLived = link({ base, token: makeIaToken(DEMO_ACCESS_SECRET, dracula, 3600, now) });
    for (const url of [
      wrongKey,
      otherBook,
      otherReader,
      altered,
      laterStamp,
      longLived,
      link({ base, token: 'abc' }),
    ]) {
      await refused(url, 403, /reading link is not valid/);
    }
  });

  it('refuses a returned loan, a loan of someone else, and a uuid that names no loan of theirs', async () => {
    await borrowDracula();
    const base = archive.current.url;
    const url = link({ base });
    expect((await open(url)).status).toBe(200);
    await refused(link({ base, uuid: 'loan-emmaausten00aust' }), 403, /no longer have this book/);
    await refused(link({ base, iaUserId: reader!.itemname }), 403, /no longer have this book/);
    expect((await loan(base, 'return_loan', dracula, keysOf(demo!))).status).toBe(200);
    await refused(url, 403, /no longer have this book/);
  });

  it('refuses incomplete links with 400 and unknown books with 404', async () => {
    await borrowDracula();
    const base = archive.current.url;
    const good = new URL(link({ base }));
    for (const name of ['uuid', 'token', 'id', 'bookPath', 'iaUserId', 'iaAuthToken']) {
      const partial = new URL(good);
      partial.searchParams.delete(name);
      await refused(partial.toString(), 400, /reading link is incomplete/);
    }
    const twice = new URL(good);
    twice.searchParams.append('id', dracula);
    await refused(twice.toString(), 400, /incomplete/);
    await refused(link({ base, bookPath: '/stream/emmaausten00aust' }), 400, /bookPath/);
    await refused(link({ base, bookPath: `/details/${dracula}` }), 400, /bookPath/);
    await refused(link({ base, id: 'nosuchbook00none' }), 404, /No such book/);
    await refused(link({ base, id: '../../etc/passwd' }), 400, /incomplete/);
    const post = await fetch(good, { method: 'POST' });
    expect(post.status).toBe(405);
    await post.arrayBuffer();
  });

  it('checks tokens against the configured access secret', async () => {
    const base = custom.current.url;
    expect((await loan(base, 'borrow_book', dracula, keysOf(demo!))).status).toBe(200);
    expect((await open(link({ base }, OTHER_SECRET))).status).toBe(200);
    await refused(link({ base }), 403, /not valid/);
  });
});
