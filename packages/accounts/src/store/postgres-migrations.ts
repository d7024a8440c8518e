// PostgreSQL schema, as versioned migrations. Append new versions; never edit an applied one.
// `{{accounts}}` is replaced by the (schema-qualified, quoted) table name.
import type { Migration } from './sqlite-migrations';

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'accounts',
    // The whole record (unknown fields and legacy s3Keys included) lives in `data`. The other columns are
    // derived lookup keys; s3Keys is deliberately in no column and no index (Open Library's store_index kept
    // a plaintext copy of every field). COLLATE "C": byte order, the same key order as SQLite, and faster
    // b-trees. fillfactor 90 leaves room on each page for HOT updates (lastLogin, the purge) that do not
    // touch any index. No partial index of key holders (SQLite has one): on 1M rows it did not speed the
    // purge here (the cost is writing the rows, not finding them) and it would make every update non-HOT.
    sql: `
      CREATE TABLE {{accounts}} (
        username    text COLLATE "C" NOT NULL,
        email_lower text COLLATE "C" NOT NULL,
        itemname    text COLLATE "C",
        revision    integer NOT NULL,
        data        jsonb NOT NULL,
        CONSTRAINT accounts_pkey PRIMARY KEY (username),
        CONSTRAINT accounts_email_lower_key UNIQUE (email_lower),
        CONSTRAINT accounts_itemname_key UNIQUE (itemname),
        CONSTRAINT accounts_data_is_object CHECK (jsonb_typeof(data) = 'object')
      ) WITH (fillfactor = 90);
    `,
  },
  {
    version: 2,
    name: 'accounts_sessions',
    // The account's live sessions (docs/ARCHITECTURE.md, "Sessions"): a jsonb array of {id, expiresAt}, read with
    // the record on every request; a column of its own so that logging in or out bumps no revision. A constant
    // default: no table rewrite (PostgreSQL 11+).
    sql: `ALTER TABLE {{accounts}} ADD COLUMN sessions jsonb NOT NULL DEFAULT '[]'::jsonb;`,
  },
];
