import type { Context } from 'koa';
import { z } from 'zod';
import { identifierSchema, type FixtureBook } from '../fixture';
import { escapeMarkup, htmlPage } from '../html';
import { BOOKREADER_TOKEN_SECONDS, checkIaToken, READER_TOKEN_SECONDS, type TokenCheck } from '../ia-token';
import type { ArchiveState, Loan } from '../state';

// The BookReader auth link as OL's make_bookreader_auth_link builds it (openlibrary/plugins/upstream/borrow.py):
// https://<bookreader_host>/bookreader/BookReaderAuth.php?uuid=<loan _key>&token=<token for id, 600 s>&id=<ocaid>
// &bookPath=/stream/<ocaid>[?...]&iaUserId=<itemname>&iaAuthToken=<token for itemname, 120 s>.
const querySchema = z.object({
  uuid: z.string().min(1).max(128),
  token: z.string().min(1).max(64),
  id: identifierSchema,
  bookPath: z.string().min(1).max(512),
  iaUserId: z.string().min(1).max(128),
  iaAuthToken: z.string().min(1).max(64),
});

const PLACEHOLDER_PAGES = 4;

function refuse(ctx: Context, status: number, heading: string, advice: string): void {
  htmlPage(
    ctx,
    status,
    heading,
    `<main class="refused" role="alert"><h1>${escapeMarkup(heading)}</h1><p>${escapeMarkup(advice)}</p></main>`,
  );
}

const TOKEN_REFUSALS: Record<Exclude<TokenCheck, 'valid'>, [string, string]> = {
  expired: [
    'This reading link has expired',
    'Reading links last a few minutes. Open the book again from your loans to get a fresh one.',
  ],
  forged: [
    'This reading link is not valid',
    'It was not made for this book and reader. Open the book from your loans.',
  ],
};

/** The uuid OL sends is the loan's `_key`, "loan-<identifier>"; its `uuid`, "loan-<id>", is accepted too. */
const namesLoan = (uuid: string, loan: Loan) =>
  uuid === `loan-${loan.identifier}` || uuid === `loan-${loan.id}`;

function readerPage(ctx: Context, book: FixtureBook, loan: Loan, screenname: string): void {
  const title = escapeMarkup(book.title);
  const creator = escapeMarkup(book.creator);
  const pages = Array.from({ length: PLACEHOLDER_PAGES }, (_, index) => {
    const number = index + 1;
    const text =
      number === 1
        ? `<h2>${title}</h2><p>${creator}</p><p>${book.year ?? ''}</p>`
        : `<p>Page ${number} of <cite>${title}</cite>. archive.org's BookReader shows the scanned page here; this stand-in shows its place.</p>`;
    return `<section class="page" aria-label="Page ${number}">${text}<footer>${number}</footer></section>`;
  }).join('\n');
  htmlPage(
    ctx,
    200,
    `${book.title} (BookReader)`,
    `<header><img src="/services/img/${encodeURIComponent(book.identifier)}" width="60" height="90" alt="Cover of ${title}">
<div><h1>${title}</h1><p>${creator} · on loan to ${escapeMarkup(screenname)} until ${loan.until.toISOString().slice(0, 16).replace('T', ' ')} UTC</p></div></header>
<main>
${pages}
</main>`,
  );
}

/**
 * GET /bookreader/BookReaderAuth.php: checks both tokens (HMAC, time, lifetime), that bookPath is the book's
 * stream, and that the patron holds a loan of it now; then shows the reader (the book's cover, title and a few
 * placeholder pages). Refusals are HTML pages saying why: 400 incomplete link, 404 unknown book, 403 expired or
 * forged token or no current loan.
 */
export function bookReaderAuth(ctx: Context, state: ArchiveState): void {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
    return refuse(ctx, 405, 'Method not allowed', 'Open reading links with GET.');
  }
  const input = querySchema.safeParse(ctx.query);
  if (!input.success) {
    return refuse(ctx, 400, 'This reading link is incomplete', 'Open the book again from your loans.');
  }
  const { uuid, token, id, bookPath, iaUserId, iaAuthToken } = input.data;
  const book = state.book(id);
  if (!book) return refuse(ctx, 404, 'No such book', 'archive.org has no book with this identifier.');
  if (bookPath.split(/[?#]/)[0] !== `/stream/${id}`) {
    return refuse(ctx, 400, 'This reading link is incomplete', 'Its bookPath is not this book’s.');
  }

  const nowSeconds = state.now().getTime() / 1000;
  for (const [subject, value, lifetime] of [
    [id, token, BOOKREADER_TOKEN_SECONDS],
    [iaUserId, iaAuthToken, READER_TOKEN_SECONDS],
  ] as const) {
    const check = checkIaToken(state.accessSecret, subject, value, lifetime, nowSeconds);
    if (check !== 'valid') return refuse(ctx, 403, ...TOKEN_REFUSALS[check]);
  }

  const patron = state.patronByItemname(iaUserId);
  const loan = patron ? state.findLoans({ email: patron.email, identifier: id })[0] : undefined;
  if (!patron || !loan || !namesLoan(uuid, loan)) {
    return refuse(
      ctx,
      403,
      'You no longer have this book on loan',
      'It was returned or its loan ended. Borrow it again to read it.',
    );
  }
  readerPage(ctx, book, loan, patron.screenname);
}
