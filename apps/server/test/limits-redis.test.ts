// The login limits shared through Redis (REDIS_URL): two server instances on one Redis count one sum, and when
// Redis stops answering (refused, or hung) logins keep working under the in-memory insurance limiter, with a
// warning line and metrics, and are shared again once it is back. Needs Redis at REDIS_URL_TEST (default
// redis://127.0.0.1:6379); skips with a line when none answers, unless REQUIRE_REDIS=1.
import { startArchive } from '@lending/archive';
import type { RunningArchive } from '@lending/archive';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, startStack } from './helpers';
import type { Stack } from './helpers';
import {
  REDIS_URL_TEST,
  TcpProxy,
  dropRedisPrefix,
  login,
  metricValue,
  metricsOf,
  redisAnswers,
  redisKeys,
  rightLogin,
  uniquePrefix,
} from './limits-support';

const available = await redisAnswers('limits-redis.test.ts');

describe.skipIf(!available)('login limits on one Redis', () => {
  let archive: RunningArchive;
  const stacks: Stack[] = [];
  const prefixes: string[] = [];

  beforeAll(async () => {
    archive = await startArchive({ port: 0 });
  });
  afterEach(async () => {
    for (const stack of stacks.splice(0)) await stack.close();
    for (const prefix of prefixes.splice(0)) await dropRedisPrefix(prefix);
  });
  afterAll(async () => {
    await archive.close();
  });

  async function instance(
    redisUrl: string,
    prefix: string,
    loginLimits: Record<string, number> = {},
    limitStoreTimeoutMs = 1000,
  ): Promise<Stack> {
    const stack = await startStack({
      archiveUrl: archive.url,
      env: { TRUST_PROXY: 'true', REDIS_URL: redisUrl, REDIS_PREFIX: prefix },
      overrides: { loginLimits, limitStoreTimeoutMs },
    });
    stacks.push(stack);
    return stack;
  }

  // A generous store timeout where counts must be exact: on a loaded machine, a slow answer would otherwise be the
  // insurance limiter's, on one instance.
  it('holds the limits for the sum of two instances', async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const a = await instance(REDIS_URL_TEST, prefix, { perIp: 4 }, 5000);
    const b = await instance(REDIS_URL_TEST, prefix, { perIp: 4 }, 5000);
    const from = { forwardedFor: '198.51.100.70' };
    // Four failures, alternating between the instances: each saw two.
    for (const [i, stack] of [a, b, a, b].entries()) {
      expect((await login(stack.url, `shared-${i}@example.org`, 'nope-nope', from)).status).toBe(401);
    }
    expect((await login(a.url, 'shared-5@example.org', 'nope', from)).status).toBe(429);
    expect((await login(b.url, 'shared-6@example.org', 'nope', from)).status).toBe(429);
    // The pair delay is shared too: three failures on A, the fourth attempt on B waits.
    const pair = { forwardedFor: '198.51.100.71' };
    for (let i = 0; i < 4; i++) {
      expect((await login(i % 2 ? b.url : a.url, DEMO.email, `wrong-${i}`, pair)).status).toBe(401);
    }
    expect((await login(b.url, DEMO.email, 'wrong-5', pair)).status).toBe(429);
    // Thirty attempts at once, spread over both instances: exactly the limit gets through (atomic counters).
    const burst = { forwardedFor: '198.51.100.72' };
    const c = await instance(REDIS_URL_TEST, prefix, { perIp: 10 }, 5000);
    const d = await instance(REDIS_URL_TEST, prefix, { perIp: 10 }, 5000);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        login((i % 2 ? c : d).url, `burst-${i}@example.org`, 'nope', burst),
      ),
    );
    expect(answers.filter((x) => x.status === 401).length).toBe(10);
    expect(answers.filter((x) => x.status === 429).length).toBe(20);
    for (const stack of [c, d]) {
      expect(metricValue(await metricsOf(stack.url), 'lending_limiter_store_failures_total')).toBe(0);
    }
    // Emails are kept as keyed hashes only: no key names a patron.
    const keys = await redisKeys(prefix);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((key) => key.includes('@'))).toEqual([]);
    // Nothing was degraded.
    const metrics = await metricsOf(a.url);
    expect(metricValue(metrics, 'lending_limiter_store_failures_total')).toBe(0);
    expect(metricValue(metrics, 'lending_limiter_store_degraded', { store: 'redis' })).toBe(0);
  }, 20_000);

  it('keeps limiting on the insurance limiter while Redis is unreachable, and shares again when it is back', async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const target = new URL(REDIS_URL_TEST);
    const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    await proxy.start();
    try {
      const through = new URL(REDIS_URL_TEST);
      through.hostname = '127.0.0.1';
      through.port = String(proxy.port);
      const a = await instance(through.toString(), prefix, { perIp: 3 });
      const b = await instance(REDIS_URL_TEST, prefix, { perIp: 3 });
      expect((await rightLogin(a.url, '203.0.113.80')).status).toBe(200);

      // Redis hangs: connections stay open, nothing answers. Logins still answer (the command timeout).
      proxy.hang();
      const started = performance.now();
      expect((await rightLogin(a.url, '203.0.113.81')).status).toBe(200);
      console.log(
        `limits-redis: a login while Redis hangs took ${Math.round(performance.now() - started)} ms`,
      );
      // Redis refuses: the port is closed.
      await proxy.stop();
      expect((await rightLogin(a.url, '203.0.113.82')).status).toBe(200);
      // Never a fail-open: the insurance limiter still counts failures, on this instance.
      const from = { forwardedFor: '198.51.100.80' };
      for (let i = 0; i < 3; i++) {
        expect((await login(a.url, `down-${i}@example.org`, 'nope-nope', from)).status).toBe(401);
      }
      expect((await login(a.url, 'down-4@example.org', 'nope', from)).status).toBe(429);
      // A warning line, and the metrics.
      const warnings = a.logs
        .map((line) => JSON.parse(line) as { level: number; msg: string; store?: string })
        .filter((line) => line.level === 40 && line.msg.startsWith('login limits:'));
      expect(warnings.length).toBeGreaterThanOrEqual(1);
      expect(warnings[0]).toMatchObject({ store: 'redis' });
      let metrics = await metricsOf(a.url);
      expect(metricValue(metrics, 'lending_limiter_store_degraded', { store: 'redis' })).toBe(1);
      expect(
        metricValue(metrics, 'lending_limiter_store_failures_total', { store: 'redis' }),
      ).toBeGreaterThan(0);

      // Redis is back on the same port: once the client has reconnected, the limits are shared again.
      await proxy.start();
      let shared = false;
      for (let i = 0; i < 50 && !shared; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        metrics = await metricsOf(a.url);
        shared = metricValue(metrics, 'lending_limiter_store_degraded', { store: 'redis' }) === 0;
        // A call is what notices the recovery.
        if (!shared) await rightLogin(a.url, '203.0.113.83');
      }
      expect(shared).toBe(true);
      expect(a.logs.some((line) => line.includes('limits are shared again'))).toBe(true);
      const again = { forwardedFor: '198.51.100.81' };
      for (const [i, stack] of [a, b, a].entries()) {
        expect((await login(stack.url, `back-${i}@example.org`, 'nope-nope', again)).status).toBe(401);
      }
      expect((await login(b.url, 'back-4@example.org', 'nope', again)).status).toBe(429);
    } finally {
      await proxy.stop();
    }
  }, 30_000);

  it('starts and limits with a Redis that refuses connections', async () => {
    const prefix = uniquePrefix();
    const stack = await instance('redis://127.0.0.1:1', prefix, { perIp: 2 });
    expect(stack.logs.some((line) => line.includes('the redis store does not answer at start'))).toBe(true);
    expect((await rightLogin(stack.url, '203.0.113.90')).status).toBe(200);
    const from = { forwardedFor: '198.51.100.90' };
    for (let i = 0; i < 2; i++) {
      expect((await login(stack.url, `refused-${i}@example.org`, 'nope', from)).status).toBe(401);
    }
    expect((await login(stack.url, 'refused-3@example.org', 'nope', from)).status).toBe(429);
    const metrics = await metricsOf(stack.url);
    expect(metricValue(metrics, 'lending_limiter_store_degraded', { store: 'redis' })).toBe(1);
  });
});
