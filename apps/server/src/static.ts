// Serves the built SPA: files under `root`, and index.html for client-side routes.
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
    ctx.lastModified = stats.mtime;
    // Vite names built assets by content hash, so they never change; the shell must be revalidated.
    ctx.set(
      'Cache-Control',
      ctx.path.startsWith('/assets/') && file !== indexFile
        ? 'public, max-age=31536000, immutable'
        : 'no-cache',
    );
    if (ctx.method === 'HEAD') {
      ctx.status = 200; // Koa sends no body for HEAD; opening the file would only leak a descriptor.
      ctx.length = stats.size;
    } else {
      ctx.body = createReadStream(file);
      ctx.length = stats.size;
    }
  };
}
