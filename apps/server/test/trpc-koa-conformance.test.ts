// Conformance: every request goes over real HTTP to two servers built the same way, one serving /trpc with the
// Koa-native adapter (src/trpc-koa), the other with tRPC's own nodeHTTPRequestHandler. Status, content type,
// body, the other headers, the log lines (app sides) and the calls to onError and responseMeta (harness sides)
// must be identical. Normalised, because they differ by nature, and only these:
// - framing: Date, Content-Length / Transfer-Encoding, Connection, Keep-Alive (tRPC streams its body chunked);
// - Set-Cookie values (Fernet tokens carry a random IV) and Expires (a clock reading): names and every other
//   attribute must match, Expires within 5 s;
// - rate limiting's remaining wait ("Wait N seconds", Retry-After), read off the clock, within 1 s;
// - in log lines: time, responseTime and stack traces (the frames name each adapter's own code).
// Each side has its own archive.org stand-in and SQLite file, and both run on one fixed clock.
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { demoPatrons } from '@lending/archive';
import { appRouter } from '@lending/api';
import type { Context } from '@lending/api';
import { initTRPC, getTRPCErrorShape, TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { BODY_LIMIT, send, startAppSide, startHarnessSide } from './conformance';
import type { Received, Sent, Side } from './conformance';
import { DEMO } from './helpers';

interface Case extends Sent {
  /** The browser (cookie jar) the request comes from; its cookies are sent and what the answer sets is kept. */
  as?: string;
}

let requests = 0;
let sequence = 0;
/** How the Koa side's answers were served, told by their framing (Koa writes a length, tRPC streams chunks). */
const served = { native: 0, handedOff: 0, beforeTRPC: 0 };

const framed = (received: Received) =>
  received.headers['content-length'] !== undefined && received.headers['transfer-encoding'] === undefined;

/** The Koa side answered through the adapter's own path (its length), where tRPC's handler streamed. */
function expectNative(received: Received): void {
  expect(framed(received), 'served by the adapter itself').toBe(true);
}

const FRAMING = new Set(['date', 'content-length', 'transfer-encoding', 'connection', 'keep-alive']);

function normalisedCookie(line: string, expires: number[]): string {
  const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
  const name = pair.slice(0, pair.indexOf('='));
  const sealed = pair.length > name.length + 1 ? '<value>' : '';
  const kept = attributes.map((attribute) => {
    if (!/^expires=/i.test(attribute)) return attribute;
    expires.push(Date.parse(attribute.slice('expires='.length)));
    return 'Expires=<date>';
  });
  return [`${name}=${sealed}`, ...kept].join('; ');
}

/** What must match between the two sides' answers, with the differences by nature set aside. */
function normalised(received: Received): { head: Record<string, unknown>; body: string; clocks: number[] } {
  const head: Record<string, unknown> = { status: received.status };
  const clocks: number[] = [];
  for (const [name, value] of Object.entries(received.headers)) {
    if (FRAMING.has(name)) continue;
    if (name === 'set-cookie') head[name] = (value as string[]).map((line) => normalisedCookie(line, clocks));
    else if (name === 'retry-after') {
      clocks.push(Number(value) * 1000);
      head[name] = '<seconds>';
    } else head[name] = value;
  }
  const body = received.text
    .replace(/Wait \d+ seconds?/g, 'Wait <n> seconds')
    .replace(/"retryAfter":(\d+)/g, (_match, seconds: string) => {
      clocks.push(Number(seconds) * 1000);
      return '"retryAfter":"<seconds>"';
    });
  return { head, body, clocks };
}

function withoutStacks(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutStacks);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== 'stack' && key !== 'time' && key !== 'responseTime')
      .map(([key, item]) => [key, withoutStacks(item)]),
  );
}

async function logLines(side: Side, id: string): Promise<string[]> {
  if (!side.logged) return [];
  const mine = () =>
    side.logs
      .flatMap((chunk) => chunk.split('\n').filter(Boolean))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.reqId === id);
  // tRPC's handler writes the answer before its promise settles, so the request's last line may trail it.
  for (let wait = 0; wait < 100 && !mine().some((l) => l.msg === 'request completed'); wait++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return mine()
    .map((line) => JSON.stringify(withoutStacks(line)))
    .sort();
}

