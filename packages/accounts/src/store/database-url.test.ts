import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDatabaseUrl, redactDatabaseUrl } from './database-url';
import { openAccountStore } from './open';

describe('parseDatabaseUrl', () => {
  it('reads sqlite paths relative to the current directory, and :memory:', () => {
    expect(parseDatabaseUrl('sqlite:./data/lending.db')).toEqual({
      kind: 'sqlite',
      filename: resolve('data/lending.db'),
    });
    expect(parseDatabaseUrl('sqlite:/var/lib/lending.db')).toEqual({
      kind: 'sqlite',
      filename: '/var/lib/lending.db',
    });
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', filename: ':memory:' });
  });

  it('strips schema= from a postgres URL and keeps every other parameter', () => {
    expect(parseDatabaseUrl('postgres://u:p@db.example:5433/lending?schema=app_1&sslmode=require')).toEqual({
      kind: 'postgres',
      connectionString: 'postgres://u:p@db.example:5433/lending?sslmode=require',
      schema: 'app_1',
    });
    expect(parseDatabaseUrl('postgresql://localhost/test')).toEqual({
      kind: 'postgres',
      connectionString: 'postgresql://localhost/test',
      schema: undefined,
    });
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['sqlite:', /no file path/],
    ['sqlite:///tmp/x.db', /sqlite:<path>/],
    ['mysql://root:hunter2@db/x', /scheme "mysql:" is not supported/],
    ['just-a-path.db', /no scheme/],
    ['postgres://u:hunter2@db/x?schema=bad-name', /schema= must be a plain identifier/],
    ['postgres://u:hunter2@db/x?schema=a&schema=b', /more than one schema/],
    ['postgres://u:hunter2@[bad/x', /not a valid postgres/],
    ['postgres:///x', /no host/],
  ])('refuses %j with a clear message that never repeats the URL', (url, message) => {
    let error: unknown;
    try {
      parseDatabaseUrl(url);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('hunter2');
  });
});

describe('redactDatabaseUrl', () => {
  it.each([
    [
      'postgres://u:hunter2@db.example:5433/lending?schema=a',
      'postgres://u:***@db.example:5433/lending?schema=a',
    ],
    ['postgresql://localhost/test', 'postgresql://localhost/test'],
    ['mysql://root:hunter2@db/x', 'mysql://root:***@db/x'],
    ['postgres://u:p@ss@[h/db', 'postgres://(unparseable URL)'],
    ['sqlite:./data/lending.db', 'sqlite:./data/lending.db'],
    ['root:hunter2@db', 'root://(unparseable URL)'],
    ['no-scheme:hunter2@db/x', 'no-scheme://(unparseable URL)'],
  ])('shows %j as %j', (url, shown) => {
    expect(redactDatabaseUrl(url)).toBe(shown);
  });
});

describe('openAccountStore', () => {
  it('reports an unreachable PostgreSQL server without the password', async () => {
    // Port 1: nothing listens there, so the connection is refused at once.
    const error: unknown = await openAccountStore(
      'postgres://lending:hunter2-secret@127.0.0.1:1/lending',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/PostgreSQL error.*open/);
    expect((error as Error).message).not.toContain('hunter2');
    expect(JSON.stringify(error)).not.toContain('hunter2');
  });

  it('opens a SQLite store in memory', async () => {
    const store = await openAccountStore('sqlite::memory:');
    expect(store.kind).toBe('sqlite');
    await store.ping();
    await store.close();
  });
});
