import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveInside } from './static';

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
