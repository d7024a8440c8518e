// The built SPA is served from WEB_DIST: files, index.html for client routes, nothing outside the folder.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack } from './helpers';
import type { Stack } from './helpers';

let stack: Stack;
let dist: string;
beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lending-spa-'));
  dist = path.join(dir, 'dist');
  mkdirSync(path.join(dist, 'assets'), { recursive: true });
  writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>Lending</title>');
  writeFileSync(path.join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
  writeFileSync(path.join(dir, 'outside.txt'), 'private');
  stack = await startStack({ env: { WEB_DIST: dist } });
});
afterAll(async () => {
  await stack.close();
});

describe('SPA', () => {
  it('serves index.html at / and for client routes', async () => {
    for (const route of ['/', '/loans', '/books/emmaausten00aust']) {
      const res = await fetch(stack.url + route, { headers: { accept: 'text/html' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(await res.text()).toContain('<title>Lending</title>');
    }
  });

  it('serves hashed assets as immutable', async () => {
    const res = await fetch(`${stack.url}/assets/index-abc123.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('javascript');
    expect(res.headers.get('cache-control')).toContain('immutable');
    expect(await res.text()).toBe('console.log(1)');
    const head = await fetch(`${stack.url}/assets/index-abc123.js`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('14');
  });

  it('answers 404 for missing files and never serves outside WEB_DIST', async () => {
    expect((await fetch(`${stack.url}/assets/missing.js`)).status).toBe(404);
    for (const attempt of ['/%2e%2e/outside.txt', '/..%2foutside.txt', '/assets/..%2f..%2foutside.txt']) {
      const res = await fetch(stack.url + attempt);
      expect(await res.text()).not.toContain('private');
    }
  });

  it('leaves /trpc, /healthz and /metrics to the server', async () => {
    const res = await fetch(`${stack.url}/trpc/account.me`);
    expect(res.headers.get('content-type')).toContain('application/json');
    await res.arrayBuffer();
  });

  it('labels request metrics with a fixed set of routes, whatever paths clients make up', async () => {
    for (let i = 0; i < 20; i++) await (await fetch(`${stack.url}/made-up-${i}/x`)).arrayBuffer();
    await (await fetch(`${stack.url}/healthz`)).arrayBuffer();
    const text = await (await fetch(`${stack.url}/metrics`)).text();
    const routes = new Set(
      [...text.matchAll(/lending_http_request_duration_seconds_count\{[^}]*route="([^"]*)"/g)].map(
        (m) => m[1],
      ),
    );
    expect([...routes].sort()).toEqual(expect.arrayContaining(['healthz', 'spa']));
    for (const route of routes) expect(['trpc', 'healthz', 'metrics', 'spa']).toContain(route);
    expect(text).not.toContain('made-up');
  });
});
