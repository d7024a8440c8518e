import { describe, expect, it } from 'vitest';
import { defaultFixture, demoPatrons } from '../src/app';
import { keysOf, loan, raw, useArchive } from './support';

const classic = useArchive();
const archive = useArchive({ catalogue: 'full' });
const fullBooks = defaultFixture({ catalogue: 'full' }).books;
const lendable = fullBooks.filter((b) => b.collections.includes('inlibrary'));
const printDisabledOnly = fullBooks.filter((b) => !b.collections.includes('inlibrary'));

interface SearchAnswer {
  status: number;
  body: Record<string, unknown>;
  numFound: number;
  start: number;
  docs: Record<string, unknown>[];
}

async function search(base: string, params: Record<string, string | string[]>): Promise<SearchAnswer> {
  const query = new URLSearchParams({ output: 'json' });
  for (const [name, value] of Object.entries(params)) {
    for (const one of [value].flat()) query.append(name, one);
  }
  const res = await raw(`${base}/advancedsearch.php?${query.toString()}`);
  const response = (res.body.response ?? {}) as {
    numFound: number;
    start: number;
    docs: Record<string, unknown>[];
  };
  return { status: res.status, body: res.body, ...response };
}

const ids = (answer: SearchAnswer) => answer.docs.map((doc) => doc.identifier as string);
const find = (q: string, rows = '1000') => search(archive.current.url, { q, rows, 'fl[]': 'identifier' });

describe('advancedsearch: the contract Lending uses today (classic catalogue, the default)', () => {
  const classicBooks = defaultFixture().books;

  it('lists the catalogue with the requested fields', async () => {
    const answer = await search(classic.current.url, {
      q: 'collection:inlibrary',
      'fl[]': ['identifier', 'title', 'creator', 'year'],
      rows: '100',
    });
    expect(classicBooks).toHaveLength(30);
    expect(answer.numFound).toBe(30);
    expect(answer.docs).toHaveLength(30);
    expect(answer.docs[0]).toEqual({
      identifier: classicBooks[0]!.identifier,
      title: classicBooks[0]!.title,
      creator: classicBooks[0]!.creator,
      year: classicBooks[0]!.year,
    });
  });

  it('pages with rows and page, and selects fields', async () => {
    const answer = await search(classic.current.url, {
      q: 'collection:inlibrary',
      'fl[]': 'identifier',
      rows: '2',
      page: '2',
    });
    expect(answer.docs).toEqual(classicBooks.slice(2, 4).map((b) => ({ identifier: b.identifier })));
  });

  it('finds nothing in another collection', async () => {
    const answer = await search(classic.current.url, { q: 'collection:americana', rows: '5' });
    expect(answer).toMatchObject({ status: 200, numFound: 0, docs: [] });
  });
});

describe('advancedsearch: paging through the whole catalogue', () => {
  it('has 120+ lendable books and a few print-disabled-only ones', () => {
    expect(lendable.length).toBeGreaterThanOrEqual(120);
    expect(printDisabledOnly.length).toBeGreaterThanOrEqual(3);
    expect(new Set(fullBooks.map((b) => b.identifier)).size).toBe(fullBooks.length);
  });

  it.each([['20'], ['100'], ['7']])('pages of %s reach every lendable book once, in order', async (rows) => {
    const seen: string[] = [];
    for (let page = 1; ; page += 1) {
      const answer = await search(archive.current.url, {
        q: 'collection:inlibrary',
        'fl[]': 'identifier',
        rows,
        page: String(page),
      });
      expect(answer.status).toBe(200);
      expect(answer.numFound).toBe(lendable.length);
      expect(answer.start).toBe((page - 1) * Number(rows));
      if (answer.docs.length === 0) break;
      expect(answer.docs.length).toBeLessThanOrEqual(Number(rows));
      seen.push(...ids(answer));
    }
    expect(seen).toEqual(lendable.map((b) => b.identifier));
  });

  it('rows=0 counts without listing (the way a client pings it)', async () => {
    const answer = await search(archive.current.url, { q: 'collection:inlibrary', rows: '0' });
    expect(answer).toMatchObject({ status: 200, numFound: lendable.length, docs: [] });
  });

  it('answers fl=a,b and fl[] alike, collection as a list', async () => {
    const one = await search(archive.current.url, {
      q: 'identifier:prince00mach',
      fl: 'identifier,collection',
    });
    const two = await search(archive.current.url, {
      q: 'identifier:prince00mach',
      'fl[]': ['identifier', 'collection'],
    });
    expect(one.docs).toEqual([{ identifier: 'prince00mach', collection: ['printdisabled'] }]);
    expect(two.docs).toEqual(one.docs);
  });
});

