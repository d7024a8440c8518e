// loans.readLink through the caller, against the real stand-in: the BookReader auth link as Open Library builds it,
// only for a loan the patron holds now, and opened over real HTTP by the stand-in's BookReaderAuth.php.
import { spawnSync } from 'node:child_process';
import { DEMO_ACCESS_SECRET, demoPatrons, makeIaToken } from '@lending/archive';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, Harness } from './harness';
import { errorOf, failureLogOf, startHarness } from './harness';

const demo = demoPatrons().find((p) => p.email === 'patron@example.org')!;
const reader = demoPatrons().find((p) => p.email === 'reader@example.org')!;
const PRIDE = 'prideandprejudic00aust';

// Open Library's own code (plugins/upstream/borrow.py: ia_hash, make_ia_token, make_bookreader_auth_link), with
// time.time() fixed to the request's clock, so its link can be compared with ours byte for byte.
const OL_LINK = `
import hashlib, hmac, json, sys, time, urllib.parse
a = json.load(sys.stdin)
time.time = lambda: a["now"]
def ia_hash(token_data):
    return hmac.new(a["secret"].encode("utf-8"), token_data.encode("utf-8"), hashlib.md5).hexdigest()
def make_ia_token(item_id, expiry_seconds):
    timestamp = int(time.time() + expiry_seconds)
    token_data = "%s-%d" % (item_id, timestamp)
    return "%d-%s" % (timestamp, ia_hash(token_data))
def make_bookreader_auth_link(loan_key, item_id, book_path, ia_userid=None):
    auth_link = "%s/bookreader/BookReaderAuth.php?" % a["base"]
    params = {"uuid": loan_key, "token": make_ia_token(item_id, 600), "id": item_id, "bookPath": book_path,
              "iaUserId": ia_userid, "iaAuthToken": make_ia_token(ia_userid, 120)}
    return auth_link + urllib.parse.urlencode(params)
print(json.dumps(make_bookreader_auth_link("loan-" + a["id"], a["id"], "/stream/" + a["id"], a["userid"])))
`;
const pythonProbe = spawnSync('/usr/bin/python3', ['-c', 'import hmac'], { encoding: 'utf8' });
const noPython = pythonProbe.status !== 0 && process.env.REQUIRE_PYTHON_INTEROP !== '1';
if (noPython)
  console.log(
    'Python comparison skipped: /usr/bin/python3 cannot run (REQUIRE_PYTHON_INTEROP=1 fails instead).',
  );

