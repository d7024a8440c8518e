// The part of archive.org's advancedsearch query language (Lucene's) that queries for lendable books use, e.g.
// Open Library's compose_ia_url: `collection:(inlibrary) AND (lending___available_to_browse:true OR ...)`.
// Terms `field:value`, `field:(a OR b)`, `field:"a phrase"`, `field:prefix*`, `field:*`, `year:[1800 TO 1900]`,
// bare words (title, creator or identifier), AND (also between adjacent terms), OR, NOT / ! / -, parentheses.

export type Field =
  | 'identifier'
  | 'title'
  | 'creator'
  | 'year'
  | 'date'
  | 'collection'
  | 'mediatype'
  | 'openlibrary_work'
  | 'openlibrary_edition'
  | 'lending___available_to_borrow'
  | 'lending___available_to_browse'
  | 'lending___available_to_waitlist'
  | 'lending___is_lendable'
  | 'lending___is_printdisabled'
  | 'lending___is_readable';

const FIELDS: ReadonlySet<string> = new Set<Field>([
  'identifier',
  'title',
  'creator',
  'year',
  'date',
  'collection',
  'mediatype',
  'openlibrary_work',
  'openlibrary_edition',
  'lending___available_to_borrow',
  'lending___available_to_browse',
  'lending___available_to_waitlist',
  'lending___is_lendable',
  'lending___is_printdisabled',
  'lending___is_readable',
]);

export type Value =
  | { kind: 'word'; text: string }
  | { kind: 'phrase'; text: string }
  | { kind: 'range'; from: string; to: string };

export type Query =
  | { kind: 'term'; field: Field | null; value: Value }
  | { kind: 'and' | 'or'; items: Query[] }
  | { kind: 'not'; item: Query };

export class QueryError extends Error {}

const MAX_TOKENS = 200;
const MAX_DEPTH = 16;

type Token =
  | { kind: 'open' | 'close' | 'lbracket' | 'rbracket' | 'colon' | 'not' }
  | { kind: 'word' | 'phrase'; text: string };

function tokenize(q: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (token: Token) => {
    tokens.push(token);
    if (tokens.length > MAX_TOKENS) throw new QueryError(`at most ${MAX_TOKENS} terms`);
  };
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/.test(c)) {
      i += 1;
    } else if ('()[]:'.includes(c)) {
      const kinds = { '(': 'open', ')': 'close', '[': 'lbracket', ']': 'rbracket', ':': 'colon' } as const;
      push({ kind: kinds[c as keyof typeof kinds] });
      i += 1;
    } else if ((c === '!' || c === '-') && i + 1 < q.length && !/[\s)]/.test(q[i + 1]!)) {
      push({ kind: 'not' });
      i += 1;
    } else if (c === '"') {
      const end = q.indexOf('"', i + 1);
      if (end === -1) throw new QueryError('unterminated "');
      push({ kind: 'phrase', text: q.slice(i + 1, end) });
      i = end + 1;
    } else {
      let j = i;
      while (j < q.length && !/[\s()[\]:"]/.test(q[j]!)) j += 1;
      const text = q.slice(i, j);
      push(text === 'NOT' ? { kind: 'not' } : { kind: 'word', text });
      i = j;
    }
  }
  return tokens;
}

