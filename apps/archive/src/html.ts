import type { Context } from 'koa';

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text safe inside HTML or XML text and attribute values. */
export function escapeMarkup(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

const STYLE = `
  body { font: 16px/1.5 Georgia, serif; margin: 0; background: #f4f1ea; color: #222; }
  header { display: flex; gap: 1rem; align-items: center; padding: 1rem 1.5rem; background: #fff; border-bottom: 1px solid #ddd; }
  header img { width: 60px; height: 90px; }
  h1 { font-size: 1.4rem; margin: 0; }
  main { max-width: 40rem; margin: 1.5rem auto; padding: 0 1rem; }
  .page { background: #fff; box-shadow: 0 1px 3px rgba(0,0,0,.2); padding: 2rem; margin-bottom: 1.5rem; min-height: 20rem; }
  .page footer { text-align: center; color: #666; font-size: .85rem; margin-top: 2rem; }
  .refused { max-width: 32rem; margin: 4rem auto; background: #fff; padding: 2rem; border-left: 6px solid #b3261e; }
`;

/**
 * Answers an HTML page: no caching (reader links carry tokens), no referrer (so the tokens in this page's URL
 * never travel on), and a policy that allows nothing but its own style and images from this host.
 */
export function htmlPage(ctx: Context, status: number, title: string, body: string): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set(
    'Content-Security-Policy',
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  );
  ctx.body = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeMarkup(title)}</title><style>${STYLE}</style></head>
<body>
${body}
</body>
</html>
`;
}