function openLibraryLink(args: { now: number; secret: string; base: string; id: string; userid: string }) {
  const result = spawnSync('/usr/bin/python3', ['-c', OL_LINK], {
    input: JSON.stringify(args),
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`python failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as string;
}

async function loggedIn(who = demo): Promise<Browser> {
  const browser = h.browser();
  await browser.call().auth.login({ email: who.email, password: who.password });
  return browser;
}

async function open(url: string) {
  const response = await fetch(url);
  return { status: response.status, html: await response.text() };
}

/** Every value the recorder logged, as one string: the link and its tokens must not be in it. */
const logged = () => JSON.stringify(h.recorder.lines);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.archiveState.reset();
  h.archiveState.fault = null;
  h.recorder.reset();
  h.clock = Date.now();
});

describe('loans.readLink', () => {
  it('builds the link as Open Library does, and the stand-in opens the reader with the title', async () => {
    const browser = await loggedIn();
    await browser.call().loans.borrow({ identifier: PRIDE });
    h.recorder.reset();

    const link = await browser.call().loans.readLink({ identifier: PRIDE });
    const url = new URL(link.url);
    expect(`${url.origin}${url.pathname}`).toBe(`${h.archiveUrl}/bookreader/BookReaderAuth.php`);
    // The parameters, in make_bookreader_auth_link's order, form-encoded (bookPath's "/" as %2F).
    expect([...url.searchParams.keys()]).toEqual([
      'uuid',
      'token',
      'id',
      'bookPath',
      'iaUserId',
      'iaAuthToken',
    ]);
    expect(link.url).toContain(`bookPath=%2Fstream%2F${PRIDE}`);
    const params = Object.fromEntries(url.searchParams);
    expect(params).toMatchObject({
      uuid: `loan-${PRIDE}`,
      id: PRIDE,
      bookPath: `/stream/${PRIDE}`,
      iaUserId: demo.itemname,
    });
    // The stand-in's own make_ia_token (an independent implementation) gives the same tokens at the same clock.
    const now = h.clock / 1000;
    expect(params.token).toBe(makeIaToken(DEMO_ACCESS_SECRET, PRIDE, 600, now));
    expect(params.iaAuthToken).toBe(makeIaToken(DEMO_ACCESS_SECRET, demo.itemname, 120, now));
    expect(Date.parse(link.expiresAt)).toBe(h.clock + 120_000);

    const page = await open(link.url);
    expect(page.status).toBe(200);
    expect(page.html).toContain('<h1>Pride and Prejudice</h1>');
    expect(page.html).toMatch(/aria-label="Page 2"/);

    // Made on request, never logged: the identifier is, the tokens are not.
    expect(h.recorder.lines.map((line) => line.message)).toContain('read link made');
    expect(logged()).not.toContain(params.token);
    expect(logged()).not.toContain(params.iaAuthToken);
  });

  it.skipIf(noPython)('is byte for byte the link Open Library’s Python makes at the same time', async () => {
    const browser = await loggedIn();
    await browser.call().loans.borrow({ identifier: PRIDE });
    h.clock = Date.now() + 0.75; // a fractional second, as time.time() has
    const link = await browser.call().loans.readLink({ identifier: PRIDE });
    const expected = openLibraryLink({
      now: h.clock / 1000,
      secret: DEMO_ACCESS_SECRET,
      base: h.archiveUrl,
      id: PRIDE,
      userid: demo.itemname,
    });
    expect(link.url).toBe(expected);
  });

  it('refuses a book the patron has not borrowed with not_borrowed, and one another patron holds', async () => {
    const other = await loggedIn(reader);
    await other.call().loans.borrow({ identifier: PRIDE });
    const browser = await loggedIn();

    const error = await errorOf(browser.call().loans.readLink({ identifier: PRIDE }));
    expect(error.data).toMatchObject({ code: 'FORBIDDEN', httpStatus: 403, appCode: 'not_borrowed' });
    expect(error.message).toBe('The patron does not have this book on loan now; borrow it to read it.');
    const log = await failureLogOf(browser.call().loans.readLink({ identifier: PRIDE }));
    expect(log).toMatchObject({ level: 'info', fields: { status: 403, appCode: 'not_borrowed' } });
  });

  it('refuses a returned loan, and the stand-in refuses the link made before the return', async () => {
    const browser = await loggedIn();
    await browser.call().loans.borrow({ identifier: PRIDE });
    const before = await browser.call().loans.readLink({ identifier: PRIDE });
    await browser.call().loans.return({ identifier: PRIDE });

    const error = await errorOf(browser.call().loans.readLink({ identifier: PRIDE }));
    expect(error.data).toMatchObject({ appCode: 'not_borrowed', httpStatus: 403 });
    const page = await open(before.url);
    expect(page.status).toBe(403);
    expect(page.html).toContain('You no longer have this book on loan');
  });

  it('answers not_borrowed for an unknown identifier and a clear 400 for a malformed one', async () => {
    const browser = await loggedIn();
    const unknown = await errorOf(browser.call().loans.readLink({ identifier: 'nosuchbook00none' }));
    expect(unknown.data).toMatchObject({ appCode: 'not_borrowed', httpStatus: 403 });

    for (const identifier of ['', '../etc/passwd', 'a b', 'x'.repeat(101)]) {
      const bad = await errorOf(browser.call().loans.readLink({ identifier }));
      expect(bad.data).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400 });
      expect(bad.data.fieldErrors).toHaveProperty('identifier');
    }
  });

  it('needs a session', async () => {
    const error = await errorOf(h.browser().call().loans.readLink({ identifier: PRIDE }));
    expect(error.data).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401 });
  });

  it('gives a link the stand-in refuses as expired once its two minutes have passed', async () => {
    const browser = await loggedIn();
    await browser.call().loans.borrow({ identifier: PRIDE });
    const stale = await browser.call().loans.readLink({ identifier: PRIDE });
    const realNow = h.archiveState.now;
    h.archiveState.now = () => new Date(realNow().getTime() + 3 * 60_000); // opened three minutes later
    try {
      const page = await open(stale.url);
      expect(page.status).toBe(403);
      expect(page.html).toContain('This reading link has expired');
    } finally {
      h.archiveState.now = realNow;
    }
  });

  it('says archive_unavailable, not a 500, when archive.org answers garbage', async () => {
    const browser = await loggedIn();
    await browser.call().loans.borrow({ identifier: PRIDE });
    for (const fault of [
      { kind: 'non_json' },
      { kind: 'bad_shape' },
      { kind: 'status', status: 502 },
    ] as const) {
      h.archiveState.fault = fault;
      const error = await errorOf(browser.call().loans.readLink({ identifier: PRIDE }));
      expect(error.data).toMatchObject({ appCode: 'archive_unavailable', httpStatus: 503 });
    }
  });

  it('is signed with the configured access secret: a link signed with another is refused as forged', async () => {
    const other = await startHarness({ accessSecret: 'not-the-secret-the-stand-in-knows' });
    try {
      const browser = other.browser();
      await browser.call().auth.login({ email: demo.email, password: demo.password });
      await browser.call().loans.borrow({ identifier: PRIDE });
      const link = await browser.call().loans.readLink({ identifier: PRIDE });
      const page = await open(link.url);
      expect(page.status).toBe(403);
      expect(page.html).toContain('This reading link is not valid');
    } finally {
      await other.close();
    }
  });
});

describe('site.config', () => {
  it('tells anyone the cover image host, and nothing secret', async () => {
    const config = await h.browser().call().site.config();
    expect(config).toEqual({ imagesUrl: h.archiveUrl });
  });
});
