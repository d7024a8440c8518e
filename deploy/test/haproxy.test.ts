// deploy/haproxy/haproxy.cfg: valid for HAProxy (`haproxy -c`), as written and as rendered for other addresses,
// and, run for real in front of two small HTTP servers: health checks on /readyz take a server that is not
// ready out of rotation, clients get X-Forwarded-For, and /metrics is never reachable through the balancer.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HAPROXY_CONFIG, renderHaproxyConfig } from '../src/haproxy';

const HAPROXY = process.env.HAPROXY_PATH || '/usr/sbin/haproxy';
const available = existsSync(HAPROXY);
if (!available) {
  if (process.env.REQUIRE_HAPROXY === '1') throw new Error(`REQUIRE_HAPROXY=1 but ${HAPROXY} is missing`);
  console.warn(
    `haproxy tests skipped: ${HAPROXY} is missing (apt-get install haproxy; CI sets REQUIRE_HAPROXY=1)`,
  );
}

const folder = mkdtempSync(path.join(tmpdir(), 'lending-haproxy-'));
const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
  rmSync(folder, { recursive: true, force: true });
});

function check(file: string) {
  return spawnSync(HAPROXY, ['-c', '-f', file], { encoding: 'utf8' });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Backend {
  name: string;
  server: Server;
  address: string;
  paths: string[];
  forwardedFor: (string | undefined)[];
}

async function backend(name: string, ready: boolean): Promise<Backend> {
  const seen: Backend = { name, server: createServer(), address: '', paths: [], forwardedFor: [] };
  seen.server.on('request', (req, res) => {
    seen.paths.push(req.url ?? '');
    if (req.url === '/readyz') {
      res.writeHead(ready ? 200 : 503).end(ready ? 'ready' : 'draining');
      return;
    }
    seen.forwardedFor.push(req.headers['x-forwarded-for'] as string | undefined);
    res
      .writeHead(200, { 'x-backend': name })
      .end(req.url?.includes('metrics') ? 'lending_secret_metric 1' : name);
  });
  await new Promise<void>((resolve) => seen.server.listen(0, '127.0.0.1', resolve));
  seen.address = `127.0.0.1:${(seen.server.address() as AddressInfo).port}`;
  cleanup.push(() => new Promise((resolve) => seen.server.close(resolve)));
  return seen;
}

describe.skipIf(!available)('the HAProxy configuration', () => {
  it('is valid as shipped', () => {
    const result = check(HAPROXY_CONFIG);
    expect(result.status, result.stderr + result.stdout).toBe(0);
  });

  it('is valid rendered for other addresses, and refuses addresses that are not host:port', () => {
    const text = renderHaproxyConfig({
      bind: '127.0.0.1:18080',
      servers: ['127.0.0.1:40001', '127.0.0.1:40002', '127.0.0.1:40003', '127.0.0.1:40004'],
      checkIntervalMs: 200,
    });
    expect(text).toContain('bind 127.0.0.1:18080');
    expect(text.match(/^\s+server lending\d /gm)).toHaveLength(4);
    expect(text).toContain('server lending4 127.0.0.1:40004');
    expect(text).toContain('check inter 200ms fastinter 100ms');
    expect(text).not.toContain('127.0.0.1:3001');
    const file = path.join(folder, 'rendered.cfg');
    writeFileSync(file, text);
    const result = check(file);
    expect(result.status, result.stderr + result.stdout).toBe(0);
    expect(() =>
      renderHaproxyConfig({ bind: '127.0.0.1:1', servers: ['x:1\n    server evil 10.0.0.1:1'] }),
    ).toThrow(/host:port/);
  });

  it('routes only to ready servers, adds X-Forwarded-For, and never lets /metrics through', async () => {
    const ready = await backend('ready', true);
    const draining = await backend('draining', false);
    const port = await freePort();
    const file = path.join(folder, 'live.cfg');
    writeFileSync(
      file,
      renderHaproxyConfig({
        bind: `127.0.0.1:${port}`,
        servers: [ready.address, draining.address],
        checkIntervalMs: 100,
      }),
    );
    const haproxy: ChildProcess = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    haproxy.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    haproxy.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    cleanup.push(
      () =>
        new Promise((resolve) => {
          haproxy.once('exit', resolve);
          haproxy.kill('SIGTERM');
        }),
    );
    const base = `http://127.0.0.1:${port}`;

    // Wait (bounded) until the balancer has marked the not-ready server down: its log says so.
    for (let i = 0; i < 100 && !/lending2 is DOWN/.test(log); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(log).toMatch(/lending2 is DOWN/);
    expect(draining.paths.every((p) => p === '/readyz')).toBe(true);
    expect(ready.paths).toContain('/readyz');

    for (let i = 0; i < 6; i++) {
      const response = await fetch(`${base}/books/${i}`);
      expect(response.headers.get('x-backend')).toBe('ready');
    }
    expect(ready.forwardedFor.at(-1)).toBe('127.0.0.1');

    for (const attempt of ['/metrics', '/METRICS', '//metrics', '/%6detrics', '/metrics/', '/metrics?x=1']) {
      const response = await fetch(base + attempt);
      expect(response.status, attempt).toBe(404);
      expect(await response.text()).not.toContain('lending_secret_metric');
    }
    expect([...ready.paths, ...draining.paths].some((p) => /metrics/i.test(decodeURIComponent(p)))).toBe(
      false,
    );
  }, 30_000);
});