describe('advancedsearch: the query language', () => {
  it.each([
    ['collection:printdisabled', fullBooks.length],
    ['collection:(printdisabled) AND NOT collection:(inlibrary)', printDisabledOnly.length],
    ['collection:printdisabled AND !collection:inlibrary', printDisabledOnly.length],
    ['collection:printdisabled -collection:inlibrary', printDisabledOnly.length],
    ['collection:(inlibrary OR printdisabled)', fullBooks.length],
    ['mediatype:texts', fullBooks.length],
    ['openlibrary_work:(*)', 0],
    ['identifier:*', fullBooks.length],
  ])('%s finds %d', async (q, count) => {
    expect((await find(q)).numFound).toBe(count);
  });

  it('finds identifiers, titles, phrases, prefixes, authors, accents and years', async () => {
    expect(ids(await find('identifier:(draculabram00stok OR emmaausten00aust OR nosuch00book)'))).toEqual([
      'emmaausten00aust',
      'draculabram00stok',
    ]);
    expect(ids(await find('title:(moby dick)'))).toEqual(['mobydickorwhale00melv']);
    expect(ids(await find('title:"tale of two"'))).toEqual(['taleoftwocities00dick']);
    expect(ids(await find('title:"two tale"'))).toEqual([]);
    expect(ids(await find('title:drac*'))).toEqual(['draculabram00stok']);
    expect(ids(await find('title:miserables'))).toEqual(['lesmiserables00hugo']);
    expect(ids(await find('creator:bronte')).length).toBe(5);
    expect(ids(await find('dracula'))).toEqual(['draculabram00stok']);
    const austen = await find('austen');
    expect(austen.numFound).toBe(6);
    const years = await search(archive.current.url, { q: 'year:[1800 TO 1815]', fl: 'year', rows: '100' });
    expect(years.numFound).toBeGreaterThan(3);
    expect(years.docs.every((doc) => (doc.year as number) >= 1800 && (doc.year as number) <= 1815)).toBe(
      true,
    );
    expect((await find('year:[* TO 1700]')).numFound).toBe(
      fullBooks.filter((b) => b.year !== null && b.year <= 1700).length,
    );
    expect((await find('collection:inlibrary AND title:(war AND peace)')).docs).toEqual([
      { identifier: 'warandpeace00tols' },
    ]);
  });

  it('answers Open Library’s own lendable query from live availability', async () => {
    const q =
      'collection:(inlibrary) AND (lending___available_to_browse:true OR lending___available_to_borrow:true)';
    expect((await find(q)).numFound).toBe(lendable.length);
    const single = lendable.find((b) => b.copies === 1)!.identifier;
    const patron = demoPatrons()[0]!;
    expect((await loan(archive.current.url, 'borrow_book', single, keysOf(patron))).status).toBe(200);
    expect((await find(q)).numFound).toBe(lendable.length - 1);
    expect(ids(await find('lending___available_to_waitlist:true'))).toEqual([single]);
    expect((await find('lending___is_printdisabled:true AND lending___is_lendable:false')).numFound).toBe(
      printDisabledOnly.length,
    );
  });

  it('sorts by title, year or identifier, either way', async () => {
    const byTitle = await search(archive.current.url, {
      q: 'creator:dickens',
      fl: 'title',
      'sort[]': 'title asc',
    });
    expect(byTitle.docs.map((d) => d.title)).toEqual([
      'Bleak House',
      'A Christmas Carol',
      'David Copperfield',
      'Great Expectations',
      'Hard Times',
      'Little Dorrit',
      'Nicholas Nickleby',
      'Oliver Twist',
      'Our Mutual Friend',
      'The Pickwick Papers',
      'A Tale of Two Cities',
    ]);
    const byYear = await search(archive.current.url, {
      q: 'creator:austen',
      fl: 'year',
      'sort[]': ['year desc', 'title asc'],
    });
    expect(byYear.docs.map((d) => d.year)).toEqual([1817, 1817, 1815, 1814, 1813, 1811]);
    const empty = await search(archive.current.url, { q: 'creator:austen', 'sort[]': '' });
    expect(empty.status).toBe(200);
  });
});

