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
];
