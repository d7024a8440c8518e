// The SPA on the wire: a real build (precompress.ts writes .br/.gz beside each hashed asset) served by the real
// server. Raw HTTP (node:http never decodes): the bytes sent under each Content-Encoding decode to the built
// file, caches are told to vary on Accept-Encoding, validators are strong and answer 304.
import { readFile, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { createApp, loadEnv } from '@lending/server';
import type { LendingApp } from '@lending/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSpa } from './build';

let dist = '';
let app: LendingApp;
let base = '';
let script = '';

interface Wire {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Wire> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dist = await buildSpa();
  const html = await readFile(join(dist, 'index.html'), 'utf8');
  script = /<script[^>]+src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1] ?? '';
  const config = await loadEnv({
    NODE_ENV: 'test',
    APP_SECRET: 'web-compression-test-secret-0123456789abcdef',
    DATABASE_URL: 'sqlite::memory:',
    LOG_LEVEL: 'silent',
    WEB_DIST: dist,
  });
  app = createApp(config);
  base = (await app.listen(0, '127.0.0.1')).url;
});
afterAll(async () => {
  await app?.close();
  if (dist) await rm(dist, { recursive: true, force: true });
});

describe('the SPA, compressed and cached', () => {
  it('writes a brotli and a gzip copy beside every hashed script and stylesheet', async () => {
    const assets = await readdir(join(dist, 'assets'));
    const originals = assets.filter((f) => /\.(js|css)$/.test(f));
    expect(originals.length).toBeGreaterThan(0);
    for (const file of originals) {
      expect(assets).toContain(`${file}.br`);
      expect(assets).toContain(`${file}.gz`);
    }
  });

  it('sends each encoding the client accepts, decoding to the same file, and varies on Accept-Encoding', async () => {
    expect(script).toMatch(/^\/assets\/index-[\w-]+\.js$/);
    const original = await readFile(join(dist, script));

    const plain = await get(script);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.equals(original)).toBe(true);

    const br = await get(script, { 'accept-encoding': 'gzip, deflate, br, zstd' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(Number(br.headers['content-length'])).toBe(br.body.length);
    expect(br.body.length).toBeLessThan(original.length / 3);
    expect(brotliDecompressSync(br.body).equals(original)).toBe(true);

    const gz = await get(script, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).equals(original)).toBe(true);
    expect(br.body.length).toBeLessThan(gz.body.length);

    // q-values count: brotli refused, gzip preferred over identity.
    const noBr = await get(script, { 'accept-encoding': 'br;q=0, gzip;q=0.5, identity' });
    expect(noBr.headers['content-encoding']).toBe('gzip');
    const star = await get(script, { 'accept-encoding': '*' });
    expect(star.headers['content-encoding']).toBe('br');
    const identity = await get(script, { 'accept-encoding': 'identity' });
    expect(identity.headers['content-encoding']).toBeUndefined();

    for (const response of [plain, br, gz]) {
      expect(response.headers.vary).toMatch(/accept-encoding/i);
      expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(response.headers['content-type']).toMatch(/javascript/);
      expect(response.headers.etag).toMatch(/^"[\w-]+"$/); // strong: no W/
    }
    // One validator per representation: a cache never serves the gzip bytes for a brotli request's tag.
    expect(new Set([plain.headers.etag, br.headers.etag, gz.headers.etag]).size).toBe(3);

    const head = await get(script, { 'accept-encoding': 'br' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(br.headers['content-length']);
    expect(head.body.length).toBe(0);
  });

  it('answers 304 with no body when the tag matches, and 200 when it does not', async () => {
    const br = await get(script, { 'accept-encoding': 'br' });
    const etag = String(br.headers.etag);
    const again = await get(script, { 'accept-encoding': 'br', 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers.etag).toBe(etag);
    const gzWithBrTag = await get(script, { 'accept-encoding': 'gzip', 'if-none-match': etag });
    expect(gzWithBrTag.status).toBe(200);
    expect(gzWithBrTag.headers['content-encoding']).toBe('gzip');
  });

  it('revalidates index.html every time (no-cache) and answers its validator with 304', async () => {
    const page = await get('/', { accept: 'text/html', 'accept-encoding': 'gzip, br' });
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-encoding']).toBeUndefined();
    expect(page.body.toString('utf8')).toBe(await readFile(join(dist, 'index.html'), 'utf8'));
    const etag = String(page.headers.etag);
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await get('/loans', { accept: 'text/html', 'if-none-match': etag });
    expect(again.status).toBe(304);
  });
});
