// Entry point of `pnpm --filter @lending/tools seed`.
import { readEnv } from './env';
import { runSeedCli } from './seed-cli';

const env = readEnv();
process.exitCode = await runSeedCli(process.argv.slice(2), {
  io: { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
  defaultDatabaseUrl: env.DATABASE_URL,
});
