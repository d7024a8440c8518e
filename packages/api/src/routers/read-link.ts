// loans.readLink: the BookReader auth link for a book the patron holds now, built as Open Library's
// make_bookreader_auth_link builds it (openlibrary/plugins/upstream/borrow.py):
//   https://<bookreader_host>/bookreader/BookReaderAuth.php?uuid=<loan _key>&token=<token for the identifier, 600 s>
//     &id=<identifier>&bookPath=/stream/<identifier>&iaUserId=<itemname>&iaAuthToken=<token for the itemname, 120 s>
// with make_ia_token(id, secs) = "<ts>-" + hex HMAC-MD5(key=ia_access_secret, msg="<id>-<ts>"), ts = int(now + secs),
// and the parameters form-encoded in that order (urllib.parse.urlencode). The link is made on request and
// returned, never stored and never logged: its tokens let anyone holding it open the book for two minutes.
import { createHmac } from 'node:crypto';
import { AppError } from '@lending/accounts';
import type { ActiveLoan } from '@lending/accounts';
import type { Context } from '../context';
import type { ArchiveLinks } from '../host';
import type { ReadLink } from '../outputs';
import { identifierInput } from '../schemas';
import { protectedProcedure } from '../trpc';

/** `token`'s lifetime (OL's BOOKREADER_AUTH_SECONDS). */
export const BOOKREADER_AUTH_SECONDS = 600;
/** `iaAuthToken`'s lifetime (OL's READER_AUTH_SECONDS). */
export const READER_AUTH_SECONDS = 120;

/** OL's make_ia_token: "<ts>-" + hex HMAC-MD5(secret, "<id>-<ts>"), ts = int(now + seconds). */
export function makeIaToken(secret: string, id: string, seconds: number, nowMs: number): string {
  const timestamp = Math.floor(nowMs / 1000 + seconds);
  const mac = createHmac('md5', secret).update(`${id}-${timestamp}`, 'utf8').digest('hex');
  return `${timestamp}-${mac}`;
}

/** OL's make_bookreader_auth_link for the loan `loan-<identifier>`, bookPath `/stream/<identifier>`. */
export function bookReaderAuthLink(
  links: ArchiveLinks,
  identifier: string,
  itemname: string,
  nowMs: number,
): string {
  const params = new URLSearchParams([
    ['uuid', `loan-${identifier}`],
    ['token', makeIaToken(links.accessSecret, identifier, BOOKREADER_AUTH_SECONDS, nowMs)],
    ['id', identifier],
    ['bookPath', `/stream/${identifier}`],
    ['iaUserId', itemname],
    ['iaAuthToken', makeIaToken(links.accessSecret, itemname, READER_AUTH_SECONDS, nowMs)],
  ]);
  return `${links.bookreaderUrl}/bookreader/BookReaderAuth.php?${params.toString()}`;
}

/**
 * The patron's current loan of `identifier`, asked of archive.org's lending API now (loan.query by itemname, as
 * Open Library asks it; a returned or ended loan is not one). The patron's keys are not needed for it.
 */
async function currentLoan(
  itemname: string,
  ctx: Context,
  identifier: string,
): Promise<ActiveLoan | undefined> {
  const loans = await ctx.archive().loansOf(itemname);
  return loans.find((loan) => loan.identifier === identifier);
}

export const readLinkProcedure = protectedProcedure
  .input(identifierInput)
  .mutation(async ({ ctx, input }): Promise<ReadLink> => {
    const { identifier } = input;
    const itemname = ctx.session.account.itemname;
    const loan = itemname === null ? undefined : await currentLoan(itemname, ctx, identifier);
    if (!itemname || !loan) {
      throw new AppError(
        'not_borrowed',
        itemname ? 'no current loan of this identifier' : 'the account has no archive.org itemname',
      );
    }
    const url = bookReaderAuthLink(ctx.deps.archiveLinks, identifier, itemname, ctx.nowMs);
    // The identifier only: the link itself is a credential.
    ctx.req.log.info({ username: ctx.session.username, identifier }, 'read link made');
    return {
      url,
      // The reader must be opened before the shorter of the two tokens (iaAuthToken) runs out.
      expiresAt: new Date(ctx.nowMs + READER_AUTH_SECONDS * 1000).toISOString(),
    };
  });
