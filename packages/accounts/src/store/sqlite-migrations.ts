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
    // removes it from the database. A rowid table, not WITHOUT ROWID: rows are a few hundred bytes.
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
];
