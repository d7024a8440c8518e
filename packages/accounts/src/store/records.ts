// What both adapters share: validation of what callers hand in, and the mapping between a stored row
// (columns + a JSON document) and an Account. Both adapters must accept and refuse exactly the same input.
import type {
  Account,
  AccountChanges,
  AccountRecord,
  AccountStatus,
  NewAccount,
  PurgeBatchResult,
  S3Keys,
  StoredSession,
} from '../types';

/** Longest values the indexed columns accept (PostgreSQL b-tree entries are capped at ~2.7 kB). */
export const LIMITS = { username: 256, email: 320, itemname: 256 } as const;

const STATUSES: readonly AccountStatus[] = ['pending', 'active', 'blocked'];
/** Fields a record cannot lose: an update setting one of them to undefined is refused. */
const REQUIRED = ['email', 'displayName', 'status', 'createdOn'] as const;
/** Columns, not document fields: never stored inside the JSON document. */
const NOT_IN_DOCUMENT = new Set(['revision', 'sessions']);

/** Raised for input no adapter can store (wrong type, too long, NUL, lone surrogate). Holds no value. */
export class InvalidAccountInputError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAccountInputError';
  }
}

const LONE_SURROGATE = /\p{Cs}/u;

/** A string PostgreSQL text/jsonb can hold and SQLite returns unchanged: no NUL, no lone surrogate. */
export function isStorableString(value: string): boolean {
  return !value.includes('\0') && !LONE_SURROGATE.test(value);
}

function checkString(field: string, value: unknown, max?: number): string {
  if (typeof value !== 'string') throw new InvalidAccountInputError(`${field} must be a string`);
  if (value.length === 0) throw new InvalidAccountInputError(`${field} must not be empty`);
  if (max !== undefined && value.length > max)
    throw new InvalidAccountInputError(`${field} must be at most ${max} characters`);
  if (!isStorableString(value))
    throw new InvalidAccountInputError(`${field} must not contain NUL characters or lone surrogates`);
  return value;
}

/** Validates a lookup key; null means "cannot match any record", so the caller answers null without a query. */
export function lookupKey(value: unknown, max: number): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > max || !isStorableString(value)) {
    return null;
  }
  return value;
}

export function emailKey(email: string): string {
  return email.toLowerCase();
}

/** Every string (keys included) anywhere in the document must be storable; values must be JSON. */
function checkJsonValue(path: string, value: unknown, depth: number): void {
  if (depth > 64) throw new InvalidAccountInputError(`${path} is nested too deeply`);
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidAccountInputError(`${path} must be a finite number`);
    return;
  }
  if (typeof value === 'string') {
    if (!isStorableString(value))
      throw new InvalidAccountInputError(`${path} must not contain NUL characters or lone surrogates`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkJsonValue(`${path}[${i}]`, item, depth + 1));
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) {
      if (!isStorableString(key))
        throw new InvalidAccountInputError(`a field name in ${path} contains NUL or a lone surrogate`);
      if (item !== undefined) checkJsonValue(`${path}.${key}`, item, depth + 1);
    }
    return;
  }
  throw new InvalidAccountInputError(`${path} is not a JSON value`);
}

function checkS3Keys(value: unknown): S3Keys {
  if (typeof value !== 'object' || value === null)
    throw new InvalidAccountInputError('s3Keys must be an object');
  const keys = value as Record<string, unknown>;
  checkString('s3Keys.access', keys.access, 1024);
  checkString('s3Keys.secret', keys.secret, 1024);
  return keys as unknown as S3Keys;
}

function checkKnownField(field: string, value: unknown): void {
  switch (field) {
    case 'email':
      checkString('email', value, LIMITS.email);
      break;
    case 'displayName':
    case 'createdOn':
      if (typeof value !== 'string') throw new InvalidAccountInputError(`${field} must be a string`);
      break;
    case 'status':
      if (!STATUSES.includes(value as AccountStatus))
        throw new InvalidAccountInputError(`status must be one of ${STATUSES.join(', ')}`);
      break;
    case 'itemname':
      if (value !== null) checkString('itemname', value, LIMITS.itemname);
      break;
    case 'lastLogin':
      if (value !== null && typeof value !== 'string')
        throw new InvalidAccountInputError('lastLogin must be a string or null');
      break;
    case 's3Keys':
      checkS3Keys(value);
      break;
  }
}

function requireObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidAccountInputError(`${what} must be an object`);
  return value as Record<string, unknown>;
}

/** The document stored for a new account: the whole record, revision excluded, defaults filled in. */
export function newAccountDocument(input: NewAccount): AccountRecord {
  const account = requireObject(input, 'account');
  checkString('username', account.username, LIMITS.username);
  const doc: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(account)) {
    if (value === undefined || NOT_IN_DOCUMENT.has(key)) continue;
    doc[key] = value;
  }
  doc.itemname ??= null;
  doc.lastLogin ??= null;
  for (const field of REQUIRED) {
    if (doc[field] === undefined) throw new InvalidAccountInputError(`${field} is required`);
  }
  for (const [key, value] of Object.entries(doc)) checkKnownField(key, value);
  checkJsonValue('account', doc, 0);
  return doc as AccountRecord;
}

