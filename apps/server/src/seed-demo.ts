// Seeds the demo's pre-change accounts (records that still hold plaintext S3 keys) into DATABASE_URL.
// Idempotent; refuses to run in production. Used by the root `pnpm start`.
import { openAccountStore, seedLegacyAccounts } from '@lending/accounts';
import { legacyAccountSeeds } from '@lending/archive';
import { ConfigError, loadEnv } from './env';

async function seed(): Promise<void> {
  const config = await loadEnv();
  if (config.nodeEnv === 'production') {
    console.error('seed-demo: refusing to seed demo accounts with NODE_ENV=production');
    process.exit(1);
  }
  const store = await openAccountStore(config.databaseUrl);
  try {
    const added = await seedLegacyAccounts(store, legacyAccountSeeds());
    console.log(`seed-demo: ${added} legacy demo account(s) added (${store.kind})`);
  } finally {
    await store.close();
  }
}

seed().catch((error: unknown) => {
  console.error(
    `seed-demo: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
