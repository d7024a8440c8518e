// Dependencies failing: archive.org down or slow gives archive_unavailable (503) within the timeout; the
// database down gives 503 and shows in /healthz. Also /healthz and /metrics when all is well.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { openAccountStore } from '@lending/accounts';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, DEMO, errorOf, startStack } from './helpers';
import type { Stack } from './helpers';

let stack: Stack;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await stack.close();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A server that accepts connections and never answers. */
async function silentServer(): Promise<string> {
  const sockets = new Set<Socket>();
  const server = http.createServer(() => undefined);
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('health and metrics', () => {
  it('reports the database and archive.org up', async () => {
    stack = await startStack();
    const res = await fetch(`${stack.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, ready: true, database: 'up', archive: 'up' });
  });

  it('exports the lending counters in Prometheus text', async () => {
    stack = await startStack();
    await new Client(stack.url).login();
    await new Client(stack.url).login(DEMO.email, 'wrong-password');
    const res = await fetch(`${stack.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('lending_s3_keys_source_total{source="store"} 0');
    expect(text).toContain('# TYPE lending_cookie_rejected_total counter');
    expect(text).toContain('lending_login_total{outcome="ok"} 1');
    expect(text).toContain('lending_login_total{outcome="invalid_credentials"} 1');
    expect(text).toContain('process_cpu_seconds_total');
  });
});

describe('archive.org unavailable', () => {
  it('down: login answers 503 archive_unavailable and /healthz shows it', async () => {
    stack = await startStack();
    await stack.archive!.close();
    const reply = await new Client(stack.url).login();
    expect(reply.status).toBe(503);
    expect(errorOf(reply).data.appCode).toBe('archive_unavailable');
    // archive.org down shows in the report, but the instance stays ready: it must not leave the balancer.
    const health = await fetch(`${stack.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: false, ready: true, database: 'up', archive: 'down' });
    expect((await fetch(`${stack.url}/readyz`)).status).toBe(200);
  });

  it('slow: login answers 503 within the timeout', async () => {
    stack = await startStack({ archiveUrl: await silentServer(), env: { ARCHIVE_TIMEOUT_MS: '300' } });
    const started = Date.now();
    const reply = await new Client(stack.url).login();
    expect(reply.status).toBe(503);
    expect(errorOf(reply).data.appCode).toBe('archive_unavailable');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('hanging while borrowing: 503 within the timeout, the session kept', async () => {
    stack = await startStack({ env: { ARCHIVE_TIMEOUT_MS: '1500' } });
    const client = new Client(stack.url);
    expect((await client.login()).status).toBe(200);
    stack.archive!.state.fault = { kind: 'hang' };
    const started = Date.now();
    const reply = await client.mutate('loans.borrow', { identifier: 'emmaausten00aust' });
    expect(reply.status).toBe(503);
    expect(errorOf(reply).data.appCode).toBe('archive_unavailable');
    expect(Date.now() - started).toBeLessThan(3500);
    expect(reply.setCookies).toEqual([]);
    stack.archive!.state.fault = null;
  });
});

describe('database unavailable', () => {
  it('answers 503 on /trpc and shows down in /healthz (SQLite closed under the server)', async () => {
    const store = await openAccountStore('sqlite::memory:');
    stack = await startStack({ overrides: { store } });
    const client = new Client(stack.url);
    await client.login();
    await store.close();
    const me = await client.query('account.me');
    expect(me.status).toBe(503);
    expect(errorOf(me).data.code).toBe('SERVICE_UNAVAILABLE');
    expect(me.text).not.toMatch(/sqlite|stack/i);
    const login = await new Client(stack.url).login();
    expect(login.status).toBe(503);
    const health = await fetch(`${stack.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ ok: false, ready: false, database: 'down', archive: 'up' });
    const ready = await fetch(`${stack.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ ready: false, reason: 'database_down' });
    expect((await fetch(`${stack.url}/livez`)).status).toBe(200);
  });
});

describe('unexpected errors', () => {
  it('answer 500 with a generic message, no stack and no detail, and are logged', async () => {
    const real = await openAccountStore('sqlite::memory:');
    cleanups.push(() => real.close());
    // A store whose reads fail for a reason other than an outage (ping still answers).
    const broken = new Proxy(real, {
      get(target, property, receiver) {
        if (property === 'getByUsername') {
          return () => Promise.reject(new Error('internal detail that must stay in the log'));
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    stack = await startStack({ overrides: { store: broken } });
    const client = new Client(stack.url);
    expect((await client.login()).status).toBe(200);
    const me = await client.query('account.me');
    expect(me.status).toBe(500);
    expect(errorOf(me).data.code).toBe('INTERNAL_SERVER_ERROR');
    expect(me.text).not.toContain('internal detail');
    expect(me.text).not.toMatch(/\.ts:\d+|stack/);
    // One fault, one line: the procedure's own, with the cause and the request id.
    const lines = stack.logs
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => JSON.stringify(line).includes('internal detail that must stay in the log'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 50,
      msg: 'procedure failed',
      procedure: 'account.me',
      status: 500,
    });
    expect(lines[0]!.reqId).toEqual(expect.any(String));
  });

  it('keep a client error from below the boundary: its status, and the code that status means', async () => {
    stack = await startStack({
      beforeListen: (server) =>
        server.app.use((ctx) => {
          ctx.throw(Number(ctx.path.slice(1)), 'refused below the boundary');
        }),
    });
    for (const [status, code] of [
      [400, 'BAD_REQUEST'],
      [404, 'NOT_FOUND'],
      [413, 'PAYLOAD_TOO_LARGE'],
      [451, 'BAD_REQUEST'], // a status tRPC has no code for
    ] as const) {
      // POST: the SPA middleware passes anything but GET and HEAD on.
      const res = await fetch(`${stack.url}/${status}`, { method: 'POST' });
      expect(res.status).toBe(status);
      const body = (await res.json()) as {
        error: { message: string; data: { code: string; httpStatus: number } };
      };
      expect(body.error.data).toMatchObject({ code, httpStatus: status });
      expect(body.error.message).toBe('refused below the boundary');
    }
  });

  it('never come from malformed URLs or methods', async () => {
    stack = await startStack();
    for (const path of [
      '/%',
      '/%E0%A4%A',
      '/trpc/%',
      '/trpc/no.such.procedure',
      '/trpc/account.me?input=%7B',
    ]) {
      const res = await fetch(stack.url + path);
      expect(res.status, path).toBeLessThan(500);
      await res.arrayBuffer();
    }
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const res = await fetch(`${stack.url}/trpc/auth.logout`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(res.status, method).toBeLessThan(500);
      await res.arrayBuffer();
    }
    const res = await fetch(`${stack.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"email": ',
    });
    expect(res.status).toBe(400);
  });
});