export interface CheckedChanges {
  /** Fields to set (values defined). */
  set: Record<string, unknown>;
  /** Fields to remove (set to undefined by the caller). */
  remove: string[];
  /** New email key when the email changes. */
  emailLower: string | undefined;
  /** New itemname column when the itemname changes (removal stores null). */
  itemname: { value: string | null } | undefined;
}

export function checkChanges(username: string, input: AccountChanges): CheckedChanges {
  const changes = requireObject(input, 'changes');
  const set: Record<string, unknown> = {};
  const remove: string[] = [];
  for (const [key, value] of Object.entries(changes)) {
    if (NOT_IN_DOCUMENT.has(key)) continue;
    if (key === 'username') {
      if (value !== username) throw new InvalidAccountInputError('username cannot change');
      continue;
    }
    if (!isStorableString(key))
      throw new InvalidAccountInputError('a field name contains NUL or a lone surrogate');
    if (value === undefined) {
      if ((REQUIRED as readonly string[]).includes(key))
        throw new InvalidAccountInputError(`${key} cannot be removed`);
      remove.push(key);
    } else {
      checkKnownField(key, value);
      set[key] = value;
    }
  }
  checkJsonValue('changes', set, 0);
  const email = set.email as string | undefined;
  let itemname: CheckedChanges['itemname'];
  if ('itemname' in set) itemname = { value: set.itemname as string | null };
  else if (remove.includes('itemname')) itemname = { value: null };
  return { set, remove, emailLower: email === undefined ? undefined : emailKey(email), itemname };
}

/** Applies checked changes to a stored document (top-level replace; unknown fields untouched). */
export function applyChanges(doc: Record<string, unknown>, changes: CheckedChanges): Record<string, unknown> {
  const next: Record<string, unknown> = { ...doc, ...changes.set };
  for (const key of changes.remove) delete next[key];
  return next;
}

/** Longest session id accepted (ids are 22 base64url characters). */
const MAX_SESSION_ID = 64;

export function checkSession(session: unknown): StoredSession {
  const record = requireObject(session, 'session');
  const id = checkString('session id', record.id, MAX_SESSION_ID);
  const { expiresAt } = record;
  if (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt) || expiresAt < 0)
    throw new InvalidAccountInputError('session expiresAt must be a non-negative integer');
  return { id, expiresAt };
}

export function checkSessionOptions(options: unknown): { now: number; max: number } {
  const { now, max } = requireObject(options, 'options');
  if (typeof now !== 'number' || !Number.isSafeInteger(now) || now < 0)
    throw new InvalidAccountInputError('now must be a non-negative integer');
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1)
    throw new InvalidAccountInputError('max must be a positive integer');
  return { now, max };
}

/** A session id to look for; null matches none. */
export function sessionIdKey(id: unknown): string | null {
  return lookupKey(id, MAX_SESSION_ID);
}

/** The list `sessions` after adding `session`: expired entries out, then the newest `max` kept. */
export function withSession(
  sessions: readonly StoredSession[],
  session: StoredSession,
  options: { now: number; max: number },
): StoredSession[] {
  const live = sessions.filter((each) => each.expiresAt > options.now && each.id !== session.id);
  return [...live, session].slice(-options.max);
}

/** The stored sessions column as a list; anything unexpected reads as no session (fails closed). */
export function toSessions(value: unknown): StoredSession[] {
  let list = value;
  if (typeof list === 'string') {
    try {
      list = JSON.parse(list);
    } catch {
      return [];
    }
  }
  if (!Array.isArray(list)) return [];
  return list.filter(
    (each): each is StoredSession =>
      typeof each === 'object' &&
      each !== null &&
      typeof (each as StoredSession).id === 'string' &&
      typeof (each as StoredSession).expiresAt === 'number',
  );
}

/** Turns a stored row into an Account: the columns are authoritative for username, revision and sessions. */
export function toAccount(
  username: string,
  revision: number,
  doc: unknown,
  sessions: readonly StoredSession[] = [],
): Account {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new Error(`The stored record of account ${username} is not a JSON object`);
  }
  // A `sessions` field in the document is not the column: never read it as the account's sessions.
  const { sessions: _ignored, ...record } = doc as Record<string, unknown>;
  return {
    ...record,
    username,
    itemname: (record.itemname as string | null | undefined) ?? null,
    lastLogin: (record.lastLogin as string | null | undefined) ?? null,
    revision: Number(revision),
    // Absent when there is none, so a record without sessions reads exactly as before the column.
    ...(sessions.length > 0 ? { sessions } : {}),
  } as Account;
}

export function checkLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0) {
    throw new InvalidAccountInputError('limit must be a non-negative integer');
  }
  return limit;
}

export function checkCursor(after: unknown): string | null {
  if (after === null || after === undefined) return null;
  if (typeof after !== 'string' || !isStorableString(after))
    throw new InvalidAccountInputError('after must be a username or null');
  return after;
}

/** The answer of a purge batch that found no account after the cursor: the walk is over. */
export function emptyBatch(): PurgeBatchResult {
  return { scanned: 0, last: null, withKeys: [], purged: [], failed: [] };
}

export function checkRevision(revision: unknown): number {
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0) {
    throw new InvalidAccountInputError('expected revision must be a non-negative integer');
  }
  return revision;
}

export function checkUsername(username: unknown): string {
  return checkString('username', username, LIMITS.username);
}

export { checkS3Keys };