/** Sends `c` to both sides of `pair` (the Koa side first), compares, and returns the Koa side's answer. */
async function both(pair: Side[], c: Case): Promise<Received> {
  const id = `c${++sequence}`;
  const answers: Received[] = [];
  for (const side of pair) {
    const headers: Record<string, string> = { 'x-request-id': id, ...c.headers };
    const cookie = c.as ? side.jar(c.as).header() : undefined;
    if (cookie && !headers.cookie) headers.cookie = cookie;
    const received = await send(side.url, { ...c, headers });
    if (c.as) side.jar(c.as).keep(received);
    answers.push(received);
  }
  requests++;
  if (framed(answers[0]!) && !framed(answers[1]!)) served.native++;
  else if (framed(answers[0]!)) served.beforeTRPC++;
  else served.handedOff++;
  const [koa, node] = answers.map(normalised) as [
    ReturnType<typeof normalised>,
    ReturnType<typeof normalised>,
  ];
  const label = `${id} ${c.method ?? 'GET'} ${c.path}`;
  expect(koa.head, label).toEqual(node.head);
  expect(koa.body, label).toBe(node.body);
  expect(koa.clocks.length, label).toBe(node.clocks.length);
  koa.clocks.forEach((clock, i) =>
    expect(Math.abs(clock - node.clocks[i]!), label).toBeLessThanOrEqual(5000),
  );
  const [koaSide, nodeSide] = pair as [Side, Side];
  expect(await logLines(koaSide, id), label).toEqual(await logLines(nodeSide, id));
  const hooks = (side: Side) =>
    (side.hooks.get(id) ?? [])
      .map((call) =>
        JSON.stringify(call, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value)),
      )
      .sort();
  expect(hooks(koaSide), label).toEqual(hooks(nodeSide));
  return answers[0]!;
}

const q = (value: unknown) => encodeURIComponent(JSON.stringify(value));
const json = { 'content-type': 'application/json' };
const post = (path: string, body?: string | Buffer, extra: Partial<Case> = {}): Case => ({
  method: 'POST',
  path,
  headers: json,
  ...(body === undefined ? {} : { body }),
  ...extra,
});
const login = (as: string, email: string, password: string, remember?: boolean): Case =>
  post('/trpc/auth.login', JSON.stringify({ email, password, ...(remember ? { remember } : {}) }), { as });
const patrons = demoPatrons();
const patron = (email: string) => patrons.find((p) => p.email === email)!;
const statusOf = (received: Received) => received.status;
const nativeAnswer = (received: Received) => {
  expectNative(received);
  return received;
};
const nativeStatus = (received: Received) => nativeAnswer(received).status;
const bodyOf = (received: Received) => JSON.parse(received.text) as unknown;

