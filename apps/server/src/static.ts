// Serves the built SPA: files under `root`, and index.html for client-side routes. A hashed asset is sent as the
// brotli or gzip copy the build wrote beside it (apps/web/precompress.ts) when the client accepts one, with
// `Vary: Accept-Encoding`; every response carries a strong ETag of the bytes it sends, and a matching
// If-None-Match gets 304.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import type { Middleware } from 'koa';

async function fileStats(file: string): Promise<Stats | null> {
  try {
    const stats = await stat(file);
    return stats.isFile() ? stats : null;
  } catch {
    return null;
  }
}

/** The file for a URL path inside `root`, or null for anything that could escape it or names a dotfile. */
export function resolveInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').filter(Boolean);
  if (segments.some((s) => s.startsWith('.'))) return null;
  const file = path.resolve(root, ...segments);
  return file.startsWith(root + path.sep) ? file : null;
}

export function serveSpa(root: string): Middleware {
  const indexFile = path.join(root, 'index.html');
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      await next();
      return;
    }
    const requested = ctx.path === '/' ? indexFile : resolveInside(root, ctx.path);
    let file = requested;
    let stats = file ? await fileStats(file) : null;
    // Client routes (no file extension) get the app shell.
    if (!stats && path.extname(ctx.path) === '' && ctx.accepts('html') === 'html') {
      file = indexFile;
      stats = await fileStats(file);
    }
    if (!file || !stats) {
      await next();
      return;
    }
    ctx.type = path.extname(file);
    const immutable = ctx.path.startsWith('/assets/') && file !== indexFile;
    // Vite names built assets by content hash, so they never change; the shell must be revalidated.
    ctx.set('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');

    let sent = { file, stats };
    if (immutable) {
      const variants = await precompressedVariants(file);
      if (variants.length > 0) {
        ctx.vary('Accept-Encoding');
        const chosen = chooseEncoding(ctx.get('Accept-Encoding'), variants);
        if (chosen) {
          ctx.set('Content-Encoding', chosen.encoding);
          sent = chosen;
        }
      }
    }
    ctx.lastModified = sent.stats.mtime;
    ctx.etag = await strongEtag(sent.file, sent.stats);
    ctx.status = 200;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    // Koa sends no body for HEAD; opening the file would only leak a descriptor.
    if (ctx.method !== 'HEAD') ctx.body = createReadStream(sent.file);
    ctx.length = sent.stats.size;
  };
}

interface Variant {
  encoding: 'br' | 'gzip';
  file: string;
  stats: Stats;
}

/** The precompressed copies of `file` that exist, best first. */
async function precompressedVariants(file: string): Promise<Variant[]> {
  const candidates = [
    { encoding: 'br', suffix: '.br' },
    { encoding: 'gzip', suffix: '.gz' },
  ] as const;
  const found = await Promise.all(
    candidates.map(async ({ encoding, suffix }) => {
      const stats = await fileStats(file + suffix);
      return stats ? { encoding, file: file + suffix, stats } : null;
    }),
  );
  return found.filter((v): v is Variant => v !== null);
}

/** The q-value of each coding in an Accept-Encoding header (RFC 9110 §12.5.3). */
export function encodingQualities(header: string): Map<string, number> {
  const qualities = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    if (!name) continue;
    let q = 1;
    for (const param of params) {
      const match = /^q=([01](?:\.\d{0,3})?)$/.exec(param);
      if (match) q = Math.min(1, Number(match[1]));
    }
    qualities.set(name, q);
  }
  return qualities;
}

/**
 * The variant to send for this Accept-Encoding, or null for the file itself. Earlier variants win ties
 * (brotli is smaller); a coding is acceptable when named with q > 0, or covered by `*` with q > 0.
 */
export function chooseEncoding<T extends { encoding: string }>(
  header: string,
  variants: readonly T[],
): T | null {
  if (!header.trim()) return null;
  const qualities = encodingQualities(header);
  const quality = (name: string) => qualities.get(name) ?? qualities.get('*') ?? 0;
  let best: T | null = null;
  for (const variant of variants) {
    const q = quality(variant.encoding);
    if (q > 0 && (best === null || q > quality(best.encoding))) best = variant;
  }
  return best;
}

const etags = new Map<string, { mtimeMs: number; size: number; etag: string }>();

/** A strong validator: a hash of the bytes sent (computed once per file version, then remembered). */
async function strongEtag(file: string, stats: Stats): Promise<string> {
  const known = etags.get(file);
  if (known && known.mtimeMs === stats.mtimeMs && known.size === stats.size) return known.etag;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  const etag = `"${hash.digest('base64url').slice(0, 27)}"`;
  etags.set(file, { mtimeMs: stats.mtimeMs, size: stats.size, etag });
  return etag;
}
