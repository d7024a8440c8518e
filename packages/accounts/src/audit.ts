// Login, as Open Library's `audit_accounts` does it step by step, with its flaws fixed: validate the input, ask
// archive.org (authenticate or s3auth, then info), refuse locked, unverified and blocked accounts, find the account
// by its archive.org link or email, create or relink it, then get the patron's S3 keys. The keys are returned to the
// caller (who seals them into the `s3` cookie) and never written to the store. Every refusal is an AppError.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { s3KeysSchema } from './archive-client';
import type { ArchiveClient, IaAccountInfo, XauthnValues } from './archive-client';
import { AccountExistsError, AppError, RevisionConflictError } from './errors';
import { isStorableString } from './store/records';
import type { Account, AccountChanges, AccountStore, S3Keys } from './types';

export type Credentials = { email: string; password: string } | { access: string; secret: string };

export interface AuditDeps {
  store: AccountStore;
  archive: ArchiveClient;
  now?: () => Date;
}

/** A patron logged in: their account (created when `created`) and the S3 keys to seal, if archive.org gave any. */
export interface AuditResult {
  account: Account;
  s3Keys: S3Keys | null;
  created: boolean;
  iaScreenname: string | null;
  /** xauthn's has_disability_access (Open Library's `special_access`): may borrow print-disabled-only books. */
  printDisabled: boolean;
}

/** Tries at creating an account under a fresh username (Open Library's `retries=5`). */
const CREATE_ATTEMPTS = 5;
/** Re-reads after a concurrent write before giving up on updating the record. */
const UPDATE_ATTEMPTS = 5;

export const emailSchema = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email())
  .transform((email) => email.toLowerCase());
const passwordSchema = z.string().min(1).max(1024).refine(isStorableString);

type ValidCredentials =
  { kind: 'password'; email: string; password: string } | { kind: 's3'; s3Keys: S3Keys };

/** Input validation (Open Library's `validate_email` step), one clean code per kind of bad input. */
function validate(input: unknown): ValidCredentials {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new AppError('invalid_credentials', 'malformed_input');
  }
  const fields = input as Record<string, unknown>;
  // The S3 path runs when both keys are given (as in the original).
  if (fields.access !== undefined && fields.secret !== undefined) {
    const s3Keys = s3KeysSchema.safeParse({ access: fields.access, secret: fields.secret });
    if (!s3Keys.success) throw new AppError('invalid_s3keys', 'malformed_s3keys');
    return { kind: 's3', s3Keys: s3Keys.data };
  }
  const email = emailSchema.safeParse(fields.email);
  if (!email.success) throw new AppError('invalid_email', 'malformed_email');
  const password = passwordSchema.safeParse(fields.password);
  if (!password.success) throw new AppError('invalid_credentials', 'malformed_password');
  return { kind: 'password', email: email.data, password: password.data };
}

/** authenticate's failure reasons, as our codes; the precise reason is the detail, for the log. */
function refusalFor(reason: string): AppError {
  const clean = /^[a-z_]{1,64}$/.test(reason) ? reason : 'unrecognised_reason';
  switch (clean) {
    case 'account_locked':
    case 'account_blocked':
      return new AppError('account_locked', clean);
    case 'account_not_verified':
    case 'ia_account_not_verified':
      return new AppError('ia_account_not_verified', clean);
    case 'account_not_found':
    case 'account_bad_password':
    case 'account_incorrect_password':
      // One code for both: the caller must not learn which emails have accounts.
      return new AppError('invalid_credentials', clean);
    default:
      return new AppError('invalid_credentials', `authenticate_failed:${clean}`);
  }
}

/** "@name" for archive.org's itemname, whichever way it came. */
function linkOf(itemname: string): string {
  return itemname.startsWith('@') ? itemname : `@${itemname}`;
}

/** A username from the screenname, else the itemname: lower-case letters, digits, '_' and '-'. */
export function usernameBase(screenname: string | null, itemname: string): string {
  const slug = (value: string) =>
    value
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '_')
      .replace(/^[_-]+|[_-]+$/g, '')
      .replace(/_+/g, '_')
      .slice(0, 40);
  const fromScreenname = screenname ? slug(screenname) : '';
  if (fromScreenname.length >= 3) return fromScreenname;
  const fromItemname = slug(itemname.replace(/^@/, ''));
  return fromItemname.length >= 3 ? fromItemname : `reader_${fromItemname || 'x'}`.slice(0, 40);
}

