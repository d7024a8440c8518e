import { describe, expect, it } from 'vitest';
import { defaultFixture } from '../src/app';
import { wrap } from '../src/cover';
import { useArchive } from './support';

const archive = useArchive({ catalogue: 'full' });
const books = defaultFixture({ catalogue: 'full' }).books;
const cover = (identifier: string, init?: RequestInit) =>
  fetch(`${archive.current.url}/services/img/${identifier}`, init);

describe('covers: GET /services/img/<identifier>', () => {
  it('serves an SVG with the title and author, cacheable, the same every time', async () => {
    const response = await cover('draculabram00stok');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=86400');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(response.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    const etag = response.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    const svg = await response.text();
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="180" height="270"/);
    expect(svg).toContain('<title>Dracula by Bram Stoker</title>');
    expect(svg).toContain('>Bram Stoker</text>');
    expect(svg.length).toBeLessThan(2000);
    expect(await (await cover('draculabram00stok')).text()).toBe(svg);

    // What a browser sends to revalidate (fetch() alone would add `Cache-Control: no-cache`, forcing a 200).
    const again = await cover('draculabram00stok', {
      headers: { 'if-none-match': etag!, 'cache-control': 'max-age=0' },
    });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('gives every book its own colour, escapes titles and keeps long ones to five lines', async () => {
    const colours = new Set<string>();
    for (const book of books) {
      const svg = await (await cover(book.identifier)).text();
      colours.add(/fill="(hsl\([^)]+\))"/.exec(svg)![1]!);
      expect(svg).not.toMatch(/<text[^>]*>[^<]*[<>"][^<]*<\/text>/);
    }
    expect(colours.size).toBeGreaterThan(books.length * 0.8);
    const longest = books.reduce((a, b) => (b.title.length > a.title.length ? b : a));
    const long = await (await cover(longest.identifier)).text();
    expect(long.match(/font-size="17"[^]*?<\/g>/)![0].match(/<text /g)!.length).toBeLessThanOrEqual(5);
    expect(wrap('An Inquiry into the Nature and Causes of the Wealth of Nations', 16, 5)).toEqual([
      'An Inquiry into',
      'the Nature and',
      'Causes of the',
      'Wealth of',
      'Nations',
    ]);
    expect(wrap('one two three four five six seven eight nine ten', 5, 3)).toEqual(['one', 'two', 'three…']);
    const accented = await (await cover('lesmiserables00hugo')).text();
    expect(accented).toContain('Les Misérables');
  });

  it('answers HEAD, and 404 for unknown identifiers or deeper paths', async () => {
    const head = await cover('draculabram00stok', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
    for (const path of [
      'nosuchbook00none',
      'draculabram00stok/full/pct:600/0/default.jpg',
      '@demo_patron',
      '..%2F..',
    ]) {
      const response = await cover(path);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      await response.arrayBuffer();
    }
    const post = await cover('draculabram00stok', { method: 'POST' });
    expect(post.status).toBe(405);
    await post.arrayBuffer();
  });
});
