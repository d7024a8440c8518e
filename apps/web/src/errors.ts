// The patron's words for API errors: turns whatever a tRPC call threw into something a patron can read and act on,
// chosen by the error's `data.appCode` (the server's own `message` is a neutral sentence for other clients).
// Read structurally (not via instanceof) so it works for any TRPCClientError and is easy to test.
import type { AppErrorCode } from '@lending/api';

export interface Problem {
  /** One or two sentences for the patron. */
  message: string;
  appCode: string | null;
  /** Zod validation messages by input field, shown next to the fields. */
  fieldErrors: Record<string, string[]>;
  /** The session is gone (or has no keys): show the login form again. */
  relogin: boolean;
  /** The request never reached the server, or the answer was not the API's. */
  network: boolean;
}

// Open Library's wording (get_login_error, the borrow flash) where it had one; plainer where it did not.
// Keyed by the API's own list of codes, so a new code without a sentence here fails the typecheck.
const MESSAGES: Record<AppErrorCode, string> = {
  invalid_email: 'The email address you entered is invalid.',
  invalid_credentials: 'The email address or password you entered is incorrect. Please try again.',
  account_locked: 'This account has been locked. Please contact info@archive.org for help.',
  account_blocked: 'This account has been blocked. Please contact info@archive.org for help.',
  ia_account_not_verified:
    'Please verify your Internet Archive account before logging in: follow the link in the email archive.org sent you.',
  invalid_s3keys: 'archive.org did not accept your account keys. Please log out, then log in again.',
  max_retries_exceeded: 'A problem occurred and we were unable to log you in. Please try again.',
  rate_limited: 'Too many attempts. Please wait a few minutes and try again.',
  s3_keys_missing: 'Please log in again to borrow.',
  lending_limit:
    'You have reached the lending limit. Return a book before borrowing another, or try again later.',
  item_locked:
    'This book cannot be borrowed right now: every copy is on loan or the item is locked. Join the waitlist or try again later.',
  print_disabled_only:
    'This book is lent only to readers with print-disabled access. If you qualify, ask archive.org to add it to your account.',
  not_found:
    'We could not find that book. It may have left the catalogue; reload the page to see the current list.',
  not_borrowed:
    'You do not have this book on loan any more, so it cannot be opened. Borrow it again to read it.',
  archive_unavailable:
    'archive.org is not responding right now, so we cannot lend books. Please try again in a few minutes.',
  archive_busy: 'The library is very busy right now. Please try again in a moment.',
  batch_too_large: 'The page asked for too much at once. Please reload the page.',
  archive_misconfigured:
    'The library cannot reach archive.org because of a problem on our side. Please try again later.',
  revision_conflict: 'Your account was being updated at the same moment. Please try again.',
  database_unavailable: 'The library is briefly unavailable. Please try again in a few minutes.',
  database_busy: 'The library is very busy right now. Please try again in a moment.',
  invalid_code:
    'That code is not valid: it may be mistyped, expired (codes last 10 minutes) or already used. Check the latest email, or ask for a new code.',
};

export const OFFLINE_MESSAGE = 'You are offline. Reconnect to the internet and try again.';
export const NETWORK_MESSAGE = "We couldn't reach the library. Check your connection and try again.";
export const SESSION_ENDED_MESSAGE = 'Your session has ended. Please log in again.';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function readFieldErrors(value: unknown): Record<string, string[]> {
  if (!isRecord(value)) return {};
  const out: Record<string, string[]> = {};
  for (const [field, messages] of Object.entries(value)) {
    if (Array.isArray(messages)) {
      const strings = messages.filter((m): m is string => typeof m === 'string' && m.length > 0);
      if (strings.length > 0) out[field] = strings;
    }
  }
  return out;
}

/** Seconds to wait, from `data.retryAfter` or the response's Retry-After header. */
function readRetryAfter(data: Record<string, unknown>, meta: unknown): number | null {
  const fromData = data.retryAfter;
  if (typeof fromData === 'number' && Number.isFinite(fromData) && fromData > 0) return Math.ceil(fromData);
  if (isRecord(meta) && isRecord(meta.response)) {
    const headers = meta.response.headers;
    if (isRecord(headers) && typeof headers.get === 'function') {
      const raw: unknown = (headers as { get(name: string): unknown }).get('retry-after');
      const seconds = typeof raw === 'string' ? Number(raw) : NaN;
      if (Number.isFinite(seconds) && seconds > 0) return Math.ceil(seconds);
    }
  }
  return null;
}

export function formatWait(seconds: number): string {
  if (seconds < 90) return seconds === 1 ? '1 second' : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minutes`;
}

function isOnline(): boolean {
  return typeof navigator === 'undefined' || navigator.onLine !== false;
}

export function describeError(error: unknown): Problem {
  const base: Problem = { message: '', appCode: null, fieldErrors: {}, relogin: false, network: false };
  const data = isRecord(error) && isRecord(error.data) ? error.data : null;
  if (!data) {
    // No tRPC error body: fetch failed (offline, server down) or something in between answered.
    return { ...base, network: true, message: isOnline() ? NETWORK_MESSAGE : OFFLINE_MESSAGE };
  }
  const appCode = typeof data.appCode === 'string' ? data.appCode : null;
  const code = typeof data.code === 'string' ? data.code : null;
  const fieldErrors = readFieldErrors(data.fieldErrors);
  const withCode = { ...base, appCode, fieldErrors };

  if (appCode === 'rate_limited' || (appCode === null && code === 'TOO_MANY_REQUESTS')) {
    const wait = isRecord(error) ? readRetryAfter(data, error.meta) : null;
    return {
      ...withCode,
      message:
        wait === null
          ? MESSAGES.rate_limited
          : `Too many attempts. Please wait ${formatWait(wait)} and try again.`,
    };
  }
  if (appCode === 's3_keys_missing') return { ...withCode, relogin: true, message: MESSAGES.s3_keys_missing };
  if (appCode !== null && appCode in MESSAGES)
    return { ...withCode, message: MESSAGES[appCode as AppErrorCode] };
  if (appCode !== null) return { ...withCode, message: `Request failed with error code: ${appCode}.` };

  switch (code) {
    case 'UNAUTHORIZED':
      return { ...withCode, relogin: true, message: SESSION_ENDED_MESSAGE };
    case 'BAD_REQUEST':
      return {
        ...withCode,
        message:
          Object.keys(fieldErrors).length > 0
            ? 'Please correct the highlighted fields.'
            : 'That request was not valid. Please check what you entered.',
      };
    case 'NOT_FOUND':
      return { ...withCode, message: MESSAGES.not_found };
    case 'FORBIDDEN':
      return { ...withCode, message: 'This request was refused. Reload the page and try again.' };
    case 'SERVICE_UNAVAILABLE':
      return {
        ...withCode,
        message: 'The library is briefly unavailable. Please try again in a few minutes.',
      };
    default:
      return { ...withCode, message: 'Something went wrong on our side. Please try again in a moment.' };
  }
}

/** Retry queries only when another attempt might help: network trouble or a server hiccup. */
export function shouldRetry(error: unknown): boolean {
  const problem = describeError(error);
  if (problem.network) return isOnline();
  return (
    problem.appCode === 'archive_unavailable' ||
    problem.appCode === 'database_unavailable' ||
    problem.appCode === 'database_busy'
  );
}
