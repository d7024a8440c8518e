import { openAccountStore } from '../store/open';
import { parseDatabaseUrl } from '../store/database-url';
import { PostgresAccountsAdmin } from './postgres';
import { SqliteAccountsAdmin } from './sqlite';
import type { AccountsAdmin } from './types';

/**
 * Opens the admin side of the store the URL names. The store is opened (and migrated) first, so the accounts
 * table exists even in a new database.
 */
export async function openAccountsAdmin(databaseUrl: string): Promise<AccountsAdmin> {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.kind === 'sqlite' && target.filename === ':memory:') {
    throw new Error(
      'The admin side needs a SQLite file: a store in memory belongs to the process that opened it',
    );
  }
  await (await openAccountStore(databaseUrl)).close();
  if (target.kind === 'sqlite') return new SqliteAccountsAdmin(target.filename);
  return PostgresAccountsAdmin.open(target.connectionString, target.schema);
}
