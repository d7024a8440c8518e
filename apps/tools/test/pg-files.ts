// The files on disk of the accounts relation of a PostgreSQL store: its heap, its TOAST table and every index of
// both, each with all its segments and forks. Tests run as root beside the server, so they can read them.
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type pg from 'pg';

export interface RelationFile {
  relation: string;
  path: string;
  bytes: Buffer;
}

/** CHECKPOINT first, so that the files hold what PostgreSQL's buffers hold. */
export async function accountsRelationFiles(client: pg.Client, table: string): Promise<RelationFile[]> {
  await client.query('CHECKPOINT');
  const { rows } = await client.query<{ relation: string; path: string; datadir: string }>(
    `WITH t AS (SELECT c.oid, c.reltoastrelid FROM pg_class c WHERE c.oid = to_regclass($1))
     SELECT c.oid::regclass::text AS relation, pg_relation_filepath(c.oid) AS path,
            current_setting('data_directory') AS datadir
     FROM pg_class c, t
     WHERE c.oid IN (t.oid, t.reltoastrelid)
        OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN (t.oid, t.reltoastrelid))`,
    [table],
  );
  if (rows.length === 0) throw new Error(`no relation ${table}`);
  const files: RelationFile[] = [];
  for (const row of rows) {
    const main = join(row.datadir, row.path);
    // Segments (.1, .2 …) and forks (_fsm, _vm, _init) of the relation's file node.
    const pattern = new RegExp(`^${basename(main)}(?:_(?:fsm|vm|init))?(?:\\.\\d+)?$`);
    for (const name of readdirSync(dirname(main)).filter((n) => pattern.test(n))) {
      const path = join(dirname(main), name);
      files.push({ relation: row.relation, path, bytes: readFileSync(path) });
    }
  }
  return files;
}
