import type { Context } from 'koa';
import { z } from 'zod';
import { intField, reply } from '../http';
import type { ArchiveState } from '../state';

const FIELDS = ['identifier', 'title', 'creator', 'year'] as const;
type Field = (typeof FIELDS)[number];
const oneOrMany = z.union([z.string().max(64), z.array(z.string().max(64)).max(32)]);

const querySchema = z.object({
  q: z.string().max(256),
  'fl[]': oneOrMany.optional(),
  rows: intField.pipe(z.number().max(10_000)).default(50),
  page: intField.pipe(z.number().min(1).max(100_000)).default(1),
  output: z.literal('json'),
});

/** GET /advancedsearch.php?q=collection:inlibrary&fl[]=identifier&...&rows=N&output=json (only `collection:`). */
export function advancedSearch(ctx: Context, state: ArchiveState): void {
  if (ctx.method !== 'GET') return reply(ctx, 405, { error: 'method_not_allowed' });
  const query = querySchema.safeParse(ctx.query);
  if (!query.success) return reply(ctx, 400, { error: 'bad_request', detail: 'q, rows, page, output=json' });
  const collection = /^collection:([A-Za-z0-9_.-]+)$/.exec(query.data.q.trim())?.[1];
  if (!collection) return reply(ctx, 400, { error: 'unsupported_query', detail: 'only collection:<name>' });

  const requested = [query.data['fl[]'] ?? []].flat();
  const fields = FIELDS.filter((field) => requested.includes(field));
  const selected: Field[] = fields.length > 0 ? fields : ['identifier'];
  const books = collection === 'inlibrary' ? state.books : [];
  const start = (query.data.page - 1) * query.data.rows;
  const docs = books
    .slice(start, start + query.data.rows)
    .map((book) => Object.fromEntries(selected.map((field) => [field, book[field]])));
  reply(ctx, 200, { responseHeader: { status: 0 }, response: { numFound: books.length, start, docs } });
}
