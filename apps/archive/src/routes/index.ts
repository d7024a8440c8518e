import type { Context } from 'koa';
import type { ArchiveState } from '../state';
import { availability } from './availability';
import { bookReaderAuth } from './bookreader';
import { cover } from './covers';
import { lendingApi } from './lending-api';
import { loans } from './loans';
import { s3auth } from './s3auth';
import { advancedSearch } from './search';
import { xauthn } from './xauthn';

export interface Endpoint {
  /** The call counter's key for this request. */
  key(ctx: Context): string;
  handle(ctx: Context, state: ArchiveState): void | Promise<void>;
}

/** `<name>.<the query parameter's value>`, when it looks like an operation name. */
const keyedBy =
  (name: string, parameter: string) =>
  (ctx: Context): string => {
    const value = ctx.query[parameter];
    return typeof value === 'string' && /^[a-z_]{1,32}$/.test(value) ? `${name}.${value}` : `${name}.invalid`;
  };
const named = (name: string) => () => name;

// Each at the path archive.org serves it at (see the README's endpoint table for the sources).
const endpoints = new Map<string, Endpoint>([
  ['/services/xauthn/', { key: keyedBy('xauthn', 'op'), handle: xauthn }],
  ['/services/s3auth/', { key: named('s3auth'), handle: s3auth }],
  ['/services/loans/loan/', { key: keyedBy('loans', 'action'), handle: loans }],
  ['/services/openlibrary.php/', { key: named('lendingApi'), handle: lendingApi }],
  ['/services/availability/', { key: named('availability'), handle: availability }],
  ['/advancedsearch.php/', { key: named('advancedsearch'), handle: advancedSearch }],
  ['/bookreader/BookReaderAuth.php/', { key: named('bookreader'), handle: bookReaderAuth }],
]);
const IMAGES = '/services/img/';
const imageEndpoint: Endpoint = { key: named('img'), handle: cover };

/** The endpoint serving `path` (a trailing slash is optional), or null. */
export function findEndpoint(path: string): Endpoint | null {
  if (path.startsWith(IMAGES) && path.length > IMAGES.length) return imageEndpoint;
  return endpoints.get(path.replace(/\/?$/, '/')) ?? null;
}
