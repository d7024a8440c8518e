// Pre-change data: plaintext S3 keys inside account records. Only seeding (demo, benchmark) and tests write
// them; the live code never does (keys travel in the sealed `s3` cookie).
import { AccountExistsError } from './errors';
import type { AccountStore, S3Keys } from './types';

export interface LegacyAccountSeed {
  username: string;
  email: string;
  displayName: string;
  itemname: string;
  s3Keys: S3Keys;
}

/** Writes plaintext keys into an existing record (AccountNotFoundError when there is none). Seeding/tests only. */
export function saveS3Keys(store: AccountStore, username: string, keys: S3Keys): Promise<void> {
  return store.saveS3Keys(username, keys);
}

/**
 * Creates each seeded account, keys included, unless an account with that username already exists.
 * Idempotent: a second run creates nothing. Returns how many accounts were created.
 */
export async function seedLegacyAccounts(
  store: AccountStore,
  accounts: readonly LegacyAccountSeed[],
  now: () => Date = () => new Date(),
): Promise<number> {
  let created = 0;
  for (const seed of accounts) {
    if (await store.getByUsername(seed.username)) continue;
    try {
      await store.create({
        username: seed.username,
        email: seed.email,
        displayName: seed.displayName,
        status: 'active',
        itemname: seed.itemname,
        createdOn: now().toISOString(),
        lastLogin: null,
        s3Keys: { access: seed.s3Keys.access, secret: seed.s3Keys.secret },
      });
      created += 1;
    } catch (error) {
      // Another process seeded the same account between our read and our write.
      if (error instanceof AccountExistsError && error.field === 'username') continue;
      throw error;
    }
  }
  return created;
}
