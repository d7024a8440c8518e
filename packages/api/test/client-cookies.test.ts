import { describe, expect, it } from 'vitest';
import { CookieStore, cookieFetch, createLendingClient, parseSetCookie } from '../src/client';

describe('parseSetCookie', () => {
  it('reads name, value and lifetime', () => {
    expect(parseSetCookie('session=abc; Path=/; HttpOnly; Secure; SameSite=Lax', 0)).toEqual({
      name: 'session',
      value: 'abc',
      expiresAt: null,
    });
    expect(parseSetCookie('s3=x=y; Max-Age=60', 1000)).toEqual({
      name: 's3',
      value: 'x=y',
      expiresAt: 61_000,
    });
    expect(parseSetCookie('a=1; Expires=Thu, 01 Jan 1970 00:00:10 GMT', 0)?.expiresAt).toBe(10_000);
  });

  it('lets Max-Age win over Expires, in any order', () => {
    const header = 'a=1; Max-Age=0; Expires=Fri, 01 Jan 2100 00:00:00 GMT';
    expect(parseSetCookie(header, 5)?.expiresAt).toBe(5);
  });

  it('treats an empty value as a deletion and rejects nameless pairs', () => {
    expect(parseSetCookie('session=; Path=/', 7)?.expiresAt).toBe(7);
    expect(parseSetCookie('=abc', 0)).toBeNull();
    expect(parseSetCookie('novalue', 0)).toBeNull();
  });
});

describe('CookieStore', () => {
  it('stores, replaces, deletes and expires cookies', () => {
    let now = 0;
    const jar = new CookieStore(() => now);
    jar.receive(['session=one; Path=/; HttpOnly', 's3=keys; Max-Age=10']);
    expect(jar.header()).toBe('session=one; s3=keys');
    jar.receive(['session=two']);
    expect(jar.get('session')).toBe('two');
    now = 11_000;
    expect(jar.all()).toEqual({ session: 'two' });
    jar.receive(['session=; Max-Age=0']);
    expect(jar.header()).toBeNull();
    jar.receive(['x=1', 'y=2; Expires=Thu, 01 Jan 1970 00:00:00 GMT']);
    expect(jar.all()).toEqual({ x: '1' });
    jar.clear();
    expect(jar.all()).toEqual({});
  });
});

describe('cookieFetch', () => {
  it('sends the jar and keeps every Set-Cookie of the response', async () => {
    const jar = new CookieStore();
    jar.receive(['session=old']);
    const seen: (string | null)[] = [];
    const fake: typeof fetch = (_input, init) => {
      seen.push(new Headers(init?.headers).get('cookie'));
      const headers = new Headers();
      headers.append('set-cookie', 'session=new; Path=/; HttpOnly');
      headers.append('set-cookie', 's3=sealed; Path=/; HttpOnly');
      return Promise.resolve(new Response('{}', { headers }));
    };
    const wrapped = cookieFetch(jar, fake);
    await wrapped('http://example.test/trpc', { headers: { 'content-type': 'application/json' } });
    await wrapped('http://example.test/trpc');
    expect(seen).toEqual(['session=old', 'session=new; s3=sealed']);
  });
});

describe('createLendingClient', () => {
  it('exposes the jar and sends stored cookies with a procedure call', async () => {
    const requests: { url: string; cookie: string | null }[] = [];
    const fake: typeof fetch = (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      requests.push({ url, cookie: new Headers(init?.headers).get('cookie') });
      const headers = new Headers({ 'content-type': 'application/json' });
      headers.append('set-cookie', 'session=s1; Path=/; HttpOnly');
      return Promise.resolve(new Response(JSON.stringify({ result: { data: null } }), { headers }));
    };
    const client = createLendingClient({ url: 'http://lending.test/trpc', fetch: fake });
    expect(await client.account.me.query()).toBeNull();
    expect(client.cookies.get('session')).toBe('s1');
    await client.account.me.query();
    expect(requests.map((r) => r.cookie)).toEqual([null, 'session=s1']);
    expect(requests[0]?.url).toMatch(/^http:\/\/lending\.test\/trpc\/account\.me/);
    client.cookies.clear();
    expect(client.cookies.all()).toEqual({});
  });
});
