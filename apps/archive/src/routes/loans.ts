import type { Context } from 'koa';
import { z } from 'zod';
import { bodyObject, intField, reply, shortString } from '../http';
import type { FixturePatron } from '../fixture';
import { LoanError, type ArchiveState, type Loan } from '../state';

// The patron loan API as OL calls it (s3_loan_api and get_groundtruth_availability in
// openlibrary/core/lending.py): POST /services/loans/loan/?identifier=<ocaid>&action=<action>, the patron's S3 keys
// as form fields `access` and `secret`. OL treats 400 and 409 as "the patron may not" and ignores 2xx bodies.
const REAL_ACTIONS = [
  'borrow_book',
  'browse_book',
  'return_loan',
  'join_waitlist',
  'leave_waitlist',
  'user_borrow_history',
  'availability',
] as const;
/**
 * INVENTED: archive.org has no `user_loans` action (a patron's loans come from the internal lending API's
 * loan.query, routes/lending-api.ts). Kept only while Lending's client still calls it; refused under
 * strictProtocol; to be removed once the client has switched.
 */
const INVENTED_USER_LOANS = 'user_loans';
type Action = (typeof REAL_ACTIONS)[number] | typeof INVENTED_USER_LOANS;
const NEEDS_IDENTIFIER: ReadonlySet<Action> = new Set([
  'borrow_book',
  'browse_book',
  'return_loan',
  'join_waitlist',
  'leave_waitlist',
  'availability',
]);

const querySchema = z.object({
  action: z.enum([...REAL_ACTIONS, INVENTED_USER_LOANS]),
  identifier: z.string().min(1).max(256).optional(),
});
const keysSchema = z.object({ access: shortString, secret: shortString });
/** Python's requests sends OL's `newest=True` as the string "True". */
const flag = z
  .enum(['True', 'true', '1', 'False', 'false', '0'])
  .transform((v) => ['True', 'true', '1'].includes(v));
const historySchema = z.object({
  limit: intField.pipe(z.number().min(1).max(1000)).default(50),
  offset: intField.default(0),
  newest: flag.default(false),
});

function loanJson(loan: Loan, title: string | null) {
  return {
    identifier: loan.identifier,
    title,
    type: loan.type,
    created: loan.created.toISOString(),
    until: loan.until.toISOString(),
  };
}

/**
 * POST /services/loans/loan/?identifier=&action=, the patron's keys as form fields `access`, `secret`.
 * Wrong keys: 403. The patron may not (5 loans, print-disabled-only book, already on the waitlist...): 400.
 * No copy left: 409. Unknown item or loan: 404. Each refusal's body is `{error: <which>}`.
 */
export function loans(ctx: Context, state: ArchiveState): void {
  if (ctx.method !== 'POST') return reply(ctx, 405, { error: 'method_not_allowed' });
  const query = querySchema.safeParse(ctx.query);
  if (!query.success || (state.strictProtocol && query.data.action === INVENTED_USER_LOANS)) {
    return reply(ctx, 400, { error: 'bad_request', detail: 'action or identifier invalid' });
  }
  const { action, identifier } = query.data;
  if (NEEDS_IDENTIFIER.has(action) && identifier === undefined) {
    return reply(ctx, 400, { error: 'bad_request', detail: 'identifier is required' });
  }
  const body = bodyObject(ctx);
  if (!body) return reply(ctx, 400, { error: 'bad_request', detail: 'body must be a form or JSON object' });

  // Keys are optional for availability only (OL asks it without any); given keys must be right everywhere.
  let patron: FixturePatron | null = null;
  const hasKeys = body.access !== undefined || body.secret !== undefined;
  if (hasKeys || action !== 'availability') {
    const keys = keysSchema.safeParse(body);
    patron = keys.success ? state.patronByKeys(keys.data.access, keys.data.secret) : null;
    if (!patron) return reply(ctx, 403, { error: 'invalid_keys' });
    if (patron.locked) return reply(ctx, 403, { error: 'account_locked' });
  }

  try {
    handle(ctx, state, action, identifier ?? '', patron, body);
  } catch (error) {
    if (error instanceof LoanError) return reply(ctx, error.status, { error: error.error });
    throw error;
  }
}

function handle(
  ctx: Context,
  state: ArchiveState,
  action: Action,
  identifier: string,
  patron: FixturePatron | null,
  body: Record<string, unknown>,
): void {
  if (action === 'availability') {
    return reply(ctx, 200, { lending_status: state.status(identifier, patron) });
  }
  if (!patron) throw new Error('unreachable: keys are checked for every other action');
  const email = patron.email;
  switch (action) {
    case 'borrow_book':
    case 'browse_book': {
      const loan = state.borrow(patron, identifier, action === 'borrow_book' ? 'borrow' : 'browse');
      return reply(ctx, 200, { success: true, loan: loanJson(loan, state.book(identifier)?.title ?? null) });
    }
    case 'return_loan':
      state.returnLoan(email, identifier);
      return reply(ctx, 200, { success: true });
    case 'join_waitlist':
      state.joinWaitlist(patron, identifier);
      return reply(ctx, 200, { success: true });
    case 'leave_waitlist':
      state.leaveWaitlist(email, identifier);
      return reply(ctx, 200, { success: true });
    case INVENTED_USER_LOANS:
      return reply(ctx, 200, {
        loans: state
          .activeLoans(email)
          .map((loan) => loanJson(loan, state.book(loan.identifier)?.title ?? null)),
      });
    case 'user_borrow_history': {
      const paging = historySchema.safeParse({ limit: body.limit, offset: body.offset, newest: body.newest });
      if (!paging.success) {
        return reply(ctx, 400, {
          error: 'bad_request',
          detail: 'limit 1..1000, offset >= 0, newest True|False',
        });
      }
      const { limit, offset, newest } = paging.data;
      const items = state.historyOf(email, limit, offset, !newest).map((event) => ({
        identifier: event.identifier,
        title: state.book(event.identifier)?.title ?? null,
        action: event.action,
        updatedate: event.at.toISOString(),
      }));
      return reply(ctx, 200, { history: { items } });
    }
  }
}
