// SQLite schema, as versioned migrations. Append new versions; never edit an applied one.
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'accounts',
    // The whole record (unknown fields and legacy s3Keys included) lives in `data`, JSON text. The other columns
    // are derived lookup keys; s3Keys is deliberately in no column and no index, so removing it from `data`
    // removes it from the database. A rowid table here; migration 3 rebuilds it WITHOUT ROWID (see there why).
    sql: `
      CREATE TABLE accounts (
        username    TEXT    NOT NULL PRIMARY KEY,
        email_lower TEXT    NOT NULL UNIQUE,
        itemname    TEXT    UNIQUE,
        revision    INTEGER NOT NULL,
        data        TEXT    NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'accounts_with_s3keys',
    // A partial index of the usernames whose record still holds legacy keys (usernames only, never the keys):
    // the purge and its dry run touch just those rows instead of every row of a batch. It empties as the
    // purge runs; a later migration can drop it once the store fallback is gone.
    sql: `CREATE INDEX accounts_with_s3keys ON accounts (username) WHERE json_type(data, '$.s3Keys') IS NOT NULL;`,
  },
  {
    version: 3,
    name: 'accounts_without_rowid',
    // Rebuilds accounts as a WITHOUT ROWID table, its B-tree keyed (clustered) by username. In the rowid table of
    // migration 1 rows sat in insertion order while every walk (scan, purge) goes in username order, so a batch
    // of consecutive usernames touched pages scattered over the whole file: at a million accounts the purge took
    // ~4x one UPDATE of every row. Clustered, a batch lives on a run of neighbouring leaves. It also drops the
    // separate username index of the rowid table (the table is that index now).
    // Same columns, constraints and partial index; every row copied in key order (densely packed leaves).
    // Runs inside the migration's BEGIN IMMEDIATE transaction, so other processes see the old table or the new
    // one, never neither. With secure_delete on, the old table's freed pages are zeroed.
    sql: `
      CREATE TABLE accounts_clustered (
        username    TEXT    NOT NULL PRIMARY KEY,
        email_lower TEXT    NOT NULL UNIQUE,
        itemname    TEXT    UNIQUE,
        revision    INTEGER NOT NULL,
        data        TEXT    NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO accounts_clustered (username, email_lower, itemname, revision, data)
        SELECT username, email_lower, itemname, revision, data FROM accounts ORDER BY username;
      DROP TABLE accounts;
      ALTER TABLE accounts_clustered RENAME TO accounts;
      CREATE INDEX accounts_with_s3keys ON accounts (username) WHERE json_type(data, '$.s3Keys') IS NOT NULL;
    `,
  },
  {
    version: 4,
    name: 'accounts_sessions',
    // The account's live sessions (docs/ARCHITECTURE.md, "Sessions"): a JSON array of {id, expiresAt}, read with
    // the record on every request. A column of its own, outside `data`: logging in or out bumps no revision, so it
    // never conflicts with a read-modify-write of the record. ADD COLUMN with a constant default rewrites nothing.
    sql: `ALTER TABLE accounts ADD COLUMN sessions TEXT NOT NULL DEFAULT '[]';`,
  },
];
