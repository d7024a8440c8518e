// The PostgreSQL the server's tests use (DATABASE_URL_TEST), a schema of one test file's own, and whether the
// database answers: when it does not, the file is skipped with a line saying why, unless REQUIRE_POSTGRES=1.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const POSTGRES_BASE_URL = process.env.DATABASE_URL_TEST ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh schema named `<prefix>_<random>`, and the database URL that selects it. */
export function freshSchema(prefix: string): { schema: string; databaseUrl: string } {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  const separator = POSTGRES_BASE_URL.includes('?') ? '&' : '?';
  return { schema, databaseUrl: `${POSTGRES_BASE_URL}${separator}schema=${schema}` };
}

/** True when PostgreSQL answers; otherwise false after a line naming `file` (or throws with REQUIRE_POSTGRES=1). */
export async function postgresAnswers(file: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_BASE_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch (error) {
    if (process.env.REQUIRE_POSTGRES === '1') throw error;
    console.log(`${file}: skipped, no PostgreSQL at DATABASE_URL_TEST (${(error as Error).message})`);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