async function createAccount(
  store: AccountStore,
  ia: IaAccountInfo,
  email: string,
  now: Date,
): Promise<{ account: Account } | { lost: 'email' | 'itemname' }> {
  const base = usernameBase(ia.screenname, ia.itemname);
  for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
    const username = attempt === 0 ? base : `${base}_${randomBytes(3).toString('hex')}`;
    try {
      const account = await store.create({
        username,
        email,
        displayName: ia.screenname || username,
        status: 'active',
        itemname: linkOf(ia.itemname),
        createdOn: now.toISOString(),
        lastLogin: now.toISOString(),
      });
      return { account };
    } catch (error) {
      if (!(error instanceof AccountExistsError)) throw error;
      // Email or itemname taken: another login of the same patron created the account meanwhile.
      if (error.field !== 'username') return { lost: error.field };
    }
  }
  throw new AppError('max_retries_exceeded', 'username_retries_exhausted');
}

/** By link (itemname) first, then by email. */
async function findAccount(store: AccountStore, itemname: string, email: string): Promise<Account | null> {
  return (await store.getByItemname(itemname)) ?? (await store.getByEmail(email));
}

/**
 * Logs a patron in against archive.org and finds, links or creates their account. Bad input, a refusal and an
 * archive.org outage or misconfiguration are AppErrors (their detail names the precise reason); database errors
 * propagate as they come.
 */
export async function auditAccounts(deps: AuditDeps, credentials: unknown): Promise<AuditResult> {
  const { store, archive } = deps;
  const now = deps.now ?? (() => new Date());

  // 1. Credentials: the S3 path (s3auth) or the password path (authenticate).
  const input = validate(credentials);

  let email: string;
  let login: XauthnValues;
  if (input.kind === 's3') {
    const checked = await archive.s3auth(input.s3Keys);
    if (!checked.authorized) throw new AppError('invalid_s3keys', 's3auth_refused');
    const checkedEmail = emailSchema.safeParse(checked.email);
    if (!checkedEmail.success) throw new AppError('archive_unavailable', 's3auth_answer_without_email');
    email = checkedEmail.data;
    login = { access: input.s3Keys.access, secret: input.s3Keys.secret };
  } else {
    email = input.email;
    const answer = await archive.authenticate(input.email, input.password);
    // 2. Refusals: locked or blocked first, then the other reasons.
    if (!answer.success) throw refusalFor(answer.values.reason);
    login = answer.values;
    if (login.locked === true) throw new AppError('account_locked', 'authenticate_says_locked');
    if (login.verified === false)
      throw new AppError('ia_account_not_verified', 'authenticate_says_not_verified');
  }

  // 3. The archive.org account. (The original crashed when info found nothing, and ignored `locked` on the S3 path.)
  const ia = await archive.info({ email });
  if (!ia) throw new AppError('archive_unavailable', 'info_found_no_account');
  if (ia.locked) throw new AppError('account_locked', 'info_says_locked');
  if (!ia.verified) throw new AppError('ia_account_not_verified', 'info_says_not_verified');
  const link = linkOf(ia.itemname);

  // 4. Find by link, then by email; create and link when missing.
  let account = await findAccount(store, link, email);
  let created = false;
  if (!account) {
    const outcome = await createAccount(store, ia, email, now());
    if ('account' in outcome) {
      account = outcome.account;
      created = true;
    } else {
      account = await findAccount(store, link, email);
      if (!account) throw new AppError('max_retries_exceeded', `create_lost_race_on_${outcome.lost}`);
    }
  }

  // 5. Refuse a blocked account before anything is issued or written.
  if (account.status === 'blocked') throw new AppError('account_blocked', 'account_blocked');

  // 6. Keys: the ones given (S3 path), legacy authenticate values, else issue_key with the token.
  let s3Keys: S3Keys | null = null;
  if (login.access && login.secret) s3Keys = { access: login.access, secret: login.secret };
  else if (login.token) s3Keys = await archive.issueKey({ email, token: login.token });

  // 7. Link or relink, activate pending, note the login; a concurrent write makes us re-read and retry.
  for (let attempt = 1; !created; attempt++) {
    if (account.status === 'blocked') throw new AppError('account_blocked', 'account_blocked');
    const changes: AccountChanges = { lastLogin: now().toISOString() };
    // An account found by email but linked to another itemname is relinked ("IA <-> OL itemname mismatch").
    if (account.itemname !== link) changes.itemname = link;
    if (account.status === 'pending') changes.status = 'active';
    try {
      account = await store.update(account.username, account.revision, changes);
      break;
    } catch (error) {
      if (!(error instanceof RevisionConflictError) || attempt >= UPDATE_ATTEMPTS) throw error;
      const fresh = await store.getByUsername(account.username);
      if (!fresh) throw error;
      account = fresh;
    }
  }

  return {
    account,
    s3Keys,
    created,
    iaScreenname: ia.screenname || null,
    printDisabled: ia.hasDisabilityAccess,
  };
}
