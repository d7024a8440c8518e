import { createHmac, timingSafeEqual } from 'node:crypto';

// BookReader auth tokens exactly as Open Library makes them (make_ia_token and ia_hash in
// openlibrary/plugins/upstream/borrow.py): "<ts>-" + hex HMAC-MD5(key=ia_access_secret, msg="<id>-<ts>"),
// ts = int(now + seconds). make_bookreader_auth_link signs the book's identifier for 600 s (`token`) and the
// patron's itemname for 120 s (`iaAuthToken`).

/** `token`'s lifetime (OL's BOOKREADER_AUTH_SECONDS). */
export const BOOKREADER_TOKEN_SECONDS = 600;
/** `iaAuthToken`'s lifetime (OL's READER_AUTH_SECONDS). */
export const READER_TOKEN_SECONDS = 120;
/** Clock difference tolerated between the link's maker and the stand-in. */
const SKEW_SECONDS = 60;

function iaHash(secret: string, data: string): string {
  return createHmac('md5', secret).update(data, 'utf8').digest('hex');
}

/** A token for `id` valid until now + `seconds` (`nowSeconds` as OL's time.time()). */
export function makeIaToken(
  secret: string,
  id: string,
  seconds: number,
  nowSeconds = Date.now() / 1000,
): string {
  const timestamp = Math.floor(nowSeconds + seconds);
  return `${timestamp}-${iaHash(secret, `${id}-${timestamp}`)}`;
}

export type TokenCheck = 'valid' | 'expired' | 'forged';

/**
 * Checks a token for `id`: its MAC (in constant time), that its time has not passed, and that it does not
 * claim more than `lifetimeSeconds` (a link made to last longer than OL's is not one OL made).
 */
export function checkIaToken(
  secret: string,
  id: string,
  token: string,
  lifetimeSeconds: number,
  nowSeconds: number,
): TokenCheck {
  const match = /^(\d{1,12})-([0-9a-f]{32})$/.exec(token);
  if (!match?.[1] || !match[2]) return 'forged';
  const timestamp = Number(match[1]);
  const expected = Buffer.from(iaHash(secret, `${id}-${timestamp}`), 'hex');
  if (!timingSafeEqual(Buffer.from(match[2], 'hex'), expected)) return 'forged';
  if (timestamp > nowSeconds + lifetimeSeconds + SKEW_SECONDS) return 'forged';
  return timestamp < nowSeconds ? 'expired' : 'valid';
}