class Parser {
  private at = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Query {
    const query = this.or(null, 0);
    if (this.at < this.tokens.length) throw new QueryError('unexpected ) or ]');
    return query;
  }

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }

  private isOperator(text: string): boolean {
    const token = this.peek();
    return token?.kind === 'word' && token.text === text;
  }

  private or(field: Field | null, depth: number): Query {
    const items = [this.and(field, depth)];
    while (this.isOperator('OR')) {
      this.at += 1;
      items.push(this.and(field, depth));
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  }

  private and(field: Field | null, depth: number): Query {
    const items = [this.unary(field, depth)];
    for (;;) {
      if (this.isOperator('AND')) {
        this.at += 1;
      } else {
        const next = this.peek();
        const startsTerm =
          next && next.kind !== 'close' && next.kind !== 'rbracket' && !this.isOperator('OR');
        if (!startsTerm) break;
      }
      items.push(this.unary(field, depth));
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }

  private unary(field: Field | null, depth: number): Query {
    if (this.peek()?.kind === 'not') {
      this.at += 1;
      return { kind: 'not', item: this.unary(field, depth) };
    }
    return this.primary(field, depth);
  }

  private primary(field: Field | null, depth: number): Query {
    if (depth > MAX_DEPTH) throw new QueryError(`at most ${MAX_DEPTH} levels of parentheses`);
    const token = this.peek();
    if (!token) throw new QueryError('a term is missing');
    if (token.kind === 'open') {
      this.at += 1;
      const inner = this.or(field, depth + 1);
      if (this.peek()?.kind !== 'close') throw new QueryError('missing )');
      this.at += 1;
      return inner;
    }
    if (token.kind === 'lbracket') return { kind: 'term', field, value: this.range() };
    if (token.kind === 'phrase') {
      this.at += 1;
      return { kind: 'term', field, value: { kind: 'phrase', text: token.text } };
    }
    if (token.kind !== 'word' || token.text === 'AND' || token.text === 'OR') {
      throw new QueryError('a term is missing');
    }
    this.at += 1;
    if (this.peek()?.kind === 'colon') {
      if (field !== null) throw new QueryError('a field inside a field');
      if (!FIELDS.has(token.text)) throw new QueryError(`unsupported field ${token.text.slice(0, 40)}`);
      this.at += 1;
      return this.primary(token.text as Field, depth + 1);
    }
    return { kind: 'term', field, value: { kind: 'word', text: token.text } };
  }

  private range(): Value {
    const take = (kind: Token['kind']): Token => {
      const token = this.tokens[this.at];
      if (token?.kind !== kind) throw new QueryError('a range is [from TO to]');
      this.at += 1;
      return token;
    };
    take('lbracket');
    const from = take('word') as { text: string };
    const to = take('word') as { text: string };
    const end = take('word') as { text: string };
    take('rbracket');
    if (to.text !== 'TO') throw new QueryError('a range is [from TO to]');
    return { kind: 'range', from: from.text, to: end.text };
  }
}

/** Parses `q`; a QueryError says what is wrong with it. */
export function parseQuery(q: string): Query {
  const tokens = tokenize(q);
  if (tokens.length === 0) throw new QueryError('empty query');
  return new Parser(tokens).parse();
}

/** What a query can ask of one book. */
export interface Doc {
  identifier: string;
  title: string;
  creator: string;
  year: number | null;
  collections: readonly string[];
  lending: Record<
    | 'available_to_borrow'
    | 'available_to_browse'
    | 'available_to_waitlist'
    | 'is_lendable'
    | 'is_printdisabled'
    | 'is_readable',
    boolean
  >;
}

/** Lower-case ASCII words: "Brontë's Jane-Eyre" → ["brontes", "jane", "eyre"]. */
export function words(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f']/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
}

function exact(candidates: readonly string[], value: Value): boolean {
  if (value.kind === 'range') return candidates.some((c) => c >= value.from && c <= value.to);
  const text = value.text;
  if (text === '*') return candidates.length > 0;
  if (value.kind === 'word' && text.endsWith('*'))
    return candidates.some((c) => c.startsWith(text.slice(0, -1)));
  return candidates.includes(text);
}

function textMatch(field: string, value: Value): boolean {
  if (value.kind === 'range') return false;
  if (value.text === '*') return field !== '';
  const have = words(field);
  if (value.kind === 'phrase') {
    const want = words(value.text);
    if (want.length === 0) return false;
    return have.some((_, start) => want.every((word, k) => have[start + k] === word));
  }
  const prefix = value.text.endsWith('*');
  const want = words(value.text);
  if (want.length === 0) return false;
  return want.every((word, k) =>
    prefix && k === want.length - 1 ? have.some((h) => h.startsWith(word)) : have.includes(word),
  );
}

function yearMatch(year: number | null, value: Value): boolean {
  if (year === null) return false;
  if (value.kind === 'range') {
    const from = value.from === '*' ? -Infinity : Number(value.from);
    const to = value.to === '*' ? Infinity : Number(value.to);
    if (Number.isNaN(from) || Number.isNaN(to)) throw new QueryError('a year range is [1800 TO 1900]');
    return year >= from && year <= to;
  }
  if (value.text === '*') return true;
  return String(year) === value.text;
}

function termMatches(doc: Doc, field: Field | null, value: Value): boolean {
  switch (field) {
    case null:
      return textMatch(doc.title, value) || textMatch(doc.creator, value) || exact([doc.identifier], value);
    case 'identifier':
      return exact([doc.identifier], value);
    case 'title':
      return textMatch(doc.title, value);
    case 'creator':
      return textMatch(doc.creator, value);
    case 'year':
    case 'date':
      return yearMatch(doc.year, value);
    case 'collection':
      return exact(doc.collections, value);
    case 'mediatype':
      return exact(['texts'], value);
    case 'openlibrary_work':
    case 'openlibrary_edition':
      return false;
    default:
      return exact([String(doc.lending[field.slice('lending___'.length) as keyof Doc['lending']])], value);
  }
}

export function matches(doc: Doc, query: Query): boolean {
  switch (query.kind) {
    case 'term':
      return termMatches(doc, query.field, query.value);
    case 'and':
      return query.items.every((item) => matches(doc, item));
    case 'or':
      return query.items.some((item) => matches(doc, item));
    case 'not':
      return !matches(doc, query.item);
  }
}
