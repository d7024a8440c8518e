// The login limits through real HTTP (issue 13 §4): only failures count, refused attempts spend nothing, a pair
// that keeps failing waits longer and longer instead of locking the account for everyone, IPv6 counts per /64,
// spraying from many addresses trips a site-wide guard, and X-Forwarded-For is believed only from the configured
// proxies. Client addresses come through X-Forwarded-For from the trusted loopback proxy (TRUST_PROXY=true trusts
// loopback by default), or straight from another loopback address (127.0.0.2) for a direct client.
import { demoPatrons } from '@lending/archive';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, DEMO, PRODUCTION_ENV, errorOf, startStack } from './helpers';
import type { Stack } from './helpers';
import { login, metricValue, metricsOf, mutate, rightLogin } from './limits-support';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const proxied = { TRUST_PROXY: 'true' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('login limits', () => {
  it("does not lock the victim out while the attacker's address is refused", async () => {
    stack = await startStack({ env: proxied });
    const attacker = '198.51.100.7';
    const answers = [];
    for (let i = 0; i < 12; i++) {
      answers.push(await login(stack.url, DEMO.email, `guess-${i}`, { forwardedFor: attacker }));
    }
    // The attacker is slowed down, then refused, with a Retry-After.
    expect(answers.slice(0, 3).map((a) => a.status)).toEqual([401, 401, 401]);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(8);
    for (const a of refused) {
      expect(a.appCode).toBe('rate_limited');
      expect(a.retryAfter).toBeGreaterThanOrEqual(1);
    }
    // The patron, from their own address, logs in at once.
    expect((await rightLogin(stack.url, '203.0.113.9')).status).toBe(200);
    // And the attacker is still refused.
    expect((await rightLogin(stack.url, attacker)).status).toBe(429);
  });

  it('never spends the email counter for an attempt the address limit refused', async () => {
    stack = await startStack({ env: proxied, overrides: { loginLimits: { perIp: 3, perEmail: 5 } } });
    const attacker = '198.51.100.8';
    // Three failures on other emails exhaust the attacker's address...
    for (const email of ['a@example.org', 'b@example.org', 'c@example.org']) {
      expect((await login(stack.url, email, 'nope-nope', { forwardedFor: attacker })).status).toBe(401);
    }
    // ...then twenty attempts on the victim's email are refused by the address limit.
    for (let i = 0; i < 20; i++) {
      const a = await login(stack.url, DEMO.email, `guess-${i}`, { forwardedFor: attacker });
      expect(a.status).toBe(429);
    }
    // None of them counted against the victim's email (limit 5): the patron logs in from elsewhere.
    expect((await rightLogin(stack.url, '203.0.113.10')).status).toBe(200);
  });

  it('does not count successful logins', async () => {
    stack = await startStack({ env: proxied, overrides: { loginLimits: { perIp: 3, perEmail: 3 } } });
    const home = '203.0.113.11';
    for (let i = 0; i < 8; i++) expect((await rightLogin(stack.url, home)).status).toBe(200);
    // The address still has its three failures to spend.
    for (const email of ['a@example.org', 'b@example.org', 'c@example.org']) {
      expect((await login(stack.url, email, 'nope-nope', { forwardedFor: home })).status).toBe(401);
    }
    expect((await login(stack.url, 'd@example.org', 'nope-nope', { forwardedFor: home })).status).toBe(429);
  });

  it('slows a failing (email, network) pair down exponentially, for that pair only', async () => {
    stack = await startStack({ env: proxied, overrides: { loginLimits: { pairFreeFailures: 2 } } });
    const from = { forwardedFor: '198.51.100.9' };
    expect((await login(stack.url, DEMO.email, 'wrong-1', from)).status).toBe(401);
    expect((await login(stack.url, DEMO.email, 'wrong-2', from)).status).toBe(401);
    expect((await login(stack.url, DEMO.email, 'wrong-3', from)).status).toBe(401);
    // After the third failure: wait 1 s.
    const first = await login(stack.url, DEMO.email, 'wrong-4', from);
    expect(first).toMatchObject({ status: 429, appCode: 'rate_limited', retryAfter: 1 });
    await sleep(1100);
    expect((await login(stack.url, DEMO.email, 'wrong-5', from)).status).toBe(401);
    // After the fourth: the wait doubles.
    const second = await login(stack.url, DEMO.email, 'wrong-6', from);
    expect(second).toMatchObject({ status: 429, retryAfter: 2 });
    // Another email from that network, and that email from another network, are not slowed down.
    expect((await login(stack.url, 'reader@example.org', 'wrong', from)).status).toBe(401);
    expect((await login(stack.url, DEMO.email, 'wrong', { forwardedFor: '203.0.113.12' })).status).toBe(401);
    // A success clears the pair's delay: after the wait, the right password resets it.
    await sleep(2100);
    expect((await rightLogin(stack.url, '198.51.100.9')).status).toBe(200);
    expect((await login(stack.url, DEMO.email, 'wrong-7', from)).status).toBe(401);
    expect((await login(stack.url, DEMO.email, 'wrong-8', from)).status).toBe(401);
  }, 20_000);

  it('counts IPv6 clients per /64', async () => {
    stack = await startStack({ env: proxied, overrides: { loginLimits: { perIp: 3 } } });
    const inNet = ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:fffe', '2001:db8:1:2:abcd::7'];
    for (const [i, ip] of inNet.entries()) {
      expect((await login(stack.url, `v6-${i}@example.org`, 'nope-nope', { forwardedFor: ip })).status).toBe(
        401,
      );
    }
    const sameNet = await login(stack.url, 'v6-x@example.org', 'nope', { forwardedFor: '2001:db8:1:2::99' });
    expect(sameNet.status).toBe(429);
    // The next /64 is another network.
    const nextNet = await login(stack.url, 'v6-y@example.org', 'nope', { forwardedFor: '2001:db8:1:3::1' });
    expect(nextNet.status).toBe(401);
  });

  it('trips the site-wide guard when 60 addresses spray one password each, sparing known networks', async () => {
    stack = await startStack({ env: proxied });
    // The patron logged in from home before the attack.
    expect((await rightLogin(stack.url, '203.0.113.20')).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const reply = await login(stack.url, `victim-${i}@example.org`, 'Summer2026!', {
        forwardedFor: `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      });
      statuses.push(reply.status);
    }
    // No address and no email failed twice: only the site-wide guard can refuse.
    expect(statuses.filter((s) => s === 401).length).toBe(50);
    expect(statuses.slice(50)).toEqual(Array(10).fill(429));
    // The patron's home network still logs in; a network never seen before has to wait.
    expect((await rightLogin(stack.url, '203.0.113.20')).status).toBe(200);
    const stranger = await rightLogin(stack.url, '203.0.113.21');
    expect(stranger).toMatchObject({ status: 429, appCode: 'rate_limited' });
    const metrics = await metricsOf(stack.url);
    expect(
      metricValue(metrics, 'lending_limiter_decisions_total', { limiter: 'login', reason: 'site' }),
    ).toBeGreaterThanOrEqual(11);
  }, 30_000);

  it('limits auth.loginWithKeys per access key as well as per address', async () => {
    stack = await startStack({ env: proxied, overrides: { loginLimits: { perEmail: 2, perIp: 3 } } });
    const [patron] = demoPatrons();
    const keys = (secret: string) => ({ access: patron!.access, secret });
    // One access key, wrong secrets from three addresses: the key's limit refuses the third.
    for (const ip of ['198.51.100.30', '198.51.100.31']) {
      const a = await mutate(stack.url, 'auth.loginWithKeys', keys('WRONGSECRET'), { forwardedFor: ip });
      expect(a).toMatchObject({ status: 401, appCode: 'invalid_s3keys' });
    }
    const third = await mutate(stack.url, 'auth.loginWithKeys', keys('WRONGSECRET'), {
      forwardedFor: '198.51.100.32',
    });
    expect(third).toMatchObject({ status: 429, appCode: 'rate_limited' });
    // Many access keys from one address: the address limit refuses the fourth.
    const from = { forwardedFor: '198.51.100.33' };
    for (const access of ['AAAA', 'BBBB', 'CCCC']) {
      expect((await mutate(stack.url, 'auth.loginWithKeys', { access, secret: 'S' }, from)).status).toBe(401);
    }
    expect(
      (await mutate(stack.url, 'auth.loginWithKeys', { access: 'DDDD', secret: 'S' }, from)).status,
    ).toBe(429);
    // The key's owner, with the right secret from their own network, is not locked out.
    const owner = await mutate(stack.url, 'auth.loginWithKeys', keys(patron!.secret), {
      forwardedFor: '203.0.113.30',
    });
    expect(owner.status).toBe(429); // the key's limit holds for unknown networks...
    expect((await rightLogin(stack.url, '203.0.113.31')).status).toBe(200); // ...passwords are another subject
  });
});

describe('X-Forwarded-For is believed only from the configured proxies', () => {
  it('refuses a direct client that rotates X-Forwarded-For', async () => {
    stack = await startStack({ env: { TRUST_PROXY: 'true', TRUSTED_PROXIES: '127.0.0.1' } });
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) {
      const reply = await login(stack.url, `rotating-${i}@example.org`, 'nope-nope', {
        localAddress: '127.0.0.2',
        forwardedFor: `203.0.113.${100 + i}`,
      });
      statuses.push(reply.status);
    }
    // Counted as 127.0.0.2 (default: 10 failures per network), whatever it claimed.
    expect(statuses.filter((s) => s === 429).length).toBe(5);
    // The trusted proxy's clients are still told apart by X-Forwarded-For.
    expect((await rightLogin(stack.url, '203.0.113.100')).status).toBe(200);
  });

  it("ignores an untrusted peer's X-Forwarded-Proto too", async () => {
    stack = await startStack({
      env: {
        ...PRODUCTION_ENV,
        TRUST_PROXY: 'true',
        TRUSTED_PROXIES: '127.0.0.1',
      },
    });
    const input = { email: DEMO.email, password: DEMO.password };
    const https = { 'x-forwarded-proto': 'https' };
    const direct = await mutate(stack.url, 'auth.login', input, {
      localAddress: '127.0.0.2',
      headers: https,
    });
    expect(direct.status).toBe(400);
    expect(JSON.stringify(direct.body)).toMatch(/HTTPS/);
    const viaProxy = await mutate(stack.url, 'auth.login', input, {
      localAddress: '127.0.0.1',
      headers: https,
    });
    expect(viaProxy.status).toBe(200);
  });

  it('with PROXY_HOPS=2 takes the address two hops from the right', async () => {
    stack = await startStack({
      env: { TRUST_PROXY: 'true', PROXY_HOPS: '2' },
      overrides: { loginLimits: { perIp: 2 } },
    });
    // Spoofed entries on the left change nothing: the client is the entry the first proxy appended.
    for (const spoof of ['1.1.1.1', '2.2.2.2']) {
      const reply = await login(stack.url, `hops-${spoof}@example.org`, 'nope', {
        forwardedFor: `${spoof}, 198.51.100.40, 10.0.0.2`,
      });
      expect(reply.status).toBe(401);
    }
    const third = await login(stack.url, 'hops-3@example.org', 'nope', {
      forwardedFor: '3.3.3.3, 198.51.100.40, 10.0.0.2',
    });
    expect(third.status).toBe(429);
    const other = await login(stack.url, 'hops-4@example.org', 'nope', {
      forwardedFor: '3.3.3.3, 198.51.100.41, 10.0.0.2',
    });
    expect(other.status).toBe(401);
  });

  it('ignores X-Forwarded-For without TRUST_PROXY', async () => {
    stack = await startStack({ overrides: { loginLimits: { perIp: 2 } } });
    for (let i = 0; i < 2; i++) {
      const reply = await login(stack.url, `plain-${i}@example.org`, 'nope', {
        forwardedFor: `203.0.113.${i}`,
      });
      expect(reply.status).toBe(401);
    }
    const third = await login(stack.url, 'plain-3@example.org', 'nope', { forwardedFor: '203.0.113.77' });
    expect(third.status).toBe(429);
  });
});

describe('anonymous traffic per network', () => {
  it('answers 429 rate_limited with retryAfter past the bucket, per network, not for patrons', async () => {
    stack = await startStack({ env: { ...proxied, ANONYMOUS_RATE: '0.05', ANONYMOUS_BURST: '5' } });
    const anonymous = new Client(stack.url);
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    // A patron logs in first (one call), from the same network.
    const patron = new Client(stack.url);
    expect((await patron.login(DEMO.email, DEMO.password, false)).status).toBe(200);
    // A batch of three costs three.
    const batch = await anonymous.request('/trpc/account.me,account.me,account.me?batch=1&input={}', {
      headers: from('198.51.100.50'),
    });
    expect(batch.status).not.toBe(429);
    for (let i = 0; i < 2; i++) {
      expect((await anonymous.query('account.me', undefined, from('198.51.100.50'))).status).toBe(200);
    }
    const limited = await anonymous.query('account.me', undefined, from('198.51.100.50'));
    expect(limited.status).toBe(429);
    expect(errorOf(limited).data).toMatchObject({ code: 'TOO_MANY_REQUESTS', appCode: 'rate_limited' });
    const retryAfter = (errorOf(limited).data as { retryAfter?: number }).retryAfter;
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get('retry-after')).toBe(String(retryAfter));
    // Another network has its own bucket; a logged-in patron is not counted here at all.
    expect((await anonymous.query('account.me', undefined, from('198.51.100.51'))).status).toBe(200);
    for (let i = 0; i < 10; i++) {
      expect((await patron.query('account.me', undefined, from('198.51.100.50'))).status).toBe(200);
    }
    const metrics = await metricsOf(stack.url);
    expect(
      metricValue(metrics, 'lending_limiter_decisions_total', { limiter: 'anonymous', decision: 'refused' }),
    ).toBe(1);
  });

  it("lets a patron's SPA through with the defaults", async () => {
    stack = await startStack({ env: proxied });
    const browser = new Client(stack.url);
    // A burst of 100 anonymous calls, as a page load and some browsing make.
    const replies = await Promise.all(
      Array.from({ length: 100 }, () =>
        browser.query('account.me', undefined, { 'x-forwarded-for': '203.0.113.60' }),
      ),
    );
    expect(replies.filter((r) => r.status === 429)).toEqual([]);
  });
});
