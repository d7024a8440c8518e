import type { Context } from 'koa';
import { z } from 'zod';
import { intField, reply } from '../http';
import { matches, parseQuery, QueryError, words, type Doc } from '../search-query';
import type { FixtureBook } from '../fixture';
import { isLendable, isPrintDisabled, type ArchiveState } from '../state';

const FIELDS = ['identifier', 'title', 'creator', 'year', 'collection', 'mediatype'] as const;
type Field = (typeof FIELDS)[number];
const SORTABLE = ['identifier', 'title', 'creator', 'year', 'date'] as const;
const oneOrMany = z.union([z.string().max(256), z.array(z.string().max(256)).max(32)]);

const querySchema = z.object({
  q: z.string().max(2048),
  'fl[]': oneOrMany.optional(),
  fl: z.string().max(256).optional(),
  'sort[]': oneOrMany.optional(),
  rows: intField.pipe(z.number().max(10_000)).default(50),
  page: intField.pipe(z.number().min(1).max(100_000)).default(1),
  output: z.literal('json'),
});

const sortSchema = z
  .string()
  .trim()
  .regex(new RegExp(`^(${SORTABLE.join('|')})( (asc|desc))?$`));

function docOf(state: ArchiveState, book: FixtureBook): Doc {
  const lending = state.status(book.identifier, null);
  return {
    identifier: book.identifier,
    title: book.title,
    creator: book.creator,
    year: book.year,
    collections: book.collections,
    lending: {
      available_to_borrow: lending.available_to_borrow,
      available_to_browse: lending.available_to_browse,
      available_to_waitlist: lending.available_to_waitlist,
      is_lendable: isLendable(book),
      is_printdisabled: isPrintDisabled(book),
      is_readable: false,
    },
  };
}

function fieldValue(book: FixtureBook, field: Field): unknown {
  switch (field) {
    case 'collection':
      return [...book.collections];
    case 'mediatype':
      return 'texts';
    default:
      return book[field];
  }
}

/** Titles sort without a leading article (as archive.org's titleSorter); both by their words, accents aside. */
function sortKey(field: 'title' | 'creator', text: string): string {
  const all = words(text);
  const skip = field === 'title' && all.length > 1 && ['the', 'a', 'an'].includes(all[0]!) ? 1 : 0;
  return all.slice(skip).join(' ');
}

/** Compares by each `field dir` in turn. */
function comparator(sorts: string[]): ((a: FixtureBook, b: FixtureBook) => number) | null {
  const keys = sorts.filter((sort) => sort.trim() !== '');
  if (keys.length === 0) return null;
  return (a, b) => {
    for (const key of keys) {
      const [name, direction] = key.trim().split(' ') as [(typeof SORTABLE)[number], string | undefined];
      const sign = direction === 'desc' ? -1 : 1;
      const of = (book: FixtureBook): string | number =>
        name === 'year' || name === 'date'
          ? (book.year ?? Number.MAX_SAFE_INTEGER)
          : name === 'identifier'
            ? book.identifier
            : sortKey(name, book[name]);
      const x = of(a);
      const y = of(b);
      if (x !== y) return (x < y ? -1 : 1) * sign;
    }
    return 0;
  };
}

/**
 * GET /advancedsearch.php?q=<query>&fl[]=identifier&...&rows=N&page=P&sort[]=title asc&output=json, as archive.org
 * answers it: `{responseHeader:{status:0, params}, response:{numFound, start, docs}}` over the whole catalogue,
 * `numFound` being the count of every match and `docs` the requested page (`start` = (page-1)·rows).
 * The query language is in search-query.ts; fields not asked for with fl[] (or fl=a,b) are left out.
 */
export function advancedSearch(ctx: Context, state: ArchiveState): void {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return reply(ctx, 405, { error: 'method_not_allowed' });
  const input = querySchema.safeParse(ctx.query);
  if (!input.success) {
    return reply(ctx, 400, { error: 'bad_request', detail: 'q, rows 0..10000, page >= 1, output=json' });
  }
  const { q, rows, page } = input.data;
  const sorts = [input.data['sort[]'] ?? []].flat();
  if (!sorts.every((sort) => sort.trim() === '' || sortSchema.safeParse(sort).success)) {
    return reply(ctx, 400, {
      error: 'bad_request',
      detail: `sort[] is "<field> asc|desc" with ${SORTABLE.join(', ')}`,
    });
  }

  let found: FixtureBook[];
  try {
    const query = parseQuery(q);
    found = state.books.filter((book) => matches(docOf(state, book), query));
  } catch (error) {
    if (error instanceof QueryError) return reply(ctx, 400, { error: 'bad_query', detail: error.message });
    throw error;
  }
  const compare = comparator(sorts);
  if (compare) found = [...found].sort(compare);

  const requested = [input.data['fl[]'] ?? [], input.data.fl?.split(',') ?? []].flat().map((f) => f.trim());
  const fields = FIELDS.filter((field) => requested.includes(field));
  const selected: Field[] = fields.length > 0 ? fields : ['identifier'];
  const start = (page - 1) * rows;
  const docs = found
    .slice(start, start + rows)
    .map((book) => Object.fromEntries(selected.map((field) => [field, fieldValue(book, field)])));
  reply(ctx, 200, {
    responseHeader: { status: 0, QTime: 0, params: { query: q, fields: selected.join(','), rows, start } },
    response: { numFound: found.length, start, docs },
  });
}
