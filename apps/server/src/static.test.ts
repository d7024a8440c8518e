import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseEncoding, resolveInside } from './static';

const root = path.resolve('/srv/web');

describe('resolveInside', () => {
  it('maps a URL path to a file under the root', () => {
    expect(resolveInside(root, '/assets/app.js')).toBe(path.join(root, 'assets/app.js'));
  });
  it.each([
    '/../etc/passwd',
    '/%2e%2e/etc/passwd',
    '/assets/%2e%2e/%2e%2e/x',
    '/.env',
    '/a%00b',
    '/%E0%A4%A',
    '/..%5cx',
  ])('refuses %s', (urlPath) => {
    expect(resolveInside(root, urlPath)).toBeNull();
  });
});

describe('chooseEncoding', () => {
  const variants = [{ encoding: 'br' }, { encoding: 'gzip' }];
  it.each([
    ['', null],
    ['identity', null],
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['gzip;q=1, br;q=0.5', 'gzip'],
    ['*', 'br'],
    ['*;q=0, gzip', 'gzip'],
    ['BR;Q=0.9', 'br'],
    ['deflate', null],
  ])('Accept-Encoding %j -> %s', (header, expected) => {
    expect(chooseEncoding(header, variants)?.encoding ?? null).toBe(expected);
  });
});
