// `pnpm --filter @lending/tools seed`: fills a store with synthetic accounts, some holding legacy S3 keys.
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DEFAULT_DATABASE_URL, redactDatabaseUrl } from '@lending/accounts';
import { openAccountsAdmin } from '@lending/accounts/admin';
import {
  UsageError,
  asUsageError,
  checkDatabaseUrl,
  formatCount,
  formatDuration,
  parseIntegerFlag,
} from './cli-common';
import type { CliIo } from './cli-common';
import { countWithKeys, generateAccounts } from './seed';
import type { SeedOptions } from './seed';

export const SEED_USAGE = `Usage: pnpm --filter @lending/tools seed --accounts N --with-keys P [options]

Adds N synthetic accounts to a store (created and migrated if needed), P percent of them holding legacy
plaintext S3 keys (fake, random), for tests and the purge benchmark. Usernames carry a tag derived from the
seed, so seeding one store several times with different seeds adds distinct accounts.

Options:
  --accounts N          number of accounts to add (1..50000000)
  --with-keys P         percentage of them holding legacy keys (0..100)
  --database-url URL    sqlite:<path> or postgres://... (default: DATABASE_URL, else ${DEFAULT_DATABASE_URL})
  --seed S              random seed, for reproducible data (default: random)
  --json                print the summary as JSON on stdout
  -h, --help            show this help

Exit status: 0 done, 1 the database failed, 2 bad usage.
`;

const CHUNK = 5000;

export async function runSeedCli(
  argv: readonly string[],
  deps: { io: CliIo; defaultDatabaseUrl: string },
): Promise<number> {
  const { io } = deps;
  let options: SeedOptions & { databaseUrl: string; json: boolean };
  try {
    let values;
    try {
      ({ values } = parseArgs({
        args: [...argv],
        strict: true,
        allowPositionals: false,
        options: {
          accounts: { type: 'string' },
          'with-keys': { type: 'string' },
          'database-url': { type: 'string' },
          seed: { type: 'string' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      }));
    } catch (error) {
      throw asUsageError(error);
    }
    if (values.help) {
      io.stdout.write(SEED_USAGE);
      return 0;
    }
    const accounts = parseIntegerFlag('accounts', values.accounts, 1, 50_000_000);
    const withKeysPercent = parseIntegerFlag('with-keys', values['with-keys'], 0, 100);
    if (accounts === undefined) throw new UsageError('--accounts N is required');
    if (withKeysPercent === undefined) throw new UsageError('--with-keys P is required');
    const databaseUrl = values['database-url'] ?? deps.defaultDatabaseUrl;
    const target = checkDatabaseUrl(databaseUrl);
    if (target.kind === 'sqlite' && target.filename === ':memory:')
      throw new UsageError('seeding sqlite::memory: would be lost at exit');
    const seed = parseIntegerFlag('seed', values.seed, 0, 2 ** 32 - 1) ?? randomInt(2 ** 31);
    options = {
      accounts,
      withKeysPercent,
      seed,
      tag: seed.toString(36),
      databaseUrl,
      json: values.json ?? false,
    };
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`seed: ${error.message}\n\n${SEED_USAGE}`);
    return 2;
  }

  const shown = redactDatabaseUrl(options.databaseUrl);
  const started = performance.now();
  try {
    // The admin side creates the database and runs its migrations; the rows then go in by thousands.
    const admin = await openAccountsAdmin(options.databaseUrl);
    let written = 0;
    let lastLine = started;
    try {
      for (const chunk of generateAccounts(options, CHUNK)) {
        await admin.insertAccounts(chunk);
        written += chunk.length;
        const now = performance.now();
        if (now - lastLine >= 2000) {
          lastLine = now;
          io.stderr.write(`seed: ${formatCount(written)} of ${formatCount(options.accounts)} accounts\n`);
        }
      }
      await admin.analyze();
    } finally {
      await admin.close();
    }
  } catch (error) {
    io.stderr.write(`seed: failed on ${shown}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  const elapsedMs = performance.now() - started;
  const withKeys = countWithKeys(options);
  io.stderr.write(
    `Seeded ${formatCount(options.accounts)} accounts (${formatCount(withKeys)} with legacy keys) into ${shown} ` +
      `in ${formatDuration(elapsedMs)} (seed ${options.seed})\n`,
  );
  if (options.json) {
    io.stdout.write(
      JSON.stringify({
        database: shown,
        accounts: options.accounts,
        withKeys,
        seed: options.seed,
        tag: options.tag,
        elapsedMs: Math.round(elapsedMs),
      }) + '\n',
    );
  }
  return 0;
}
