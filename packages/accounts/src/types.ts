// The account store's contract: the account record, the AccountStore interface both adapters implement, and
// the purge batch types. Every adapter and every caller codes against these types.

/** A patron's archive.org S3 keys (the credentials that authorise a loan): secrets, never logged. */
export interface S3Keys {
  access: string;
  secret: string;
}

export type AccountStatus = 'pending' | 'active' | 'blocked';

/**
 * An account record as stored. Fields the code does not know are kept as they are (index signature),
 * so a read-modify-write never drops them.
 */
export interface AccountRecord {
  username: string;
  email: string;
  displayName: string;
  status: AccountStatus;
  /** archive.org itemname, with its leading "@"; null when not linked. */
  itemname: string | null;
  /** ISO 8601, UTC. */
  createdOn: string;
  /** ISO 8601, UTC; null before the first login. */
  lastLogin: string | null;
  /** Legacy plaintext keys, from before the change. Purged by `pnpm purge`. */
  s3Keys?: S3Keys;
  [unknownField: string]: unknown;
}

/**
 * One live session of an account (docs/ARCHITECTURE.md, "Sessions"): its id, as sealed in the `session` cookie,
 * and when it ends at the latest (seconds since the epoch). A session whose id is not in its account's list is
 * revoked. Kept in a column of its own, outside the record's document: writing it bumps no revision.
 */
export interface StoredSession {
  id: string;
  expiresAt: number;
}

/** A record as read from the store, with its revision (bumped by every write) and its live sessions (absent: none). */
export type Account = AccountRecord & { revision: number; sessions?: readonly StoredSession[] };

export type NewAccount = Omit<AccountRecord, 'lastLogin'> & { lastLogin?: string | null };

/** Fields an update may set; `username` never changes. Setting a field to undefined removes it. */
export type AccountChanges = Partial<Omit<AccountRecord, 'username'>>;

export interface ScanOptions {
  /** Exclusive lower bound in key (username) order; null or absent starts at the beginning. */
  after?: string | null;
  limit: number;
}

export interface PurgeBatchOptions {
  after: string | null;
  limit: number;
  /** When true, nothing is written: the batch only reports who still holds keys. */
  dryRun: boolean;
}

export interface PurgeBatchResult {
  /** Accounts visited in this batch (0 means the walk is over). */
  scanned: number;
  /** The last username visited: the cursor for the next batch; null when scanned is 0. */
  last: string | null;
  /** Usernames in this batch that held keys (in a dry run: that hold them). */
  withKeys: string[];
  /** Usernames whose keys this batch removed (empty in a dry run). */
  purged: string[];
  /** Records that could not be purged, by username, with a message that holds no secret. */
  failed: { username: string; error: string }[];
}

export interface AccountStore {
  readonly kind: 'sqlite' | 'postgres';
  getByUsername(username: string): Promise<Account | null>;
  /** Case-insensitive. */
  getByEmail(email: string): Promise<Account | null>;
  getByItemname(itemname: string): Promise<Account | null>;
  /** Throws AccountExistsError naming the field when username, email or itemname is taken. */
  create(account: NewAccount): Promise<Account>;
  /**
   * Applies `changes` only if the stored revision still equals `expectedRevision`;
   * otherwise throws RevisionConflictError and writes nothing. Returns the new record.
   */
  update(username: string, expectedRevision: number, changes: AccountChanges): Promise<Account>;
  /** Accounts in username order after the cursor (keyset, never offset). */
  scan(options: ScanOptions): Promise<Account[]>;
  /** Removes `s3Keys` from one record atomically; true when it held keys. */
  removeS3Keys(username: string): Promise<boolean>;
  /** One batch of the purge walk: keyset from `after`, atomic per record, no lost concurrent write. */
  purgeS3KeysBatch(options: PurgeBatchOptions): Promise<PurgeBatchResult>;
  /**
   * Adds a live session to the account's list, in one atomic step: entries whose `expiresAt` is not after `now`
   * are dropped, and past `max` entries the oldest go. Throws AccountNotFoundError when there is no such account.
   */
  addSession(username: string, session: StoredSession, options: { now: number; max: number }): Promise<void>;
  /** Revokes one session; true when it was live. */
  removeSession(username: string, id: string): Promise<boolean>;
  /** Revokes every session of the account; resolves to how many were live (0 also when there is no account). */
  removeAllSessions(username: string): Promise<number>;
  /** Legacy write of plaintext keys: for seeding pre-change data and for tests only. */
  saveS3Keys(username: string, keys: S3Keys): Promise<void>;
  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