/** A GET on a given agent (so on a given connection), answering the body. */
function fetchOn(agent: http.Agent, url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

/** mulberry32: a small seeded generator, so a failing random sequence can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Logins go through scrypt in the stand-in and the machine is shared: generous timeouts, no timing asserted.
const SLOW = { timeout: 60_000 };

describe(
  "the app as mounted (the api's errorFormatter decides each status, in data.httpStatus)",
  SLOW,
  () => {
    let pair: Side[];
    beforeAll(async () => {
      pair = [await startAppSide('koa'), await startAppSide('node-http')];
    });
    afterAll(async () => {
      for (const side of pair) await side.close();
    });

    it('queries while logged out, single and batched, as curl and httpBatchLink send them', async () => {
      expect(bodyOf(await both(pair, { path: '/trpc/account.me' }))).toEqual({ result: { data: null } });
      // httpBatchLink's request for a query without input: `input` is `{}` (the batch's undefined input dropped).
      expectNative(await both(pair, { path: `/trpc/account.me?batch=1&input=${q({})}` }));
      await both(pair, { path: `/trpc/account.me?batch=1` });
      await both(pair, { path: `/trpc/books.list?input=${q({ query: 'austen' })}` });
      await both(pair, { path: `/trpc/books.list?batch=1&input=${q({ 0: { query: 'Brontë' } })}` });
      await both(pair, { path: `/trpc/books.list,account.me?batch=1&input=${q({ 0: { query: 'dick' } })}` });
      await both(pair, { path: `/trpc/books.list?input=${q({ query: '森鷗外 🐉 Ünïcödé' })}` });
      expectNative(await both(pair, { path: `/trpc/books.list?input=` })); // empty input: none
      await both(pair, { path: `/trpc/account%2Eme` }); // an escaped dot is still account.me
      await both(pair, { path: `/trpc/account.me?batch=true` }); // not a batch: only `batch=1` is
      await both(pair, { path: `/trpc/account.me?batch=1&batch=0&input=${q({})}` });
    });

    it('invalid and missing input, protected procedures, mixed and alike-failing batches', async () => {
      expect(nativeStatus(await both(pair, { path: `/trpc/books.list?input=${q({ query: 5 })}` }))).toBe(400);
      await both(pair, { path: `/trpc/books.list?input=${q({ query: 'x'.repeat(201) })}` });
      await both(pair, { path: `/trpc/loans.history?input=${q({ limit: 0, offset: -1 })}` });
      await both(pair, { path: `/trpc/books.list?input=${q(null)}` });
      expect(nativeStatus(await both(pair, { path: '/trpc/loans.list' }))).toBe(401);
      expect(nativeStatus(await both(pair, { path: '/trpc/loans.list,account.me?batch=1' }))).toBe(207);
      expect(
        nativeStatus(await both(pair, { path: `/trpc/loans.list,loans.history?batch=1&input=${q({})}` })),
      ).toBe(401);
      await both(pair, {
        path: `/trpc/books.list,books.list,account.me?batch=1&input=${q({ 0: { query: 1 }, 1: { query: [] } })}`,
      });
    });

    it('malformed requests: JSON, batch input, paths, unknown procedures, wrong methods, streaming', async () => {
      expect(statusOf(await both(pair, { path: '/trpc/books.list?input=%7Bnot-json' }))).toBe(400);
      // account.me never reads its input, so tRPC answers it however malformed: so must the adapter.
      expect(statusOf(await both(pair, { path: '/trpc/account.me?input=%7Bnot-json' }))).toBe(200);
      await both(pair, { path: `/trpc/books.list?batch=1&input=${q([{ query: 'a' }])}` });
      await both(pair, { path: `/trpc/books.list?batch=1&input=${q('text')}` });
      await both(pair, { path: '/trpc/books.list?batch=1&input=%7B%220%22%3A' });
      expect(statusOf(await both(pair, { path: '/trpc/no.such' }))).toBe(404);
      await both(pair, { path: '/trpc/account.me,no.such?batch=1' });
      await both(pair, { path: '/trpc/account' }); // a sub-router, not a procedure
      await both(pair, { path: '/trpc/_def.record.account.me' }); // the router's internals are no path
      await both(pair, { path: '/trpc/createCaller' });
      await both(pair, { path: '/trpc/account.me.then' });
      await both(pair, { path: '/trpc/account.me,books.list' }); // commas without batch=1: one unknown path
      await both(pair, { path: '/trpc/%E2%9C%93.%F0%9F%90%89' });
      await both(pair, { path: '/trpc/%ZZ' });
      expect(statusOf(await both(pair, { path: '/trpc/auth.logout' }))).toBe(405); // GET a mutation
      await both(pair, { path: '/trpc/auth.logout,account.me?batch=1' }); // mixed types
      expect(statusOf(await both(pair, post('/trpc/account.me', '{}')))).toBe(405); // POST a query
      await both(pair, post(`/trpc/books.list,account.me?batch=1`, '{}'));
      await both(pair, { method: 'HEAD', path: '/trpc/account.me' });
      await both(pair, { method: 'OPTIONS', path: '/trpc/account.me' });
      await both(pair, { method: 'PUT', path: '/trpc/auth.logout', headers: json, body: '{}' });
      await both(pair, { method: 'DELETE', path: '/trpc/auth.logout', headers: json, body: '{}' });
      await both(pair, {
        path: `/trpc/books.list,account.me?batch=1&input=${q({ 0: { query: 'twain' } })}`,
        headers: { 'trpc-accept': 'application/jsonl' },
      });
      await both(pair, { path: '/trpc/account.me', headers: { accept: 'application/jsonl' } });
      await both(pair, { path: '/trpc/account.me?connectionParams=%7B%7D' });
      await both(pair, {
        path: '/trpc/account.me',
        headers: { 'content-type': 'multipart/form-data; boundary=x' },
      });
      await both(pair, { path: '/trpc/account.me', headers: { host: 'bad host:99999' } });
    });

    it('logins, logouts and every app error code of logging in', async () => {
      const reply = await both(pair, login('patron', DEMO.email, DEMO.password));
      expectNative(reply);
      expect(reply.headers['set-cookie']).toHaveLength(2); // session and s3, two separate headers
      await both(pair, { path: `/trpc/account.me?batch=1&input=${q({})}`, as: 'patron' });
      // httpBatchLink's logout: a batch of one, body `{}`.
      await both(
        pair,
        post('/trpc/auth.login?batch=1', JSON.stringify({ 0: { ...DEMO, remember: true } }), { as: 'r' }),
      );
      expect(
        nativeAnswer(await both(pair, post('/trpc/auth.logout?batch=1', '{}', { as: 'r' }))).headers[
          'set-cookie'
        ],
      ).toHaveLength(2);
      await both(pair, post('/trpc/auth.logout', undefined, { as: 'r' })); // httpLink's: no body at all
      await both(pair, login('x', 'not-an-email', 'whatever')); // invalid_email
      await both(pair, login('x', DEMO.email, 'wrong-password')); // invalid_credentials
      await both(pair, login('x', 'nobody@example.org', 'whatever')); // invalid_credentials
      await both(pair, login('x', 'locked@example.org', 'locked-demo-2026')); // account_locked
      await both(pair, login('x', 'unverified@example.org', 'unverified-demo-2026')); // ia_account_not_verified
      await both(pair, post('/trpc/auth.loginWithKeys', JSON.stringify({ access: 'nope', secret: 'nope' }))); // invalid_s3keys
      const keys = patron('legacy-xauthn@example.org');
      await both(
        pair,
        post('/trpc/auth.loginWithKeys', JSON.stringify({ access: keys.access, secret: keys.secret }), {
          as: 'k',
        }),
      );
      // account_blocked: the account exists, and the store says blocked.
      await both(pair, login('blocked', 'reader@example.org', 'reader-demo-2026'));
      for (const side of pair) {
        const account = (await side.store.getByEmail('reader@example.org'))!;
        await side.store.update(account.username, account.revision, { status: 'blocked' });
      }
      expect(nativeStatus(await both(pair, login('x', 'reader@example.org', 'reader-demo-2026')))).toBe(403);
      await both(pair, { path: '/trpc/account.me', as: 'blocked' }); // that session is refused and cleared
      // max_retries_exceeded: every username taken five times over.
      for (const side of pair) side.faults.collideOn = 'scholar@example.org';
      expect(nativeStatus(await both(pair, login('x', 'scholar@example.org', 'scholar-demo-2026')))).toBe(
        409,
      );
      for (const side of pair) side.faults.collideOn = null;
      // rate_limited: the sixth attempt within the window for one email.
      for (let attempt = 0; attempt < 5; attempt++) await both(pair, login('x', 'limited@example.org', 'pw'));
      const limited = await both(pair, login('x', 'limited@example.org', 'pw'));
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toBeDefined();
      // Batches of logins: failing alike, and mixed with a logout.
      await both(
        pair,
        post(
          '/trpc/auth.login,auth.login?batch=1',
          JSON.stringify({
            0: { email: 'a@example.org', password: 'x' },
            1: { email: 'b@example.org', password: 'y' },
          }),
        ),
      );
      await both(
        pair,
        post(
          '/trpc/auth.login,auth.logout?batch=1',
          JSON.stringify({ 0: { email: 'c@example.org', password: 'x' } }),
        ),
      );
      await both(
        pair,
        post(
          '/trpc/auth.login,auth.login?batch=1',
          JSON.stringify({ 0: { email: 'not-an-email', password: 'x' }, 1: {} }),
        ),
      );
    });

    it('bodies: missing, empty, malformed, oversized, BOM-prefixed, not UTF-8, other content types', async () => {
      await both(pair, post('/trpc/auth.login')); // no body: the input read fails
      await both(pair, post('/trpc/auth.login', '')); // empty
      await both(pair, post('/trpc/auth.login', '{"email": '));
      await both(pair, post('/trpc/auth.login', 'null'));
      await both(pair, post('/trpc/auth.login', '{}'));
      await both(pair, post('/trpc/auth.login', '[]'));
      await both(pair, post('/trpc/auth.login?batch=1', '[1]'));
      await both(pair, post('/trpc/auth.login?batch=1', '"text"'));
      await both(pair, post('/trpc/auth.logout', '{"email": ')); // logout never reads it
      const loginBody = JSON.stringify({ email: 'old-timer@example.org', password: 'old-timer-demo-2026' });
      await both(
        pair,
        post('/trpc/auth.login', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(loginBody)])),
      );
      const twoMarks = Buffer.concat([Buffer.from('\uFEFF\uFEFF'), Buffer.from(loginBody)]);
      expectNative(await both(pair, post('/trpc/auth.login', twoMarks))); // as fetch's Request.json() reads it
      const threeMarks = Buffer.concat([Buffer.from('\uFEFF\uFEFF\uFEFF'), Buffer.from(loginBody)]);
      await both(pair, post('/trpc/auth.login', threeMarks));
      await both(
        pair,
        post('/trpc/auth.login', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])),
      );
      const notUtf8 = Buffer.concat([
        Buffer.from('{"email":"bytes@example.org","password":"'),
        Buffer.from([0xff, 0xc3, 0x28, 0xe2, 0x82]),
        Buffer.from('"}'),
      ]);
      await both(pair, post('/trpc/auth.login', notUtf8));
      await both(
        pair,
        post('/trpc/auth.login', JSON.stringify({ email: 'ünïcödé@exämple.org', password: '密码🔑' })),
      );
      // Over the cap, chunked (the guard cannot see a length): a call that reads its input gets 413, one that
      // does not read it runs, and a batch of both is mixed.
      const big = JSON.stringify({ email: 'big@example.org', password: 'p'.repeat(BODY_LIMIT) });
      expect(nativeStatus(await both(pair, post('/trpc/auth.login', big, { chunked: true })))).toBe(413);
      expect(nativeStatus(await both(pair, post('/trpc/auth.logout', big, { chunked: true })))).toBe(200);
      const bigBatch = JSON.stringify({ 0: { email: 'big@example.org', password: 'p'.repeat(BODY_LIMIT) } });
      expect(
        nativeStatus(
          await both(pair, post('/trpc/auth.login,auth.logout?batch=1', bigBatch, { chunked: true })),
        ),
      ).toBe(207);
      await both(pair, post('/trpc/auth.login', big)); // declared: the guard refuses it first
      await both(
        pair,
        post('/trpc/auth.login', JSON.stringify({ email: 'a@b.co', password: 'p'.repeat(BODY_LIMIT - 40) })),
      );
      await both(pair, {
        method: 'POST',
        path: '/trpc/auth.logout',
        headers: { 'content-type': 'text/plain' },
        body: '{}',
      });
      await both(pair, { method: 'POST', path: '/trpc/auth.logout', body: '{}' });
      const charset = { 'content-type': 'application/json; charset=utf-8' };
      await both(pair, { method: 'POST', path: '/trpc/auth.logout?batch=1', headers: charset, body: '{}' });
      await both(pair, {
        method: 'POST',
        path: '/trpc/auth.logout',
        headers: { 'content-type': 'Application/JSON' },
      });
      await both(pair, post('/trpc/no.such', '{"x":1}'));
      await both(pair, post('/trpc/no.such,auth.logout?batch=1', '{}'));
    });

    it("the patron's session: the SPA's request, loans, lending refusals, missing keys, stale cookies", async () => {
      const spa = { path: `/trpc/account.me?batch=1&input=${q({})}`, as: 'patron' };
      expect(bodyOf(nativeAnswer(await both(pair, spa)))).toMatchObject([
        { result: { data: { keysSource: 'cookie' } } },
      ]);
      await both(pair, { path: '/trpc/loans.list', as: 'patron' });
      await both(
        pair,
        post('/trpc/loans.borrow', JSON.stringify({ identifier: 'persuasion00aust' }), { as: 'patron' }),
      );
      await both(
        pair,
        post('/trpc/loans.borrow', JSON.stringify({ identifier: 'persuasion00aust' }), { as: 'patron' }),
      );
      expect(
        nativeStatus(
          await both(
            pair,
            post('/trpc/loans.joinWaitlist', JSON.stringify({ identifier: 'emmaausten00aust' }), {
              as: 'patron',
            }),
          ),
        ),
      ).toBe(409); // lending_limit
      expect(
        nativeStatus(
          await both(
            pair,
            post('/trpc/loans.borrow', JSON.stringify({ identifier: 'nosuchbook00' }), { as: 'patron' }),
          ),
        ),
      ).toBe(404); // not_found
      await both(
        pair,
        post('/trpc/loans.borrow', JSON.stringify({ identifier: 'bad id!' }), { as: 'patron' }),
      );
      await both(
        pair,
        post(
          '/trpc/loans.borrow,loans.return?batch=1',
          JSON.stringify({
            0: { identifier: 'emmaausten00aust', action: 'browse' },
            1: { identifier: 'persuasion00aust' },
          }),
          { as: 'patron' },
        ),
      );
      await both(pair, {
        path: `/trpc/loans.list,loans.history,account.me?batch=1&input=${q({ 1: { limit: 5 } })}`,
        as: 'patron',
      });
      await both(pair, { path: `/trpc/books.list?input=${q({ query: 'emma' })}`, as: 'patron' });
      // s3_keys_missing: the session alone, without the s3 cookie, cannot borrow; it is cleared.
      for (const side of pair)
        side.jar('session-only').cookies.set('session', side.jar('patron').cookies.get('session')!);
      expect(nativeStatus(await both(pair, { path: '/trpc/loans.list', as: 'session-only' }))).toBe(401);
      // A tampered session cookie is treated as absent and cleared.
      for (const side of pair) side.jar('tampered').cookies.set('session', 'gAAAAABtampered');
      await both(pair, { path: `/trpc/account.me?batch=1&input=${q({})}`, as: 'tampered' });
    });

    it('dependencies failing: archive.org down, the database down, an unexpected fault', async () => {
      for (const side of pair) side.archive.state.fault = { kind: 'status', status: 500 };
      expect(nativeStatus(await both(pair, { path: '/trpc/books.list' }))).toBe(503); // archive_unavailable
      await both(pair, { path: '/trpc/loans.list', as: 'patron' });
      await both(pair, { path: '/trpc/books.list,account.me?batch=1', as: 'patron' });
      await both(pair, login('x', 'patron@example.org', 'wrong-but-unchecked'));
      for (const side of pair) side.archive.state.fault = null;
      for (const side of pair) side.faults.readFails = true;
      expect(nativeStatus(await both(pair, { path: '/trpc/account.me', as: 'patron' }))).toBe(500);
      await both(pair, { path: `/trpc/account.me,books.list?batch=1&input=${q({})}`, as: 'patron' });
      for (const side of pair) side.faults.readFails = false;
      for (const side of pair) side.faults.down = true;
      expect(
        nativeStatus(await both(pair, { path: `/trpc/account.me?batch=1&input=${q({})}`, as: 'patron' })),
      ).toBe(503);
      await both(
        pair,
        post('/trpc/loans.borrow', JSON.stringify({ identifier: 'draculabram00stok' }), { as: 'patron' }),
      );
      for (const side of pair) side.faults.down = false;
      await both(pair, { path: '/trpc/account.me', as: 'patron' });
    });

    it('random requests (seeded; the seed is printed and CONFORMANCE_SEED replays it)', async () => {
      const seed = Number(process.env.CONFORMANCE_SEED ?? Math.floor(Math.random() * 2 ** 31));
      console.log(`conformance: random requests with seed ${seed}`);
      const next = random(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
      const paths = [
        'account.me',
        'books.list',
        'loans.list',
        'loans.history',
        'auth.logout',
        'auth.login',
        'loans.return',
        'no.such',
        'account',
        'books.list.x',
      ];
      const inputs = [
        undefined,
        {},
        { query: 'eliot' },
        { query: 7 },
        { limit: 3 },
        { identifier: 'persuasion00aust' },
        { email: 'rand@example.org', password: 'x' },
        null,
        [],
        'Ünïcödé 🐉',
        42,
      ];
      for (let i = 0; i < 30; i++) {
        const method = pick(['GET', 'GET', 'POST', 'POST', 'PUT']);
        const batch = next() < 0.5;
        const count = batch ? 1 + Math.floor(next() * 3) : 1;
        const chosen = Array.from({ length: count }, () => pick(paths));
        const values = chosen.map(() => pick(inputs));
        const payload = batch ? Object.fromEntries(values.map((v, index) => [index, v])) : values[0];
        const raw = next() < 0.1 ? '{"broken' : payload === undefined ? undefined : JSON.stringify(payload);
        const query = [
          batch ? 'batch=1' : '',
          method === 'GET' && raw !== undefined ? `input=${encodeURIComponent(raw)}` : '',
        ]
          .filter(Boolean)
          .join('&');
        await both(pair, {
          method,
          path: `/trpc/${chosen.join(',')}${query ? `?${query}` : ''}`,
          headers: method === 'GET' ? {} : json,
          ...(method !== 'GET' && raw !== undefined ? { body: raw } : {}),
          as: pick(['patron', 'anonymous']),
        });
      }
    });
  },
);

describe(
  'a formatter that puts statuses of its own in data.httpStatus (422 among them), and no responseMeta',
  SLOW,
  () => {
    // The app's own procedures under a formatter that picks statuses tRPC's codes never give (422), so the
    // handler must read each status from data.httpStatus rather than derive it from the code.
    const STATUS_BY_APP_CODE: Record<string, number> = {
      archive_unavailable: 503,
      rate_limited: 429,
      lending_limit: 422,
      item_locked: 422,
      invalid_credentials: 401,
    };
    const t = initTRPC.context<Context>().create({
      isDev: false,
      errorFormatter(opts) {
        const shape = getTRPCErrorShape({ ...opts, config: appRouter._def._config }) as {
          message: string;
          code: number;
          data: { appCode?: string; httpStatus: number };
        };
        const status = STATUS_BY_APP_CODE[shape.data.appCode ?? ''] ?? shape.data.httpStatus;
        return { ...shape, data: { ...shape.data, httpStatus: status } };
      },
    });
    const router = t.router({
      auth: appRouter.auth,
      account: appRouter.account,
      books: appRouter.books,
      loans: appRouter.loans,
    });
    let pair: Side[];
    beforeAll(async () => {
      pair = [await startHarnessSide('koa', { router }), await startHarnessSide('node-http', { router })];
    });
    afterAll(async () => {
      for (const side of pair) await side.close();
    });

    it('answers with the status the formatter put in the shape, alone and in batches', async () => {
      await both(pair, login('p', DEMO.email, DEMO.password));
      await both(pair, { path: `/trpc/account.me?batch=1&input=${q({})}`, as: 'p' });
      await both(
        pair,
        post('/trpc/loans.borrow', JSON.stringify({ identifier: 'persuasion00aust' }), { as: 'p' }),
      );
      expect(
        nativeStatus(
          await both(
            pair,
            post('/trpc/loans.joinWaitlist', JSON.stringify({ identifier: 'emmaausten00aust' }), { as: 'p' }),
          ),
        ),
      ).toBe(422);
      await both(
        pair,
        post(
          '/trpc/loans.joinWaitlist,loans.joinWaitlist?batch=1',
          JSON.stringify({ 0: { identifier: 'emmaausten00aust' }, 1: { identifier: 'draculabram00stok' } }),
          { as: 'p' },
        ),
      );
      await both(
        pair,
        post(
          '/trpc/loans.joinWaitlist,loans.borrow?batch=1',
          JSON.stringify({ 0: { identifier: 'emmaausten00aust' }, 1: { identifier: 'nosuchbook00' } }),
          { as: 'p' },
        ),
      );
      await both(pair, login('x', DEMO.email, 'wrong-password'));
      await both(pair, { path: '/trpc/loans.list' });
      await both(pair, { path: '/trpc/loans.list,account.me?batch=1' });
      for (const side of pair) side.archive.state.fault = { kind: 'status', status: 500 };
      await both(pair, { path: `/trpc/books.list,books.list?batch=1&input=${q({ 1: { query: 'dick' } })}` });
      await both(pair, { path: '/trpc/books.list,account.me?batch=1' });
      for (const side of pair) side.archive.state.fault = null;
      await both(pair, { path: `/trpc/books.list?input=${q({ query: 5 })}` });
    });

    it('with nothing in front of it: wrong content types, declared oversized bodies, form data', async () => {
      await both(pair, {
        method: 'POST',
        path: '/trpc/auth.logout',
        headers: { 'content-type': 'text/plain' },
        body: '{}',
      });
      await both(pair, { method: 'POST', path: '/trpc/auth.logout' });
      await both(pair, {
        method: 'POST',
        path: '/trpc/auth.login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'email=a',
      });
      await both(pair, {
        method: 'POST',
        path: '/trpc/auth.login',
        headers: { 'content-type': 'multipart/form-data; boundary=b' },
        body: '--b\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.co\r\n--b--\r\n',
      });
      await both(pair, {
        method: 'POST',
        path: '/trpc/auth.login',
        headers: { 'content-type': 'application/octet-stream' },
        body: 'xyz',
      });
      const big = JSON.stringify({ email: 'big@example.org', password: 'p'.repeat(BODY_LIMIT) });
      expect(nativeStatus(await both(pair, post('/trpc/auth.login', big)))).toBe(413);
      // At the limit and one byte over, declared and chunked.
      const sized = (bytes: number) =>
        JSON.stringify({ email: 'edge@example.org', password: 'p'.repeat(bytes - 42) });
      expect(Buffer.byteLength(sized(BODY_LIMIT))).toBe(BODY_LIMIT);
      expect(nativeStatus(await both(pair, post('/trpc/auth.login', sized(BODY_LIMIT))))).toBe(400); // read: too long a password
      expect(nativeStatus(await both(pair, post('/trpc/auth.login', sized(BODY_LIMIT + 1))))).toBe(413);
      expect(
        nativeStatus(await both(pair, post('/trpc/auth.login', sized(BODY_LIMIT), { chunked: true }))),
      ).toBe(400);
      expect(
        nativeStatus(await both(pair, post('/trpc/auth.login', sized(BODY_LIMIT + 1), { chunked: true }))),
      ).toBe(413);
      await both(pair, post('/trpc/auth.logout', big));
      await both(
        pair,
        post('/trpc/auth.login,auth.logout?batch=1', JSON.stringify({ 0: JSON.parse(big) as unknown })),
      );
    });
  },
);

describe(
  'adapter edges: a failing context, stream-like data, res.statusCode, responseMeta headers, a transformer',
  SLOW,
  () => {
    interface EdgeContext {
      res: ServerResponse;
    }
    const t = initTRPC.context<EdgeContext>().create({
      isDev: false,
      // Wraps every value, both ways, so that a missed (de)serialisation shows.
      transformer: {
        serialize: (value: unknown) => ({ $: value }),
        deserialize: (value: unknown) => (value as { $?: unknown } | null)?.$,
      },
    });
    const router = t.router({
      echo: t.procedure.input(z.string()).query(({ input }) => input),
      double: t.procedure
        .input(z.object({ n: z.number() }))
        .mutation(({ input }) => ({ doubled: input.n * 2 })),
      streamy: t.procedure.query(() => ({ later: Promise.resolve(1) })),
      boom: t.procedure.query(() => {
        throw new Error('boom');
      }),
      refused: t.procedure.mutation(() => {
        throw new TRPCError({ code: 'FORBIDDEN', message: 'no' });
      }),
      teapot: t.procedure.query(({ ctx }) => {
        ctx.res.statusCode = 418;
        return 'short and stout';
      }),
      huge: t.procedure.query(() => ({ n: 10n })),
      signalled: t.procedure.query(({ signal }) => signal?.aborted ?? 'no signal'),
      // Waits for the client to leave (its signal aborting), then says so where the test can see it.
      waits: t.procedure.query(
        ({ signal }) =>
          new Promise<string>((resolve) => {
            const settle = (outcome: string) => {
              left.push(outcome);
              resolve(outcome);
            };
            const timer = setTimeout(() => settle('timed out'), 3000);
            signal?.addEventListener('abort', () => {
              clearTimeout(timer);
              settle('aborted');
            });
          }),
      ),
      ticks: t.procedure.subscription(async function* () {
        yield 1;
        await Promise.resolve();
        yield 2;
      }),
    });
    const left: string[] = [];
    const responseMeta = ({ info }: { info?: { url: URL | null } }) => {
      const meta = info?.url?.searchParams.get('meta');
      if (meta === 'headers') {
        return {
          headers: new Headers([
            ['x-meta', 'one'],
            ['vary', 'origin'],
            ['set-cookie', 'a=1'],
            ['set-cookie', 'b=2'],
          ]),
        };
      }
      if (meta === 'object')
        return { headers: { 'cache-control': 'max-age=5', 'x-list': ['a', 'b'], vary: 'origin' } };
      if (meta === 'status') return { status: 299 };
      if (meta === 'throw') throw new Error('responseMeta failed');
      return {};
    };
    const createContext = (_deps: unknown, opts: { req: IncomingMessage; res: ServerResponse }) => {
      if (opts.req.headers['x-context'] === 'fail') throw new Error('no context today');
      return { res: opts.res };
    };
    let pair: Side[];
    beforeAll(async () => {
      const options = { router, responseMeta, createContext };
      pair = [await startHarnessSide('koa', options), await startHarnessSide('node-http', options)];
    });
    afterAll(async () => {
      for (const side of pair) await side.close();
    });

    it('answers each as tRPC does', async () => {
      await both(pair, { path: `/trpc/echo?input=${q({ $: 'hé' })}` });
      await both(pair, { path: `/trpc/echo?input=${q('bare')}` });
      await both(pair, { path: `/trpc/echo,echo?batch=1&input=${q({ 0: { $: 'a' }, 1: { $: 2 } })}` });
      await both(pair, post('/trpc/double', JSON.stringify({ $: { n: 21 } })));
      await both(pair, post('/trpc/double,refused?batch=1', JSON.stringify({ 0: { $: { n: 1 } } })));
      await both(pair, post('/trpc/refused,refused?batch=1', '{}'));
      // A call that fails before reading its input: onError and the formatter see no input, as in tRPC.
      await both(pair, post('/trpc/refused', JSON.stringify({ $: 'sent anyway' })));
      // (Not compared: in a batch where another call reads the shared input, whether tRPC shows it to onError
      // for a call that failed depends on which finished first, that read or the failure.)
      await both(pair, { path: '/trpc/streamy' });
      await both(pair, { path: '/trpc/streamy,echo?batch=1' });
      await both(pair, { path: '/trpc/boom' });
      await both(pair, { path: '/trpc/boom,boom?batch=1' });
      await both(pair, { path: '/trpc/teapot' });
      await both(pair, { path: '/trpc/teapot,boom?batch=1' });
      await both(pair, { path: '/trpc/huge' });
      await both(pair, { path: '/trpc/huge,echo?batch=1' });
      await both(pair, { path: '/trpc/echo', headers: { 'x-context': 'fail' } });
      await both(pair, { path: '/trpc/echo,teapot?batch=1', headers: { 'x-context': 'fail' } });
      await both(pair, { path: `/trpc/echo?meta=headers&input=${q({ $: 'h' })}` });
      await both(pair, { path: `/trpc/echo?meta=object&input=${q({ $: 'h' })}` });
      await both(pair, { path: `/trpc/echo?meta=status&input=${q({ $: 'h' })}` });
      await both(pair, { path: `/trpc/echo?meta=throw&input=${q({ $: 'h' })}` });
      await both(pair, { path: `/trpc/huge?meta=headers` });
      await both(pair, { path: '/trpc/ticks' });
      await both(pair, { method: 'HEAD', path: '/trpc/echo' });
    });

    it("aborts a procedure's signal when the client leaves, and only then", async () => {
      for (const side of pair) {
        // Two requests in turn on one kept-alive connection: neither sees an aborted signal.
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        for (let i = 0; i < 2; i++) {
          const answer = await fetchOn(agent, `${side.url}/trpc/signalled`);
          expect(answer, side.adapter).toBe('{"result":{"data":{"$":false}}}');
        }
        agent.destroy();
        // A client that hangs up mid-call: the procedure's signal aborts.
        const request = http.get(`${side.url}/trpc/waits`);
        request.on('error', () => undefined);
        await new Promise((resolve) => setTimeout(resolve, 200));
        request.destroy();
        await vi.waitFor(() => expect(left).toHaveLength(pair.indexOf(side) + 1), { timeout: 5000 });
      }
      expect(left).toEqual(['aborted', 'aborted']);
    });
  },
);

describe('the suite', () => {
  it('sent at least 60 requests to both sides', () => {
    console.log(
      `conformance: ${requests} requests, each answered alike by both adapters; on the Koa side ${served.native} were served by the adapter itself, ${served.handedOff} handed to tRPC's handler, ${served.beforeTRPC} answered before /trpc (guards)`,
    );
    expect(requests).toBeGreaterThanOrEqual(60);
    expect(served.native).toBeGreaterThanOrEqual(60);
  });
});
