// A single GET query and the same query in a batch of one (as the SPA's httpBatchLink sends it) must answer
// alike: same status, same body, same cookies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, startStack } from './helpers';
import type { Reply, Stack } from './helpers';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack.close();
});

async function both(client: Client, procedure: string, input?: unknown): Promise<[Reply, Reply]> {
  const jar = new Map(client.cookies);
  const single = await client.query(procedure, input);
  client.cookies.clear();
  for (const [name, value] of jar) client.cookies.set(name, value); // the same cookies for both
  const batchInput = encodeURIComponent(JSON.stringify(input === undefined ? {} : { 0: input }));
  const batch = await client.request(`/trpc/${procedure}?batch=1&input=${batchInput}`);
  return [single, batch];
}

function expectSame(single: Reply, batch: Reply): void {
  expect(single.status).toBe(batch.status);
  expect(single.body).toEqual((batch.body as unknown[])[0]);
  expect(single.headers.get('content-type')).toBe(batch.headers.get('content-type'));
  expect(single.headers.get('cache-control')).toBe('no-store');
  expect(single.setCookies.map((c) => [c.name, c.attributes])).toEqual(
    batch.setCookies.map((c) => [c.name, c.attributes]),
  );
}

describe('single GET queries and batches answer alike', () => {
  it('logged out: account.me null, loans.list 401, books.list, bad input 400 with field errors', async () => {
    const client = new Client(stack.url);
    expectSame(...(await both(client, 'account.me')));
    expectSame(...(await both(client, 'loans.list')));
    expectSame(...(await both(client, 'books.list', { query: 'austen' })));
    const [single, batch] = await both(client, 'books.list', { query: 5 });
    expect(single.status).toBe(400);
    expectSame(single, batch);
  });

  it('logged in: account.me, loans.list, loans.history', async () => {
    const client = new Client(stack.url);
    await client.login();
    expectSame(...(await both(client, 'account.me')));
    expectSame(...(await both(client, 'loans.list')));
    expectSame(...(await both(client, 'loans.history', { limit: 5 })));
  });

  it('a stale session cookie is cleared alike', async () => {
    const client = new Client(stack.url);
    const stale = 'gAAAAABnot-a-valid-token';
    client.cookies.set('session', stale);
    const [single, batch] = await both(client, 'account.me');
    // Both cookies: an s3 cookie is of no use without its session.
    expect(single.setCookies.map((c) => c.name)).toEqual(['session', 's3']);
    expectSame(single, batch);
  });

  it('answers mutations over GET, unknown procedures and bad JSON as tRPC does', async () => {
    const client = new Client(stack.url);
    expect((await client.query('auth.logout')).status).toBe(405);
    expect((await client.query('no.such')).status).toBe(404);
    expect((await client.request('/trpc/books.list?input=%7Bnot-json')).status).toBe(400);
  });
});
