import type { Context } from 'koa';
import { z } from 'zod';
import { bodyObject, reply, shortString } from '../http';
import { sameSecret, type ArchiveState, type Loan, type WaitlistEntry } from '../state';

// archive.org's internal lending API as OL's IA_Lending_API._post calls it (openlibrary/core/lending.py): a form
// POST with `method`, `token` (OL's shared key `ia_ol_shared_key`), optionally `developer`, and the method's
// arguments. Its URL is private configuration (`ia_loan_api_url`); OL hard-coded it as
// https://archive.org/services/openlibrary.php until 2016 (core/waitinglist.py IA_API_URL), so it lives there.
const requestSchema = z.object({
  method: z.string().max(64),
  token: shortString.optional(),
  developer: shortString.optional(),
  userid: shortString.optional(),
  identifier: shortString.optional(),
});

/** archive.org's datetime format, in UTC: "2026-06-25 16:57:45" (what OL's parse_datetime reads). */
export function iaDatetime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * A loan as loan.query answers it: the fields OL's Loan.from_ia_loan reads (`id` becomes the uuid `loan-<id>`,
 * `userid` the patron's itemname, `created` and `until` archive.org datetimes; `format` is "bookreader" for a
 * 14-day borrow and a 1-hour browse alike, which differ only in `until`).
 */
function loanRecord(loan: Loan, itemname: string, origin: string) {
  return {
    id: loan.id,
    identifier: loan.identifier,
    userid: itemname,
    ol_key: null,
    format: 'bookreader',
    resource_id: `bookreader:${loan.identifier}`,
    loan_link: `${origin}/stream/${loan.identifier}`,
    created: iaDatetime(loan.created),
    until: iaDatetime(loan.until),
    fulfilled: 1,
  };
}

/**
 * A waitlist entry as waitinglist.query answers it (the fields OL's WaitingLoan reads): `status` "available"
 * when a copy is free for this patron, else "waiting"; the stand-in holds a freed copy without a deadline, so
 * `expiry` is null.
 */
function waitingRecord(
  state: ArchiveState,
  identifier: string,
  entry: WaitlistEntry,
  position: number,
  itemname: string,
) {
  const book = state.book(identifier);
  const available = book !== null && state.freeFor(book, entry.email) > 0;
  return {
    identifier,
    userid: itemname,
    status: available ? 'available' : 'waiting',
    position,
    wl_size: state.waitlist(identifier).length,
    since: iaDatetime(entry.since),
    expiry: null,
  };
}

const error = (ctx: Context, status: number, message: string) =>
  reply(ctx, status, { status: 'error', error: message });

/**
 * POST /services/openlibrary.php. `loan.query` and `waitinglist.query` with `userid` (an itemname, "@...")
 * and/or `identifier` answer `{status:"ok", result:[...]}`. A wrong or missing token: 403; other methods
 * (loan.create, loan.delete, waitinglist.join...: Lending lends through the patron loan API): 400.
 */
export function lendingApi(ctx: Context, state: ArchiveState): void {
  if (ctx.method !== 'POST') return error(ctx, 405, 'method not allowed');
  const body = bodyObject(ctx);
  const input = requestSchema.safeParse(body ?? {});
  if (!body || !input.success) return error(ctx, 400, 'method, token, userid, identifier: strings');
  if (!sameSecret(input.data.token ?? '', state.loanApiToken)) return error(ctx, 403, 'unauthorized');

  const { method, userid, identifier } = input.data;
  if (method !== 'loan.query' && method !== 'waitinglist.query') {
    return error(ctx, 400, 'unsupported method: give loan.query or waitinglist.query');
  }
  if (userid === undefined && identifier === undefined) return error(ctx, 400, 'give userid or identifier');

  const patron = userid === undefined ? null : state.patronByItemname(userid);
  if (userid !== undefined && !patron) return reply(ctx, 200, { status: 'ok', result: [] });
  const filter = { email: patron?.email, identifier };
  const itemnameOf = (email: string) => state.patronByEmail(email)?.itemname ?? '';

  const result =
    method === 'loan.query'
      ? state
          .findLoans(filter)
          .map((loan) => loanRecord(loan, itemnameOf(loan.email), `${ctx.protocol}://${ctx.host}`))
      : state
          .findWaiting(filter)
          .map((w) => waitingRecord(state, w.identifier, w.entry, w.position, itemnameOf(w.entry.email)));
  reply(ctx, 200, { status: 'ok', result });
}
