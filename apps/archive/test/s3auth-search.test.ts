import { describe, expect, it } from 'vitest';
import { defaultFixture, demoPatrons } from '../src/app';
import { raw, useArchive } from './support';

const archive = useArchive();
const demo = demoPatrons()[0]!;

describe('s3auth', () => {
  const s3auth = (authorization?: string) =>
    raw(`${archive.current.url}/services/s3auth/`, {
      headers: authorization === undefined ? {} : { authorization },
    });

  it('answers the patron for right keys; username is the email', async () => {
    const res = await s3auth(`LOW ${demo.access}:${demo.secret}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      authorized: true,
      username: 'patron@example.org',
      itemname: '@demo_patron',
      screenname: 'Demo Patron',
    });
  });

  it('refuses wrong keys with 401 and a malformed header with 400', async () => {
    expect(await s3auth(`LOW ${demo.access}:wrong`)).toMatchObject({
      status: 401,
      body: { authorized: false },
    });
    expect(await s3auth(`LOW nobody:${demo.secret}`)).toMatchObject({
      status: 401,
      body: { authorized: false },
    });
    for (const header of [
      undefined,
      '',
      'LOW ',
      `LOW ${demo.access}`,
      `Basic ${demo.access}:${demo.secret}`,
    ]) {
      expect(await s3auth(header)).toMatchObject({ status: 400, body: { authorized: false } });
    }
  });
});

describe('advancedsearch', () => {
  const search = (query: string) => raw(`${archive.current.url}/advancedsearch.php?${query}`);
  const full = 'q=collection:inlibrary&fl[]=identifier&fl[]=title&fl[]=creator&fl[]=year&output=json';

  it('lists the catalogue with the requested fields', async () => {
    const res = await search(`${full}&rows=100`);
    const response = res.body.response as { numFound: number; docs: Record<string, unknown>[] };
    const books = defaultFixture().books;
    expect(response.numFound).toBe(books.length);
    expect(response.docs).toHaveLength(books.length);
    expect(response.docs[0]).toEqual({
      identifier: books[0]!.identifier,
      title: books[0]!.title,
      creator: books[0]!.creator,
      year: books[0]!.year,
    });
  });

  it('pages with rows and page, and selects fields', async () => {
    const res = await search('q=collection:inlibrary&fl[]=identifier&rows=2&page=2&output=json');
    const response = res.body.response as { numFound: number; docs: Record<string, unknown>[] };
    expect(response.docs).toEqual(
      defaultFixture()
        .books.slice(2, 4)
        .map((b) => ({ identifier: b.identifier })),
    );
  });

  it('finds nothing in another collection', async () => {
    const res = await search('q=collection:americana&rows=5&output=json');
    expect(res.body.response).toMatchObject({ numFound: 0, docs: [] });
  });

  it.each([
    ['no output=json', 'q=collection:inlibrary&rows=5'],
    ['bad rows', 'q=collection:inlibrary&rows=abc&output=json'],
    ['free text query', 'q=title:(moby dick)&output=json'],
    ['missing q', 'output=json'],
    ['repeated q', 'q=a&q=b&output=json'],
  ])('%s -> 400', async (_name, query) => {
    const res = await search(query);
    expect(res.status).toBe(400);
    expect(res.type).toMatch(/application\/json/);
  });
});

describe('other paths and injected faults', () => {
  it('unknown paths are 404 JSON', async () => {
    const res = await raw(`${archive.current.url}/nope`);
    expect(res).toMatchObject({ status: 404, body: { error: 'not_found' } });
  });

  it('plays a status, non-JSON, bad shape and reset fault on the chosen path only', async () => {
    const url = `${archive.current.url}/advancedsearch.php?q=collection:inlibrary&output=json`;
    archive.current.state.fault = { kind: 'status', status: 503, path: '/advancedsearch' };
    expect((await fetch(url)).status).toBe(503);
    expect((await fetch(`${archive.current.url}/services/s3auth/`)).status).toBe(400);

    archive.current.state.fault = { kind: 'non_json' };
    const html = await fetch(url);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    await html.text();

    archive.current.state.fault = { kind: 'bad_shape' };
    expect(await (await fetch(url)).json()).toEqual({ unexpected: true });

    archive.current.state.fault = { kind: 'reset' };
    await expect(fetch(url)).rejects.toThrow();

    archive.current.state.fault = { kind: 'hang' };
    await expect(fetch(url, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
  });
});
