import type { Context } from 'koa';
import { z } from 'zod';
import { identifierSchema } from '../fixture';
import { reply } from '../http';
import { isLendable, isPrintDisabled, type ArchiveState } from '../state';

/**
 * At most this many identifiers per call: about 11 KB of URL, within the 16 KB of request head Node (and the
 * 8–16 KB most proxies) accept; a longer list is refused rather than cut short.
 */
export const MAX_AVAILABILITY_IDS = 500;

const ID_TYPES = ['identifier', 'openlibrary_work', 'openlibrary_edition'] as const;
const querySchema = z.object({
  identifier: z.string().max(64_000).optional(),
  openlibrary_work: z.string().max(64_000).optional(),
  openlibrary_edition: z.string().max(64_000).optional(),
  scope: z.literal('printdisabled').optional(),
});

const isoSeconds = (date: Date | null) => (date ? `${date.toISOString().slice(0, 19)}Z` : null);

/**
 * One book's answer in availability v2's shape: the fields OL's AvailabilityStatus reads
 * (openlibrary/core/lending.py; `num_waitlist` a string, dates as "2018-09-24T11:38:12Z"), plus `collection`
 * as archive.org also sends it. Print-disabled-only books answer status "private" (a status archive.org uses):
 * nobody may borrow them without print-disabled access, which this patron-less answer cannot know.
 */
function availabilityOf(state: ArchiveState, identifier: string) {
  const book = state.book(identifier);
  // What archive.org answers for an identifier it does not have.
  if (!book) return { status: 'error', error_message: 'not found' };
  const lending = state.status(identifier, null);
  const lendable = isLendable(book);
  const last = state.lastActivity(identifier);
  return {
    status: !lendable ? 'private' : lending.available_to_borrow ? 'borrow_available' : 'borrow_unavailable',
    error_message: null,
    available_to_browse: lending.available_to_browse,
    available_to_borrow: lending.available_to_borrow,
    available_to_waitlist: lending.available_to_waitlist,
    is_printdisabled: isPrintDisabled(book),
    is_readable: false,
    is_lendable: lendable,
    is_previewable: true,
    identifier,
    collection: book.collections.join(','),
    isbn: null,
    oclc: null,
    openlibrary_work: null,
    openlibrary_edition: null,
    last_loan_date: isoSeconds(last.loan),
    num_waitlist: String(lending.users_on_waitlist),
    last_waitlist_date: isoSeconds(last.waitlist),
  };
}

const refuse = (ctx: Context, status: number, error: string) => reply(ctx, status, { success: false, error });

/**
 * GET /services/availability/?identifier=a,b,c&scope=printdisabled with `Authorization: LOW access:secret`
 * (Lending's service keys), as OL's get_availability asks it: `{success:true, responses:{<id>: {...}}}`, one
 * answer per distinct identifier. `openlibrary_work=` / `openlibrary_edition=` lists are read too; the
 * stand-in's books have no Open Library ids, so each answers "not found".
 */
export function availability(ctx: Context, state: ArchiveState): void {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return refuse(ctx, 405, 'method not allowed');
  const auth = /^LOW ([^:]{1,1024}):(.{1,1024})$/.exec(ctx.get('authorization'));
  if (!auth?.[1] || !auth[2] || !state.isServiceKeys(auth[1], auth[2])) {
    return refuse(ctx, 401, 'unauthorized');
  }
  const query = querySchema.safeParse(ctx.query);
  if (!query.success)
    return refuse(
      ctx,
      400,
      'give one list: identifier, openlibrary_work or openlibrary_edition; scope=printdisabled',
    );
  const given = ID_TYPES.filter((type) => query.data[type] !== undefined);
  const idType = given[0];
  if (given.length !== 1 || idType === undefined) {
    return refuse(ctx, 400, 'give exactly one of identifier, openlibrary_work, openlibrary_edition');
  }
  const ids = [...new Set((query.data[idType] ?? '').split(',').map((id) => id.trim()))];
  if (ids.length > MAX_AVAILABILITY_IDS) {
    return refuse(ctx, 400, `too many identifiers: at most ${MAX_AVAILABILITY_IDS} per call`);
  }
  if (!ids.every((id) => identifierSchema.safeParse(id).success)) {
    return refuse(ctx, 400, 'identifiers are letters, digits, _ - . (at most 100), comma-separated');
  }
  const responses = Object.fromEntries(
    ids.map((id) => [
      id,
      idType === 'identifier' ? availabilityOf(state, id) : { status: 'error', error_message: 'not found' },
    ]),
  );
  reply(ctx, 200, { success: true, responses });
}
