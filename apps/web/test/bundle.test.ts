import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSpa } from './build';

// The budget (docs/ARCHITECTURE.md, "Targets"): the JavaScript a first visit downloads is at most 100 KB gzipped.
const BUDGET_BYTES = 100 * 1024;

/** The scripts index.html loads at once: module entry points and their modulepreloads. */
export function initialScripts(html: string): string[] {
  const urls = new Set<string>();
  for (const tag of html.match(/<script\b[^>]*>/g) ?? []) {
    const src = /\ssrc="([^"]+)"/.exec(tag)?.[1];
    if (src) urls.add(src);
  }
  for (const tag of html.match(/<link\b[^>]*>/g) ?? []) {
    if (!/\srel="modulepreload"/.test(tag)) continue;
    const href = /\shref="([^"]+)"/.exec(tag)?.[1];
    if (href) urls.add(href);
  }
  return [...urls];
}

describe('bundle budget', () => {
  let dist = '';
  beforeAll(async () => {
    dist = await buildSpa();
  });
  afterAll(async () => {
    if (dist) await rm(dist, { recursive: true, force: true });
  });

  it('finds the initial scripts in index.html', () => {
    const html =
      '<script type="module" crossorigin src="/assets/a.js"></script><link rel="modulepreload" crossorigin href="/assets/b.js"><link rel="stylesheet" href="/assets/c.css">';
    expect(initialScripts(html)).toEqual(['/assets/a.js', '/assets/b.js']);
  });

  it('keeps the initial JavaScript at or under 100 KB gzipped', async () => {
    const html = await readFile(join(dist, 'index.html'), 'utf8');
    const scripts = initialScripts(html);
    expect(scripts.length).toBeGreaterThan(0);
    let gzipped = 0;
    for (const url of scripts) {
      expect(url, 'scripts are same-origin build assets').toMatch(/^\/assets\/[^/]+\.js$/);
      gzipped += gzipSync(await readFile(join(dist, url))).length;
    }
    console.log(`initial JavaScript: ${scripts.length} file(s), ${(gzipped / 1024).toFixed(1)} KB gzipped`);
    expect(gzipped).toBeLessThanOrEqual(BUDGET_BYTES);
  });

  it('holds no server code (the SPA imports only types from @lending/api)', async () => {
    const assets = await readdir(join(dist, 'assets'));
    const js = await Promise.all(
      assets.filter((f) => f.endsWith('.js')).map((f) => readFile(join(dist, 'assets', f), 'utf8')),
    );
    for (const code of js) {
      // Strings that survive minification: Node built-ins, the SQLite driver, the server's own messages.
      expect(code).not.toMatch(/["']node:[a-z_]+["']|better-sqlite3|The account database is not answering/);
    }
  });
});