describe('advancedsearch: bad input is a 400 JSON answer', () => {
  it.each([
    ['no output=json', 'q=collection:inlibrary&rows=5'],
    ['bad rows', 'q=collection:inlibrary&rows=abc&output=json'],
    ['too many rows', 'q=collection:inlibrary&rows=10001&output=json'],
    ['page 0', 'q=collection:inlibrary&page=0&output=json'],
    ['missing q', 'output=json'],
    ['repeated q', 'q=a&q=b&output=json'],
    ['empty q', 'q=&output=json'],
    ['unbalanced (', 'q=title:(moby&output=json'],
    ['unbalanced )', 'q=moby)&output=json'],
    ['unknown field', 'q=password:x&output=json'],
    ['field in a field', 'q=title:creator:x&output=json'],
    ['dangling AND', 'q=moby AND&output=json'],
    ['unterminated quote', 'q=title:"moby&output=json'],
    ['bad range', 'q=year:[1800 1900]&output=json'],
    ['bad year range', 'q=year:[a TO b]&output=json'],
    ['bad sort', 'q=austen&sort[]=password asc&output=json'],
    ['deep nesting', `q=${'('.repeat(40)}x${')'.repeat(40)}&output=json`],
    ['too many terms', `q=${Array.from({ length: 300 }, () => 'x').join(' ')}&output=json`],
    ['long q', `q=${'x'.repeat(3000)}&output=json`],
  ])('%s', async (_name, query) => {
    const res = await raw(`${archive.current.url}/advancedsearch.php?${query.replaceAll(' ', '%20')}`);
    expect(res.status).toBe(400);
    expect(res.type).toMatch(/application\/json/);
    expect(res.body.error).toMatch(/^bad_(request|query)$/);
  });

  it('POST is not allowed', async () => {
    const res = await raw(`${archive.current.url}/advancedsearch.php?q=x&output=json`, { method: 'POST' });
    expect(res.status).toBe(405);
  });

  it('random queries answer 200 or 400, never anything else', async () => {
    const seed = Number(process.env.SEARCH_FUZZ_SEED ?? Date.now() % 1_000_000);
    console.log(`search fuzz seed ${seed} (SEARCH_FUZZ_SEED=${seed} repeats it)`);
    let state = seed;
    const random = () => {
      // mulberry32
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pieces = [
      'title',
      'creator',
      'year',
      'collection',
      'identifier',
      ':',
      '(',
      ')',
      '[',
      ']',
      ' ',
      'AND',
      'OR',
      'NOT',
      '!',
      '-',
      '"',
      '*',
      'TO',
      'dracula',
      'inlibrary',
      '1850',
      'é',
      '\\',
      '%',
      '__proto__',
      'lending___is_lendable',
    ];
    for (let i = 0; i < 300; i += 1) {
      const length = 1 + Math.floor(random() * 12);
      const q = Array.from({ length }, () => pieces[Math.floor(random() * pieces.length)]!).join('');
      const res = await fetch(
        `${archive.current.url}/advancedsearch.php?${new URLSearchParams({ q, output: 'json' }).toString()}`,
      );
      expect([200, 400], `q=${JSON.stringify(q)} (seed ${seed})`).toContain(res.status);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      await res.arrayBuffer();
    }
  });
});
