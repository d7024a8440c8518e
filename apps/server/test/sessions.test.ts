// Revocable sessions over real HTTP (issue 13 §2, §8): logout revokes the session it ends and no other, "log out
// everywhere" ends them all, a replayed cookie answers 401 with both cookies cleared, an account blocked after
// login is refused on its next request, a remembered session slides but never outlives its cap.
import { randomUUID } from 'node:crypto';
import { demoPatrons } from '@lending/archive';
import { cookieKeys, openCookie, sealCookie } from '@lending/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, DEMO, TEST_SECRET, dataOf, errorOf, startStack } from './helpers';
import type { Reply, Stack } from './helpers';

const BOOK = 'prideandprejudic00aust';
const DAY = 24 * 3600;
const patron = demoPatrons().find((p) => p.email === DEMO.email)!;

let stack: Stack;
afterEach(async () => {
  await stack.close();
});

/** Both cookies were cleared by this reply. */
function expectBothCleared(reply: Reply): void {
  const cleared = reply.setCookies
    .filter((c) => c.value === '' && c.attributes['max-age'] === '0')
    .map((c) => c.name)
    .sort();
  expect(cleared).toEqual(['s3', 'session']);
}

/** A copy of `client`'s cookies in a new jar: what an attacker who captured them holds. */
function capture(client: Client): Client {
  const copy = new Client(client.base);
  for (const [name, value] of client.cookies) copy.cookies.set(name, value);
  return copy;
}

async function metric(url: string, line: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  return found ? Number(found.split(' ')[1]) : 0;
}

describe('logout revokes the session server-side', () => {
  it('a cookie replayed after logout answers 401 and both cookies are cleared; other sessions go on', async () => {
    stack = await startStack();
    const laptop = new Client(stack.url);
    const phone = new Client(stack.url);
    expect((await laptop.login(DEMO.email, DEMO.password, true)).status).toBe(200);
    expect((await phone.login()).status).toBe(200);
    const captured = capture(laptop);
    expect((await capture(captured).query('loans.list')).status).toBe(200);

    const logout = await laptop.mutate('auth.logout');
    expect(logout.status).toBe(200);
    expectBothCleared(logout);

    const replay = await capture(captured).query('loans.list');
    expect(replay.status).toBe(401);
    expectBothCleared(replay);
    const borrow = await capture(captured).mutate('loans.borrow', { identifier: BOOK });
    expect(borrow.status).toBe(401);
    expectBothCleared(borrow);
    expect(stack.archive!.state.activeLoans(DEMO.email)).toEqual([]);
    const me = await capture(captured).query('account.me');
    expect(me.status).toBe(200);
    expect(dataOf(me)).toBeNull();
    expect(await metric(stack.url, 'lending_cookie_rejected_total{cookie="session",reason="revoked"}')).toBe(
      3,
    );

    // Logging out one session leaves the patron's other session alone.
    expect(dataOf(await phone.query('account.me'))).toMatchObject({ email: DEMO.email });
    expect((await phone.query('loans.list')).status).toBe(200);
  });

  it('log out everywhere from one client ends the sessions of every other client', async () => {
    stack = await startStack();
    const one = new Client(stack.url);
    const two = new Client(stack.url);
    const other = new Client(stack.url);
    await one.login();
    await two.login(DEMO.email, DEMO.password, true);
    const reader = demoPatrons().find((p) => p.email === 'reader@example.org')!;
    await other.login(reader.email, reader.password);
    const captured = capture(one);

    const everywhere = await one.mutate('auth.logoutEverywhere');
    expect(everywhere.status).toBe(200);
    expect(dataOf(everywhere)).toEqual({ ok: true, sessions: 2 });
    expectBothCleared(everywhere);

    for (const client of [two, captured]) {
      const me = await client.query('account.me');
      expect(me.status).toBe(200);
      expect(dataOf(me)).toBeNull();
      expectBothCleared(me);
    }
    expect((await capture(one).query('loans.list')).status).toBe(401);
    // Another patron's session is untouched.
    expect(dataOf(await other.query('account.me'))).toMatchObject({ email: reader.email });
    // Logging in again works as before.
    expect((await two.login()).status).toBe(200);
    expect(dataOf(await two.query('account.me'))).toMatchObject({ email: DEMO.email });
  });

  it('log out everywhere needs a session: 401 without one', async () => {
    stack = await startStack();
    const reply = await new Client(stack.url).mutate('auth.logoutEverywhere');
    expect(reply.status).toBe(401);
    expect(errorOf(reply).data.code).toBe('UNAUTHORIZED');
  });
});

