// What an orchestrator and an operator see (issue 12 §4, issue 13 §7): the probes (/livez, /readyz, /healthz, never
// the SPA's page), /metrics kept off the public listener in production (METRICS_PORT, METRICS_TOKEN), every label
// bounded (HTTP methods, procedures, archive.org endpoints), and the latency metrics per procedure and per
// archive.org endpoint.
import http from 'node:http';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { METHOD_LABELS } from '../src/metrics';
import { procedureLabel } from '../src/trpc';
import { Client, PRODUCTION_ENV, startStack } from './helpers';
import type { Stack } from './helpers';

let stack: Stack;
afterEach(async () => {
  await stack.close();
});

const PRODUCTION = PRODUCTION_ENV;
const TOKEN = 'metrics-token-0123456789abcdef';

function webDist(): string {
  const dist = path.join(mkdtempSync(path.join(tmpdir(), 'lending-ops-')), 'dist');
  mkdirSync(dist, { recursive: true });
  writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>Lending</title>');
  return dist;
}

/** A raw request with any method Node can send. */
function rawRequest(url: string, method: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The values a label takes in one metric's series. */
function labelValues(text: string, metric: string, label: string): Set<string> {
  const values = new Set<string>();
  const pattern = new RegExp(`^${metric}(?:_bucket|_count|_sum)?\\{[^}]*\\b${label}="([^"]*)"`, 'gm');
  for (const match of text.matchAll(pattern)) values.add(match[1]!);
  return values;
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('probes', () => {
  it('answer JSON, never the SPA page, even to a browser', async () => {
    stack = await startStack({ env: { WEB_DIST: webDist() } });
    for (const probe of ['/livez', '/readyz', '/healthz']) {
      const res = await fetch(stack.url + probe, { headers: { accept: 'text/html' } });
      expect(res.status, probe).toBe(200);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.text()).not.toContain('<title>');
    }
    expect(await (await fetch(`${stack.url}/livez`)).json()).toEqual({ ok: true });
    expect(await (await fetch(`${stack.url}/readyz`)).json()).toEqual({ ready: true, database: 'up' });
  });

  it('/readyz turns 503 when shutdown begins, while /livez and requests are still served', async () => {
    stack = await startStack();
    const patron = new Client(stack.url);
    expect((await patron.login()).status).toBe(200);
    stack.server.beginShutdown();
    const ready = await fetch(`${stack.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ ready: false, reason: 'shutting_down' });
    const health = await fetch(`${stack.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ ready: false, draining: true, database: 'up' });
    expect((await fetch(`${stack.url}/livez`)).status).toBe(200);
    expect((await patron.query('account.me')).status).toBe(200);
  });

  it('/readyz does not ask archive.org: its outage keeps the instance ready', async () => {
    stack = await startStack();
    await stack.archive!.close();
    expect((await fetch(`${stack.url}/readyz`)).status).toBe(200);
    const health = await fetch(`${stack.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: false, ready: true, archive: 'down' });
  });
});

describe('/metrics access', () => {
  it('is not served on the public listener in production, not even as the SPA page', async () => {
    stack = await startStack({ env: { ...PRODUCTION, WEB_DIST: webDist() } });
    for (const accept of ['text/plain', 'text/html']) {
      const res = await fetch(`${stack.url}/metrics`, { headers: { accept } });
      expect(res.status).toBe(404);
      expect(await res.text()).not.toMatch(/lending_|<title>/);
    }
    expect(stack.server.metricsListener()).toBeNull();
  });

  it('is served on METRICS_PORT (127.0.0.1) only, and the public listener refuses it', async () => {
    stack = await startStack({ env: { ...PRODUCTION, METRICS_PORT: '0' } });
    const listener = stack.server.metricsListener();
    expect(listener).not.toBeNull();
    expect(listener!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(listener!.port).not.toBe(stack.listening.port);
    const res = await fetch(listener!.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('lending_http_request_duration_seconds');
    expect((await fetch(`${stack.url}/metrics`)).status).toBe(404);
    // The metrics listener serves nothing else.
    expect((await fetch(listener!.url.replace('/metrics', '/healthz'))).status).toBe(404);
    expect((await fetch(listener!.url.replace('/metrics', '/trpc/account.me'))).status).toBe(404);
  });

  it('asks for METRICS_TOKEN as a bearer token, on either listener', async () => {
    stack = await startStack({ env: { ...PRODUCTION, METRICS_TOKEN: TOKEN, METRICS_PORT: '0' } });
    const url = stack.server.metricsListener()!.url;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(
      401,
    );
    expect((await fetch(url, { headers: { authorization: TOKEN } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    await stack.close();

    // Without METRICS_PORT, production serves it on the public listener only with the token.
    stack = await startStack({ env: { ...PRODUCTION, METRICS_TOKEN: TOKEN } });
    const unauthorised = await fetch(`${stack.url}/metrics`);
    expect(unauthorised.status).toBe(401);
    expect(unauthorised.headers.get('www-authenticate')).toBe('Bearer');
    const authorised = await fetch(`${stack.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(authorised.status).toBe(200);
    expect(await authorised.text()).toContain('process_cpu_seconds_total');
  });
});

describe('metric labels', () => {
  it('do not grow with unusual HTTP methods', async () => {
    stack = await startStack();
    const odd = http.METHODS.filter((m) => !METHOD_LABELS.has(m) && m !== 'CONNECT');
    expect(odd.length).toBeGreaterThan(20);
    for (const method of METHOD_LABELS) await rawRequest(`${stack.url}/`, method);
    const before = await (await fetch(`${stack.url}/metrics`)).text();
    for (const method of odd) {
      for (const target of ['/', '/trpc/account.me', '/healthz'])
        await rawRequest(stack.url + target, method);
    }
    const after = await (await fetch(`${stack.url}/metrics`)).text();
    const methods = labelValues(after, 'lending_http_request_duration_seconds', 'method');
    expect([...methods].filter((m) => !METHOD_LABELS.has(m))).toEqual(['other']);
    // At most the "other" series were added: a fixed number of lines per route and status, not per method.
    const lines = (text: string) =>
      text.split('\n').filter((l) => l.startsWith('lending_http_request_duration_seconds')).length;
    expect(lines(after) - lines(before)).toBeLessThanOrEqual(3 * 3 * 14);
  });

  it('name only the router’s procedures, and time each', async () => {
    stack = await startStack();
    const patron = new Client(stack.url);
    expect((await patron.login()).status).toBe(200);
    expect((await patron.query('account.me')).status).toBe(200);
    for (let i = 0; i < 5; i++) await patron.query(`made.up.procedure${i}`);
    await patron.request(
      `/trpc/account.me,another.invented${Date.now()}?batch=1&input=${encodeURIComponent('{}')}`,
    );
    const text = await (await fetch(`${stack.url}/metrics`)).text();
    const names = labelValues(text, 'lending_trpc_procedure_duration_seconds', 'procedure');
    for (const name of names) expect(procedureLabel(name)).toBe(name); // a procedure's name, or "unknown"
    expect(names).toContain('unknown');
    expect(
      sample(text, 'lending_trpc_procedure_duration_seconds_count{procedure="account.me",outcome="ok"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'lending_trpc_procedure_duration_seconds_count{procedure="auth.login",outcome="ok"}'),
    ).toBe(1);
    expect(text).toContain('# TYPE lending_trpc_procedure_duration_seconds histogram');
  });

  it('time archive.org calls by endpoint and outcome', async () => {
    stack = await startStack();
    expect((await new Client(stack.url).login()).status).toBe(200);
    let text = await (await fetch(`${stack.url}/metrics`)).text();
    expect(
      sample(text, 'lending_archive_request_duration_seconds_count{endpoint="xauthn",outcome="ok"}'),
    ).toBeGreaterThanOrEqual(1);
    await stack.archive!.close();
    expect((await new Client(stack.url).login()).status).toBe(503);
    text = await (await fetch(`${stack.url}/metrics`)).text();
    expect(
      sample(text, 'lending_archive_request_duration_seconds_count{endpoint="xauthn",outcome="error"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(text).toContain('# TYPE lending_archive_request_duration_seconds histogram');
  });

  it('count an archive.org call that runs out of time as a timeout', async () => {
    stack = await startStack({ env: { ARCHIVE_TIMEOUT_MS: '300' } });
    stack.archive!.state.fault = { kind: 'hang' };
    expect((await new Client(stack.url).login()).status).toBe(503);
    stack.archive!.state.fault = null;
    const text = await (await fetch(`${stack.url}/metrics`)).text();
    expect(
      sample(text, 'lending_archive_request_duration_seconds_count{endpoint="xauthn",outcome="timeout"}'),
    ).toBe(1);
  });
});