describe('an account blocked after its session was issued', () => {
  it('is refused on account.me and on a loan call, its session cleared, a warning logged', async () => {
    stack = await startStack();
    const client = new Client(stack.url);
    const me = dataOf<{ username: string }>(await client.login());
    const cookies = capture(client);
    const account = (await stack.store.getByUsername(me.username))!;
    await stack.store.update(me.username, account.revision, { status: 'blocked' });

    const reply = await client.query('account.me');
    expect(reply.status).toBe(200);
    expect(dataOf(reply)).toBeNull();
    expectBothCleared(reply);
    const borrow = await cookies.mutate('loans.borrow', { identifier: BOOK });
    expect(borrow.status).toBe(401);
    expectBothCleared(borrow);
    expect(stack.archive!.state.activeLoans(DEMO.email)).toEqual([]);
    const warnings = stack.logs
      .map((line) => JSON.parse(line) as { level: number; msg: string; username?: string })
      .filter((line) => line.msg === 'session of a blocked account refused');
    expect(warnings).toHaveLength(2);
    expect(warnings.every((line) => line.level === 40 && line.username === me.username)).toBe(true);
  });
});

describe('remembered sessions: sliding, capped at 90 days from login', () => {
  /** A remembered session cookie logged in `loginDaysAgo`, last sealed `sealedDaysAgo`, live in the store. */
  async function remembered(username: string, loginDaysAgo: number, sealedDaysAgo: number): Promise<Client> {
    const now = Math.floor(Date.now() / 1000);
    const sid = `test-${randomUUID()}`;
    const iat = now - loginDaysAgo * DAY;
    await stack.store.addSession(username, { id: sid, expiresAt: iat + 90 * DAY }, { now, max: 20 });
    const client = new Client(stack.url);
    const keys = cookieKeys(TEST_SECRET);
    client.cookies.set(
      'session',
      sealCookie(
        keys,
        { pur: 'session', sub: username, rem: true, sid, iat },
        { now: now - sealedDaysAgo * DAY },
      ),
    );
    client.cookies.set(
      's3',
      sealCookie(
        keys,
        { pur: 's3', sub: username, access: patron.access, secret: patron.secret },
        { now: iat },
      ),
    );
    return client;
  }

  it('renews a session in use, and refuses one idle too long or older than the cap, however used', async () => {
    stack = await startStack();
    const { username } = dataOf<{ username: string }>(await new Client(stack.url).login());

    // In use (last sealed 2 days ago), 60 days after login: served and renewed, Max-Age 30 days.
    const inUse = await remembered(username, 60, 2);
    const served = await inUse.query('loans.list');
    expect(served.status).toBe(200);
    const renewed = served.setCookies.find((c) => c.name === 'session')!;
    expect(renewed.attributes['max-age']).toBe(String(30 * DAY));
    const opened = openCookie(cookieKeys(TEST_SECRET), renewed.value, { pur: 'session', ttl: 60 });
    expect(opened.ok).toBe(true);

    // 85 days after login: the renewed cookie's Max-Age is what is left of the cap (5 days).
    const late = await remembered(username, 85, 2);
    const lateReply = await late.query('loans.list');
    expect(lateReply.status).toBe(200);
    expect(lateReply.setCookies.find((c) => c.name === 'session')!.attributes['max-age']).toBe(
      String(5 * DAY),
    );

    // Past the cap (the 300-day-old remembered session of the report, and one just over 90 days, used daily).
    for (const loginDaysAgo of [300, 91]) {
      const old = await remembered(username, loginDaysAgo, 0);
      const refused = await old.query('loans.list');
      expect(refused.status).toBe(401);
      expectBothCleared(refused);
    }
    // Idle for 31 days: refused, even well within the cap.
    const idle = await remembered(username, 40, 31);
    expect((await idle.query('loans.list')).status).toBe(401);
    expect(await metric(stack.url, 'lending_cookie_rejected_total{cookie="session",reason="expired"}')).toBe(
      3,
    );
  });

  it('a session cookie without an id (sealed before revocable sessions) is refused', async () => {
    stack = await startStack();
    const { username } = dataOf<{ username: string }>(await new Client(stack.url).login());
    const client = new Client(stack.url);
    client.cookies.set(
      'session',
      sealCookie(cookieKeys(TEST_SECRET), { pur: 'session', sub: username, rem: true }),
    );
    const reply = await client.query('loans.list');
    expect(reply.status).toBe(401);
    expect(
      await metric(stack.url, 'lending_cookie_rejected_total{cookie="session",reason="bad_payload"}'),
    ).toBe(1);
  });
});
